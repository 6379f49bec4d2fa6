//! `esia-link demo`, `esia-link bench` and the scripted browser: the mock
//! IdP, the published demo keys and secrets live here, behind the `demo`
//! cargo feature, so that a production build
//! (`cargo build --release --no-default-features`) contains none of them.

pub mod bench;
pub mod bench_access;
pub mod bench_apps;
pub mod bench_cli;
pub mod bench_roster;
pub mod bench_school;
pub mod browser;
pub mod diary_app;
pub mod journeys;
pub mod page;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::ops::roster::{seed, DEMO_ROSTER};
use crate::startup::Application;
use config::{Config, ConfigError, ProviderProfile, Secret, SignerConfig};

/// The demo overlay: published demo secrets and the mock IdP's providers.
pub const DEMO_TOML: &str = include_str!("../../config/demo.toml");
/// The demo client key published with the mock IdP (not a secret).
pub const DEMO_CLIENT_KEY: &str = include_str!("../../mock-idp/demo/client-key.pem");

/// Built-in default + demo overlay (+ `file`, + the environment).
pub fn demo_layers(file: Option<&Path>) -> Result<Config, ConfigError> {
    Config::load_layers(Some(DEMO_TOML), file, std::env::vars())
}

/// Built-in default + demo overlay, without the environment (tests).
pub fn demo_base_config() -> Result<Config, ConfigError> {
    Config::load_layers(Some(DEMO_TOML), None, Vec::<(String, String)>::new())
}

/// Points `base` at a service reachable at `service_url`, a mock IdP at
/// `idp_url` and the database `database_url`; the ESIA provider reads the
/// mock's signing certificates from `esia_certificates` (as with real ESIA:
/// no JWKS) and signs with the demo RSA key.
pub fn demo_config(
    mut base: Config,
    service_url: &str,
    idp_url: &str,
    database_url: &str,
    esia_certificates: &Path,
) -> Config {
    base.server.public_url = service_url.trim_end_matches('/').to_string();
    base.database.url = Secret::new(database_url);
    let idp = idp_url.trim_end_matches('/');
    for provider in &mut base.providers {
        provider.issuer = idp.to_string();
        if provider.profile == ProviderProfile::Esia {
            provider.authorize_url = Some(format!("{idp}/aas/oauth2/v2/ac"));
            provider.token_url = Some(format!("{idp}/aas/oauth2/v3/te"));
            provider.api_url = Some(format!("{idp}/rs"));
            provider.jwks_url = None;
            provider.certificates = vec![esia_certificates.display().to_string()];
            provider.client_certificate_hash = Some(mock_idp::demo_certificate_hash());
            provider.signer = Some(SignerConfig::RsaKeyPem {
                key_pem: Secret::new(DEMO_CLIENT_KEY),
            });
        }
    }
    base
}

/// ESIA the way most systems are registered today: GOST-signed id_tokens,
/// and the client signature made by an external command — here this
/// binary's `demo-gost-sign` (`signer_program`), standing in for CryptoPro.
pub fn use_gost(config: &mut Config, signer_program: &Path) {
    for provider in &mut config.providers {
        if provider.profile == ProviderProfile::Esia {
            provider.id_token_algs = vec!["GOST3410_2012_256".into()];
            provider.signer = Some(SignerConfig::Command {
                program: signer_program.display().to_string(),
                args: vec!["demo-gost-sign".into()],
                timeout_ms: 5000,
            });
        }
    }
}

/// Writes the mock's current ESIA signing certificates where the demo
/// configuration reads them.
pub fn write_esia_certificates(idp: &mock_idp::MockIdp, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, idp.esia_certificates_pem())
}

/// The mock IdP's clients for a service at `service_url` with `config`'s
/// providers: the GOST client when the ESIA signer is a command.
pub fn demo_clients(config: &Config) -> Vec<mock_idp::Client> {
    let base = config.server.public_url.trim_end_matches('/');
    config
        .providers
        .iter()
        .map(|p| {
            let redirect = vec![format!("{base}/auth/callback/{}", p.id)];
            match (p.profile, &p.signer) {
                (ProviderProfile::Esia, Some(SignerConfig::Command { .. })) => {
                    mock_idp::demo_esia_gost_client(redirect)
                }
                (ProviderProfile::Esia, _) => mock_idp::demo_esia_client(redirect),
                (ProviderProfile::Oidc, _) => mock_idp::demo_oidc_client(redirect),
            }
        })
        .collect()
}

/// `esia-link demo-gost-sign`: the signer command contract with the demo's
/// published GOST key — the string on stdin, base64url of the 64-byte raw
/// signature (s‖r, big-endian: what ESIA wants after reversing CryptoPro's
/// output) on stdout.
pub fn gost_sign_stdin() -> anyhow::Result<()> {
    use base64::Engine;
    use std::io::Read;
    let mut message = Vec::new();
    std::io::stdin().read_to_end(&mut message)?;
    let signature = mock_idp::demo_gost_client_private_key().sign(&message);
    println!(
        "{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
    );
    Ok(())
}

