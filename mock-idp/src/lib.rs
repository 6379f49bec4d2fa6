//! mock-idp: an ESIA-style and OIDC-standard identity provider for tests,
//! demos and operator training. A client that works against it needs only
//! configuration to work against the real ESIA. See README.md.

// Handlers return `Result<_, Response>` so that an early exit is the answer
// itself; boxing every such response would only add noise.
#![allow(clippy::result_large_err)]

mod admin;
mod der;
mod esia;
pub mod esia_keys;
mod hostile;
pub mod keys;
mod oidc;
mod pages;
pub mod persons;
mod rsa_key;
mod state;
mod tokens;
mod wording;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::extract::{Request, State as AxState};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;

pub use esia_keys::{demo_gost_client_private_key, gost_client_secret, EsiaAlg};
pub use keys::Alg;
pub use persons::{
    load_persons, parse_persons, shipped_persons, Contact, Document, Kid, Person, Tier,
};
use state::{read, write, Shared, State};
pub use state::{Client, ClientKey, Fault};

/// The demo client key pair and certificate hash published in `demo/`.
pub const DEMO_CLIENT_PUBLIC_KEY: &str = include_str!("../demo/client-pub.pem");
const DEMO_CERT_HASH: &str = include_str!("../demo/client-cert-hash.txt");

pub fn demo_certificate_hash() -> String {
    DEMO_CERT_HASH.trim().to_string()
}

const DEMO_ESIA_SCOPES: &str = "openid fullname birthdate gender snils email mobile contacts id_doc kid_fullname kid_birthdate kid_gender kid_snils";

/// The ESIA-profile client of `esia-link demo` (client_id `ESIA-LINK-DEMO`),
/// checking `client_secret` with the demo RSA key (legacy test setups).
pub fn demo_esia_client(redirect_uris: Vec<String>) -> Client {
    Client {
        client_id: "ESIA-LINK-DEMO".into(),
        redirect_uris,
        allowed_scopes: DEMO_ESIA_SCOPES
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        key: Some(ClientKey::Rsa {
            public_key_pem: DEMO_CLIENT_PUBLIC_KEY.to_string(),
        }),
        certificate_hash: Some(demo_certificate_hash()),
        secret: None,
        require_pkce: false,
    }
}

/// The same client (`ESIA-LINK-DEMO`, same certificate hash) checking
/// `client_secret` as real ESIA does: a raw GOST signature in CryptoPro's
/// byte order, with the public key of [`demo_gost_client_private_key`].
pub fn demo_esia_gost_client(redirect_uris: Vec<String>) -> Client {
    let public = demo_gost_client_private_key().public_key().to_le_bytes();
    Client {
        key: Some(ClientKey::Gost {
            public_key_hex: hex::encode(public),
        }),
        ..demo_esia_client(redirect_uris)
    }
}

/// The OIDC-profile client of `esia-link demo` (client_id `esia-link-oidc`).
pub fn demo_oidc_client(redirect_uris: Vec<String>) -> Client {
    Client {
        client_id: "esia-link-oidc".into(),
        redirect_uris,
        allowed_scopes: vec![
            "openid".into(),
            "profile".into(),
            "snils".into(),
            "birthdate".into(),
        ],
        key: None,
        certificate_hash: None,
        secret: Some("demo-oidc-secret".into()),
        require_pkce: true,
    }
}

#[derive(Clone)]
pub struct MockIdpConfig {
    pub bind: SocketAddr,
    /// Defaults to the base URL (`http://127.0.0.1:PORT`).
    pub issuer: Option<String>,
    pub persons: Vec<Person>,
    pub clients: Vec<Client>,
    pub admin_token: String,
    /// The OIDC profile's signing algorithm (JWKS).
    pub signing_alg: Alg,
    /// The ESIA profile's token algorithm (certificates, no JWKS).
    pub esia_alg: EsiaAlg,
    /// Single sign-on: a login sets an HttpOnly session cookie, and the next
    /// authorize request in that browser goes straight to consent;
    /// `/idp/ext/Logout` ends it. Off by default.
    pub sso: bool,
}

