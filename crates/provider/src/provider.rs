//! The provider as configured: issuer, keys, clients, the subject key and
//! token lifetimes, checked together at startup. Every protocol function
//! of this crate hangs off [`Provider`], so the web layer holds one value.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use url::{Host, Url};

use crate::client_auth::SecretCache;
use crate::clients::{ClientConfig, Clients};
use crate::errors::{Error, Result};
use crate::jws::SigningAlg;
use crate::keys::{KeyConfig, KeySet};
use crate::tokens::{SignedHere, SubjectKey};

/// `[provider]` in the configuration.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// `https://…` without a trailing slash; every endpoint hangs below it.
    /// Empty: the service fills in its own public URL.
    #[serde(default)]
    pub issuer: String,
    /// Secret of at least 32 bytes behind pairwise `sub` values; keep it
    /// forever (changing it changes every pairwise subject).
    #[serde(serialize_with = "masked")]
    pub subject_key: String,
    pub signing_keys: Vec<KeyConfig>,
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    #[serde(default)]
    pub lifetimes: Lifetimes,
    /// ES256 by default: an RS256 signature costs about twenty times more
    /// CPU, and every sign-in and refresh signs an access token.
    #[serde(default = "default_access_token_alg")]
    pub access_token_alg: SigningAlg,
    /// `aud` of access tokens: the diary back ends' identifier (default:
    /// the issuer).
    #[serde(default)]
    pub access_token_audience: Option<String>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("issuer", &self.issuer)
            .field("subject_key", &"(redacted)")
            .field("signing_keys", &self.signing_keys.len())
            .field("clients", &self.clients.len())
            .field("lifetimes", &self.lifetimes)
            .finish_non_exhaustive()
    }
}

/// Prints a secret as `********` (`config show`); unset stays empty.
pub fn masked<S: Serializer>(secret: &str, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(if secret.is_empty() { "" } else { "********" })
}

pub(crate) fn masked_option<S: Serializer>(
    secret: &Option<String>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    masked(secret.as_deref().unwrap_or(""), serializer)
}

fn default_access_token_alg() -> SigningAlg {
    SigningAlg::Es256
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lifetimes {
    pub access_token_secs: u32,
    pub id_token_secs: u32,
    /// Absolute lifetime of a refresh-token family, from the sign-in.
    pub refresh_token_days: u32,
    /// A refresh token may be presented again this long after it was
    /// rotated (a response lost on a mobile network) without counting as
    /// reuse; 0 = strict.
    pub refresh_reuse_grace_secs: u32,
    pub logout_token_secs: u32,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            access_token_secs: 300,
            id_token_secs: 300,
            refresh_token_days: 30,
            refresh_reuse_grace_secs: 0,
            logout_token_secs: 120,
        }
    }
}

impl Lifetimes {
    pub fn access_token(&self) -> Duration {
        Duration::seconds(i64::from(self.access_token_secs))
    }

    pub fn id_token(&self) -> Duration {
        Duration::seconds(i64::from(self.id_token_secs))
    }

    pub fn refresh_family(&self) -> Duration {
        Duration::days(i64::from(self.refresh_token_days))
    }

    pub fn refresh_reuse_grace(&self) -> Duration {
        Duration::seconds(i64::from(self.refresh_reuse_grace_secs))
    }

    pub fn logout_token(&self) -> Duration {
        Duration::seconds(i64::from(self.logout_token_secs))
    }

    /// The longest life of a JWT we sign: how long a retired key must stay
    /// published.
    pub fn longest_jwt(&self) -> Duration {
        self.access_token()
            .max(self.id_token())
            .max(self.logout_token())
    }
}

#[derive(Debug)]
pub struct Provider {
    pub issuer: String,
    pub keys: KeySet,
    pub clients: Clients,
    pub subjects: SubjectKey,
    pub lifetimes: Lifetimes,
    pub access_token_alg: SigningAlg,
    pub access_token_audience: String,
    /// Memo of accepted client secrets; lives as long as this configuration.
    pub secrets: SecretCache,
    /// Memo of the access tokens this process signed (`userinfo` skips
    /// their signature check).
    pub signed_here: SignedHere,
    demo_subject_key: bool,
}

impl Provider {
    /// Loads and cross-checks the configuration; `base_dir` resolves key
    /// and JWKS files; `now` decides which keys sign.
    pub fn from_config(
        config: &ProviderConfig,
        base_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<Provider> {
        check_issuer(&config.issuer)?;
        let lifetimes = config.lifetimes.clone();
        if lifetimes.access_token_secs == 0 || lifetimes.id_token_secs == 0 {
            return Err(Error::Config(
                "provider.lifetimes: token lifetimes must be positive".into(),
            ));
        }
        let keys = KeySet::load(&config.signing_keys, base_dir, lifetimes.longest_jwt())?;
        let clients = Clients::load(&config.clients, base_dir)?;
        // OpenID Connect Core §15.1 / Discovery §3: RS256 must be offered.
        if !keys.can_sign(SigningAlg::Rs256, now) {
            return Err(Error::Config(
                "provider.signing_keys: an RS256 (RSA) key is required".into(),
            ));
        }
        if !keys.can_sign(config.access_token_alg, now) {
            return Err(Error::Config(format!(
                "provider.access_token_alg is {} but no such key is configured",
                config.access_token_alg.as_str()
            )));
        }
        for client in clients.iter() {
            if !keys.can_sign(client.id_token_alg, now) {
                return Err(Error::Config(format!(
                    "client {}: id_token_signed_response_alg {} has no key in provider.signing_keys",
                    client.id,
                    client.id_token_alg.as_str()
                )));
            }
        }
        Ok(Provider {
            issuer: config.issuer.clone(),
            keys,
            clients,
            subjects: SubjectKey::new(config.subject_key.as_bytes())?,
            lifetimes,
            access_token_alg: config.access_token_alg,
            access_token_audience: config
                .access_token_audience
                .clone()
                .unwrap_or_else(|| config.issuer.clone()),
            secrets: SecretCache::new(),
            signed_here: SignedHere::default(),
            demo_subject_key: hex_sha256(config.subject_key.as_bytes()) == DEMO_SUBJECT_KEY_SHA256,
        })
    }

    /// An endpoint's absolute URL, e.g. `endpoint("/oauth2/token")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// What makes this provider unfit for production: the published demo
    /// signing keys. `serve` refuses to start unless told it is a demo.
    pub fn production_problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .keys
            .demo_keys()
            .into_iter()
            .map(|kid| format!("provider.signing_keys: key {kid} is a published demo key"))
            .collect();
        if self.demo_subject_key {
            problems.push("provider.subject_key is the published demo key".into());
        }
        problems
    }
}

/// SHA-256 of the subject key in `demo/provider.toml`.
const DEMO_SUBJECT_KEY_SHA256: &str =
    "477ad891b051d0e42998b3b7db27384c4de12ac5e7852521495d64a7ab28a58c";

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_issuer(issuer: &str) -> Result<()> {
    let problem = |m: &str| Error::Config(format!("provider.issuer {issuer}: {m}"));
    let url = Url::parse(issuer).map_err(|_| problem("is not an absolute URL"))?;
    let loopback = matches!(url.host(), Some(Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(problem("must be https (http only on the loopback address)")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(problem(
            "must not have a query or fragment (OpenID Connect Discovery §3)",
        ));
    }
    if issuer.ends_with('/') {
        return Err(problem(
            "must not end with '/'; endpoints are appended to it",
        ));
    }
    Ok(())
}