/// Where the demo listens and keeps its database.
pub struct DemoOptions {
    pub host: IpAddr,
    pub port: u16,
    pub idp_port: u16,
    /// The demo diary app's port.
    pub app_port: u16,
    pub database: PathBuf,
    /// GOST-signed tokens and the client signature by an external command.
    pub gost: bool,
}

/// Marks a demo database as in use by a running demo: holds our pid; a
/// second demo finding a live pid there leaves the database alone.
struct DemoLock {
    path: PathBuf,
}

impl DemoLock {
    fn acquire(database: &Path) -> anyhow::Result<DemoLock> {
        let path = PathBuf::from(format!("{}.lock", database.display()));
        if let Ok(pid) = std::fs::read_to_string(&path) {
            let pid = pid.trim();
            if !pid.is_empty()
                && pid != std::process::id().to_string()
                && Path::new(&format!("/proc/{pid}")).exists()
            {
                anyhow::bail!(
                    "another demo (process {pid}) is using {}; stop it first or pass --database",
                    database.display()
                );
            }
        }
        std::fs::write(&path, std::process::id().to_string())?;
        Ok(DemoLock { path })
    }
}

impl Drop for DemoLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub async fn run(config_file: Option<&Path>, options: DemoOptions) -> anyhow::Result<()> {
    let base = demo_layers(config_file)?;
    crate::logging::init(&base.log);
    // Ports first: a second demo must fail before it touches anything.
    let service_addr = SocketAddr::new(options.host, options.port);
    let listener = tokio::net::TcpListener::bind(service_addr)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {service_addr} ({e}); is a demo already running? Try --port"
            )
        })?;
    let shown_host = if options.host.is_unspecified() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        options.host
    };
    let service_url = format!("http://{}", SocketAddr::new(shown_host, options.port));
    let idp_url = format!("http://{}", SocketAddr::new(shown_host, options.idp_port));
    let database_url = format!("sqlite://{}?mode=rwc", options.database.display());
    let certificates = PathBuf::from(format!(
        "{}.esia-certificates.pem",
        options.database.display()
    ));
    let mut config = demo_config(base, &service_url, &idp_url, &database_url, &certificates);
    config.server.listen = service_addr;
    let app_listener =
        tokio::net::TcpListener::bind(SocketAddr::new(options.host, options.app_port))
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen on port {} for the demo diary app ({e}); try --app-port",
                    options.app_port
                )
            })?;
    let app_url = format!("http://{}", SocketAddr::new(shown_host, options.app_port));
    diary_app::register(&mut config, &app_url);
    if options.gost {
        use_gost(&mut config, &std::env::current_exe()?);
    }

    let idp = mock_idp::spawn(mock_idp::MockIdpConfig {
        bind: SocketAddr::new(options.host, options.idp_port),
        clients: demo_clients(&config),
        esia_alg: if options.gost {
            mock_idp::EsiaAlg::Gost3410_2012_256
        } else {
            mock_idp::EsiaAlg::Rs256
        },
        ..mock_idp::MockIdpConfig::default()
    })
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot start the mock IdP on port {} ({e}); is a demo already running? Try --idp-port",
            options.idp_port
        )
    })?;

    if let Some(dir) = options.database.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _lock = DemoLock::acquire(&options.database)?;
    // A fresh demo every start: yesterday's links would hide today's outcomes.
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", options.database.display());
        if Path::new(&file).exists() {
            std::fs::remove_file(&file)?;
        }
    }

    write_esia_certificates(&idp, &certificates)?;
    // The demo's own clock: /demo moves it forward (see `page`).
    let clock = std::sync::Arc::new(app::clock::SettableClock::default());
    let app = Application::build_on_clock(config, listener, clock.clone()).await?;
    let seeded = seed(&app.state(), &app.store(), DEMO_ROSTER, "system:demo").await?;
    let invitations =
        demo_invitations(&app.state(), &app.store(), &service_url, &options.database).await?;
    diary_app::spawn(app_listener, &service_url)?;
    journeys::seed_journeys(&app.state(), &app.store(), &clock).await?;
    let guide = journeys::guide(&app.state(), &app.store()).await?;

    println!();
    println!("esia-link demo is running.");
    println!();
    println!("  Open:      {service_url}/?region=29");
    println!("  Who shows what, and the demo's clock: {service_url}/demo");
    println!(
        "  ESIA mode: {} (id_token signatures; client signature {})",
        if options.gost {
            "GOST3410_2012_256"
        } else {
            "RS256"
        },
        if options.gost {
            "by the external command `esia-link demo-gost-sign`"
        } else {
            "by the built-in RSA demo key"
        }
    );
    println!(
        "  Mock IdP:  {} (every password is \"demo\")",
        idp.base_url()
    );
    println!(
        "  Seeded:    {} schools, {} diary accounts (SQLite {})",
        seeded.schools,
        seeded.accounts,
        options.database.display()
    );
    println!();
    println!("  Click «Войти через Госуслуги», then log in at the mock as:");
    println!();
    println!("  {:<12} {:<18} note", "login", "outcome");
    for person in mock_idp::shipped_persons() {
        // The family journey linked Новикова already (journeys.rs).
        let outcome = if person.login == journeys::PARENT {
            "logged_in"
        } else {
            person.expect.as_deref().unwrap_or("-")
        };
        println!(
            "  {:<12} {:<18} {}",
            person.login,
            outcome,
            person.note.as_deref().unwrap_or("")
        );
    }
    println!();
    println!("  The journeys ({service_url}/demo lists them in Russian and moves the clock):");
    println!(
        "    novikova      parent of {} — two confirmed children, in two regions",
        guide
            .children
            .iter()
            .map(|(name, school)| format!("{name} ({school})"))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    println!(
        "    grandma       {}, trusted person: {}'s diary open; {}'s invitation awaits her answer",
        guide.grandmother, guide.open_child, guide.pending_child
    );
    println!(
        "    school_admin  {}, administrator of {}: open /school",
        guide.school_admin, guide.school_admin_school
    );
    println!(
        "    operator      {}, support operator: open /ops",
        guide.operator
    );
    println!(
        "  After grandma accepts, press «+24 ч» on {service_url}/demo to see the access open."
    );
    println!();
    println!("  Press «Отказать» on the consent page to see idp_error (ESIA-007004).");
    println!();
    println!("  Activation (school side → person side): invitation sheets with one-time codes");
    println!(
        "  for «{}» are in {} (PDF: {}).",
        invitations.school,
        invitations.sheets.display(),
        invitations.pdf.display()
    );
    println!("  Попова Елена (mock login «popova», no SNILS at State Services) activates with");
    println!(
        "    {service_url}/activate?code={}",
        invitations.popova_code
    );
    println!(
        "  E-mails (the confirmation link) go to {}.",
        invitations.outbox.display()
    );
    println!("  Then log in as «popova» via State Services: the snils_missing page offers");
    println!("  «Связать по логину и паролю дневника» — the next login goes straight in.");
    println!();
    println!("  Operators: log in as «operator» and open {service_url}/ops to look up the");
    println!("  reference code a failure page shows, or on the command line:");
    println!("    cargo run --release -- diagnose --demo <reference code>      (add --lang en for English)");
    println!("  The diary's own apps: the demo diary app at {app_url}/ signs in through");
    println!("  esia-link as its OpenID Provider ({service_url}/.well-known/openid-configuration)");
    println!("  and lists the children the token lets it see.");
    println!("  Ctrl+C stops them all.");
    println!();
    let demo_routes = page::router(clock, app.store(), guide);
    app.run_with_routes(demo_routes).await
}

