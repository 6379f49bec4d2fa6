//! `mock-idp`: run the mock IdP standalone, or rotate keys of a running one.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mock_idp::{
    demo_esia_client, demo_esia_gost_client, demo_oidc_client, load_persons, shipped_persons, Alg,
    EsiaAlg, MockIdpConfig,
};

#[derive(Parser)]
#[command(
    name = "mock-idp",
    version,
    about = "ESIA-style and OIDC mock identity provider for tests and demos"
)]
struct Cli {
    #[arg(long, default_value_t = 8090)]
    port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Persons file (default: the shipped mock-idp/persons.toml).
    #[arg(long)]
    persons: Option<PathBuf>,
    /// The `iss` of tokens (default: the base URL).
    #[arg(long)]
    issuer: Option<String>,
    /// Token for /admin endpoints. The default is a published demo value.
    #[arg(long, default_value = "demo-admin-token")]
    admin_token: String,
    /// Redirect URIs of the demo clients (repeatable).
    #[arg(long = "redirect-uri", default_values_t = ["http://127.0.0.1:8080/auth/callback/esia".to_string(), "http://127.0.0.1:8080/auth/callback/oidc".to_string()])]
    redirect_uris: Vec<String>,
    /// OIDC profile signing algorithm (JWKS): RS256 or ES256.
    #[arg(long, default_value = "RS256")]
    alg: String,
    /// ESIA profile token algorithm (certificates): RS256 or GOST3410_2012_256.
    #[arg(long, default_value = "RS256")]
    esia_alg: String,
    /// The demo ESIA client signs client_secret with the demo GOST key
    /// (demo/client-gost-key.hex) instead of the RSA one.
    #[arg(long)]
    gost_client: bool,
    /// Single sign-on: a login is remembered in the browser until /idp/ext/Logout.
    #[arg(long)]
    sso: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Rotate the signing key of a running mock through its admin API.
    RotateKey {
        #[arg(long, default_value = "http://127.0.0.1:8090")]
        url: String,
        #[arg(long, default_value = "demo-admin-token")]
        admin_token: String,
        /// Drop the old key from the JWKS at once (default: keep it).
        #[arg(long)]
        drop_old: bool,
        #[arg(long)]
        alg: Option<String>,
        /// Rotate the ESIA profile's certificate key instead (`--alg` RS256
        /// or GOST3410_2012_256).
        #[arg(long)]
        esia: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::RotateKey {
        url,
        admin_token,
        drop_old,
        alg,
        esia,
    }) = cli.command
    {
        let (path, body) = if esia {
            let alg =
                match alg.as_deref() {
                    Some(text) => Some(EsiaAlg::parse(text).ok_or_else(|| {
                        anyhow::anyhow!("--alg must be RS256 or GOST3410_2012_256")
                    })?),
                    None => None,
                };
            (
                "/admin/esia/keys/rotate",
                serde_json::json!({"keep_old": !drop_old, "alg": alg}),
            )
        } else {
            (
                "/admin/keys/rotate",
                serde_json::json!({"keep_old": !drop_old, "alg": alg.as_deref().and_then(Alg::parse)}),
            )
        };
        let answer =
            reqwest_like_post(&format!("{url}{path}"), &admin_token, &body.to_string()).await?;
        println!("{answer}");
        return Ok(());
    }
    tracing_subscriber::fmt().with_env_filter("info").init();
    let persons = match &cli.persons {
        Some(path) => load_persons(path)?,
        None => shipped_persons(),
    };
    let signing_alg =
        Alg::parse(&cli.alg).ok_or_else(|| anyhow::anyhow!("--alg must be RS256 or ES256"))?;
    let esia_alg = EsiaAlg::parse(&cli.esia_alg)
        .ok_or_else(|| anyhow::anyhow!("--esia-alg must be RS256 or GOST3410_2012_256"))?;
    let (esia, oidc): (Vec<_>, Vec<_>) = cli
        .redirect_uris
        .iter()
        .cloned()
        .partition(|u| !u.ends_with("/oidc"));
    let idp = mock_idp::spawn(MockIdpConfig {
        bind: (cli.bind, cli.port).into(),
        issuer: cli.issuer,
        persons: persons.clone(),
        clients: vec![
            if cli.gost_client {
                demo_esia_gost_client(esia)
            } else {
                demo_esia_client(esia)
            },
            demo_oidc_client(oidc),
        ],
        admin_token: cli.admin_token,
        signing_alg,
        esia_alg,
        sso: cli.sso,
    })
    .await?;
    println!("mock IdP at {} (issuer {})", idp.base_url(), idp.issuer());
    println!(
        "ESIA tokens {}; certificate at {}/esia/certificates.pem (mock-only endpoint)",
        esia_alg.as_str(),
        idp.base_url()
    );
    println!(
        "{:<12} {:<40} {:<11} {:<16} expected outcome",
        "login", "name", "tier", "SNILS"
    );
    for p in &persons {
        let name = format!(
            "{} {} {}",
            p.surname,
            p.given_name,
            p.patronymic.clone().unwrap_or_default()
        );
        println!(
            "{:<12} {:<40} {:<11} {:<16} {}",
            p.login,
            name.trim(),
            p.tier.as_str(),
            p.snils.clone().unwrap_or_else(|| "-".into()),
            p.expect.clone().unwrap_or_default()
        );
    }
    idp.wait().await;
    Ok(())
}

/// A minimal HTTP/1.1 POST over a TCP stream: the binary needs no HTTP client crate.
async fn reqwest_like_post(url: &str, token: &str, body: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let parsed = url::Url::parse(url)?;
    let host = parsed
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("URL has no host"))?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let mut stream = tokio::net::TcpStream::connect((host, port)).await?;
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        parsed.path(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or(&answer)
        .to_string())
}
