//! `esia-link demo`: the service and an embedded mock IdP on the embedded
//! default, with a demo roster in which every link outcome is reachable.

use std::path::Path;

use crate::config::{Config, ProviderProfile, Secret, SignerConfig};
use crate::startup::Application;

/// The demo client key published with the mock IdP (not a secret).
pub const DEMO_CLIENT_KEY: &str = include_str!("../../mock-idp/demo/client-key.pem");

/// Points `base` at a service reachable at `service_url`, a mock IdP at
/// `idp_url` and the database `database_url`, signing with the demo key.
pub fn demo_config(
    mut base: Config,
    service_url: &str,
    idp_url: &str,
    database_url: &str,
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
            provider.jwks_url = Some(format!("{idp}/jwks"));
            provider.client_certificate_hash = Some(mock_idp::demo_certificate_hash());
            provider.signer = Some(SignerConfig::RsaKeyPem {
                key_pem: Secret::new(DEMO_CLIENT_KEY),
            });
        }
    }
    base
}

/// The mock IdP's clients for a service at `service_url` with `config`'s providers.
pub fn demo_clients(config: &Config) -> Vec<mock_idp::Client> {
    let base = config.server.public_url.trim_end_matches('/');
    config
        .providers
        .iter()
        .map(|p| {
            let redirect = vec![format!("{base}/auth/callback/{}", p.id)];
            match p.profile {
                ProviderProfile::Esia => mock_idp::demo_esia_client(redirect),
                ProviderProfile::Oidc => mock_idp::demo_oidc_client(redirect),
            }
        })
        .collect()
}

pub async fn run(
    config_file: Option<&Path>,
    port: u16,
    idp_port: u16,
    database: &Path,
) -> anyhow::Result<()> {
    let base = Config::load(config_file)?;
    crate::logging::init(&base.log);
    if let Some(dir) = database.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A fresh demo every start: yesterday's links would hide today's outcomes.
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", database.display());
        if Path::new(&file).exists() {
            std::fs::remove_file(&file)?;
        }
    }
    let service_url = format!("http://127.0.0.1:{port}");
    let idp_url = format!("http://127.0.0.1:{idp_port}");
    let database_url = format!("sqlite://{}?mode=rwc", database.display());
    let mut config = demo_config(base, &service_url, &idp_url, &database_url);
    config.server.listen = ([127, 0, 0, 1], port).into();

    let idp = mock_idp::spawn(mock_idp::MockIdpConfig {
        bind: ([127, 0, 0, 1], idp_port).into(),
        clients: demo_clients(&config),
        ..mock_idp::MockIdpConfig::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!("cannot start the mock IdP on port {idp_port}: {e}"))?;

    let app = Application::build(config).await?;
    let seeded = super::roster::seed(
        &app.state().store,
        super::roster::DEMO_ROSTER,
        "system:demo",
    )
    .await?;

    println!();
    println!("esia-link demo is running.");
    println!();
    println!("  Open:      {service_url}/?region=29");
    println!(
        "  Mock IdP:  {} (every password is \"demo\")",
        idp.base_url()
    );
    println!(
        "  Seeded:    {} schools, {} diary accounts (SQLite {})",
        seeded.schools,
        seeded.accounts,
        database.display()
    );
    println!();
    println!("  Click «Войти через Госуслуги», then log in at the mock as:");
    println!();
    println!("  {:<12} {:<18} note", "login", "outcome");
    for person in mock_idp::shipped_persons() {
        println!(
            "  {:<12} {:<18} {}",
            person.login,
            person.expect.as_deref().unwrap_or("-"),
            person.note.as_deref().unwrap_or("")
        );
    }
    println!();
    println!("  Press «Отказать» on the consent page to see idp_error (ESIA-007004).");
    println!("  Ctrl+C stops both.");
    println!();
    app.run_until_stopped().await
}