struct DemoInvitations {
    /// The school the sheets are for, as the banner names it.
    school: String,
    sheets: PathBuf,
    pdf: PathBuf,
    popova_code: String,
    outbox: PathBuf,
}

/// Codes for every pending account of Popova's school, through the same
/// use case and sheet printer a school uses; the outbox starts empty.
async fn demo_invitations(
    app: &app::App,
    store: &store::Store,
    service_url: &str,
    database: &std::path::Path,
) -> anyhow::Result<DemoInvitations> {
    let dir = database
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let outbox = app.config().notify.dir.join("outbox.jsonl");
    let _ = std::fs::remove_file(&outbox);
    let popova = store
        .find_account_by_login("popova.ev")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo roster has popova.ev"))?;
    let school_id = popova
        .school_id
        .ok_or_else(|| anyhow::anyhow!("popova.ev has a school"))?;
    let school = app.school().get(school_id).await?;
    let mut html = crate::ops::sheets::header(&school.name);
    let mut pdf = crate::ops::sheets_pdf::SheetsPdf::new(&school.name)?;
    let mut popova_code = String::new();
    let mut sink = |batch: &[app::school::IssuedCode]| {
        for issued in batch {
            let url = format!("{service_url}/activate?code={}", issued.code);
            html.push_str(&crate::ops::sheets::sheet(issued, &school.name, &url));
            pdf.add(issued, &school.name, &url);
            if issued.target.account_id == popova.id {
                popova_code = issued.code.to_string();
            }
        }
    };
    app.school()
        .issue_codes(
            school_id,
            &app::school::CodeScope::default(),
            app.config().activation.code_days,
            "system:demo",
            &mut sink,
        )
        .await?;
    html.push_str(crate::ops::sheets::FOOTER);
    let sheets = dir.join("demo-invitations.html");
    std::fs::write(&sheets, html)?;
    let pdf_path = dir.join("demo-invitations.pdf");
    std::fs::write(&pdf_path, pdf.finish()?)?;
    Ok(DemoInvitations {
        school: school.name.clone(),
        sheets,
        pdf: pdf_path,
        popova_code,
        outbox,
    })
}