impl Default for MockIdpConfig {
    fn default() -> Self {
        MockIdpConfig {
            bind: ([127, 0, 0, 1], 0).into(),
            issuer: None,
            persons: shipped_persons(),
            clients: Vec::new(),
            admin_token: "demo-admin-token".into(),
            signing_alg: Alg::Rs256,
            esia_alg: EsiaAlg::Rs256,
            sso: false,
        }
    }
}

/// A running mock IdP. Dropping the handle leaves it running; `shutdown` stops it.
pub struct MockIdp {
    state: State,
    server: tokio::task::JoinHandle<()>,
}

impl MockIdp {
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    pub fn admin_token(&self) -> String {
        self.state.admin_token.clone()
    }

    pub fn set_fault(&self, fault: Fault) {
        *write(&self.state.fault) = Some(fault);
    }

    pub fn clear_faults(&self) {
        *write(&self.state.fault) = None;
        *write(&self.state.latency) = Duration::ZERO;
    }

    /// RFC 9207 on or off: discovery advertises
    /// `authorization_response_iss_parameter_supported` and every
    /// authorization response (code or error) carries `iss`. Off by default.
    pub fn set_iss_parameter(&self, on: bool) {
        self.state
            .iss_parameter
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Requests to the token endpoints (both profiles) so far.
    pub fn token_calls(&self) -> u64 {
        self.state
            .calls
            .token
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests to the OIDC userinfo endpoint so far.
    pub fn userinfo_calls(&self) -> u64 {
        self.state
            .calls
            .userinfo
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests to ESIA person data (`/rs/prns/...`) so far.
    pub fn person_calls(&self) -> u64 {
        self.state
            .calls
            .person
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Delays every non-admin response.
    pub fn set_latency(&self, latency: Duration) {
        *write(&self.state.latency) = latency;
    }

    /// The ESIA profile's signing certificates (active first), concatenated
    /// PEM: what a relying party is handed instead of a JWKS.
    pub fn esia_certificates_pem(&self) -> String {
        read(&self.state.esia_keys).certificates_pem()
    }

    /// The ESIA profile's token algorithm now.
    pub fn esia_alg(&self) -> EsiaAlg {
        read(&self.state.esia_keys).active.alg()
    }

    /// A new ESIA signing key and certificate; the old one stays published
    /// when `keep_old`.
    pub fn rotate_esia_key(&self, alg: EsiaAlg, keep_old: bool) {
        let now = self.state.now();
        if let Err(e) = write(&self.state.esia_keys).rotate(alg, keep_old, now) {
            tracing::error!(error = %e, "ESIA key rotation failed");
        }
    }

    /// [`MockIdp::rotate_esia_key`] with a certificate issued at `issued`
    /// (valid from a day before to a year after): a certificate that is
    /// expired or not yet valid, for the relying party's date checks.
    pub fn rotate_esia_key_issued_at(
        &self,
        alg: EsiaAlg,
        keep_old: bool,
        issued: chrono::DateTime<chrono::Utc>,
    ) {
        if let Err(e) = write(&self.state.esia_keys).rotate(alg, keep_old, issued) {
            tracing::error!(error = %e, "ESIA key rotation failed");
        }
    }

    /// How many times `/idp/ext/Logout` succeeded.
    pub fn logout_count(&self) -> u64 {
        self.state
            .logouts
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A new OIDC signing key; the old one stays in the JWKS when `keep_old`.
    /// The ESIA profile's keys are separate: see [`MockIdp::rotate_esia_key`].
    pub fn rotate_key(&self, alg: Alg, keep_old: bool) -> String {
        write(&self.state.keys)
            .rotate(alg, keep_old)
            .unwrap_or_else(|_| read(&self.state.keys).active.kid.clone())
    }

    pub fn set_clients(&self, clients: Vec<Client>) {
        *write(&self.state.clients) = clients;
    }

    pub fn upsert_client(&self, client: Client) {
        let mut clients = write(&self.state.clients);
        clients.retain(|c| c.client_id != client.client_id);
        clients.push(client);
    }

    /// Moves the mock's clock forward (codes and tokens expire).
    pub fn advance_clock(&self, by: Duration) {
        let mut offset = write(&self.state.clock_offset);
        *offset += chrono::Duration::from_std(by).unwrap_or_default();
    }

    /// Stops accepting connections.
    pub fn shutdown(&self) {
        self.server.abort();
    }

    /// Waits until the server stops (the binary uses this).
    pub async fn wait(self) {
        let _ = self.server.await;
    }
}

async fn latency(AxState(state): AxState<State>, request: Request, next: Next) -> Response {
    let delay = *read(&state.latency);
    if !delay.is_zero() && !request.uri().path().starts_with("/admin") {
        tokio::time::sleep(delay).await;
    }
    next.run(request).await
}

/// `GET /esia/certificates.pem`: a mock-only convenience, not an ESIA
/// endpoint (real ESIA hands its certificate out of band).
async fn esia_certificates(AxState(state): AxState<State>) -> Response {
    use axum::response::IntoResponse;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/x-pem-file; charset=utf-8",
        )],
        read(&state.esia_keys).certificates_pem(),
    )
        .into_response()
}

fn router(state: State) -> Router {
    Router::new()
        .route("/aas/oauth2/v2/ac", get(esia::authorize))
        .route("/aas/oauth2/v3/te", post(esia::token))
        .route("/aas/login", post(pages::login))
        .route("/aas/consent", post(pages::consent))
        .route("/rs/prns/{oid}", get(esia::person))
        .route("/rs/prns/{oid}/{collection}", get(esia::collection))
        .route("/idp/ext/Logout", get(esia::logout))
        .route("/esia/certificates.pem", get(esia_certificates))
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/jwks", get(oidc::jwks))
        .route("/oidc/authorize", get(oidc::authorize))
        .route("/oidc/token", post(oidc::token))
        .route("/oidc/userinfo", get(oidc::userinfo))
        .route("/admin/keys/rotate", post(admin::rotate))
        .route("/admin/esia/keys/rotate", post(admin::rotate_esia))
        .route(
            "/admin/faults",
            put(admin::set_faults).delete(admin::clear_faults),
        )
        .route("/admin/clients/{client_id}", put(admin::put_client))
        .route("/admin/clock", post(admin::clock))
        .layer(axum::middleware::from_fn_with_state(state.clone(), latency))
        .with_state(state)
}

/// Binds `config.bind` (port 0 picks one) and serves in a background task.
pub async fn spawn(config: MockIdpConfig) -> anyhow::Result<MockIdp> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let address = listener.local_addr()?;
    let base_url = format!("http://{address}");
    let state = Arc::new(Shared {
        issuer: config.issuer.clone().unwrap_or_else(|| base_url.clone()),
        base_url,
        admin_token: config.admin_token,
        persons: config.persons,
        clients: RwLock::new(config.clients),
        keys: RwLock::new(keys::KeyRing::new(config.signing_alg)?),
        esia_keys: RwLock::new(esia_keys::EsiaKeyRing::new(
            config.esia_alg,
            chrono::Utc::now(),
        )?),
        sso: config.sso,
        sessions: Mutex::new(HashMap::new()),
        logouts: std::sync::atomic::AtomicU64::new(0),
        fault: RwLock::new(None),
        iss_parameter: std::sync::atomic::AtomicBool::new(false),
        calls: state::Calls::default(),
        latency: RwLock::new(Duration::ZERO),
        clock_offset: RwLock::new(chrono::Duration::zero()),
        pending: Mutex::new(HashMap::new()),
        codes: Mutex::new(HashMap::new()),
    });
    let app = router(state.clone());
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "mock IdP stopped");
        }
    });
    Ok(MockIdp { state, server })
}
