//! Layered configuration: the built-in `config/default.toml`, then an
//! optional `--config FILE`, then `ESIA_LINK__SECTION__KEY` environment
//! variables. Unknown keys are an error naming the key; secrets are
//! [`Secret`] values that never print.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use crate::domain::tier::Tier;

/// The embedded default: SQLite under `./data/`, in-process store, safe
/// settings, no secrets and no providers (production configures its own;
/// the demo layers `config/demo.toml` on top).
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub ephemeral: EphemeralConfig,
    pub security: SecurityConfig,
    pub policy: PolicyConfig,
    #[serde(default)]
    pub regions: Vec<RegionConfig>,
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub activation: ActivationConfig,
    /// Outbound e-mail and SMS (`[notify]`); the file outbox by default.
    #[serde(default)]
    pub notify: crate::notify::NotifySettings,
}

/// `[activation]`: one-time codes, the wizard, password logins.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivationConfig {
    /// Days a newly issued code stays valid.
    pub code_days: u32,
    /// Codes tried per client address per minute (guessing).
    pub code_attempts_per_minute: u64,
    /// Hours a confirmation or recovery link stays valid.
    pub email_link_hours: u32,
    /// Password logins tried per client address per minute.
    pub password_attempts_per_minute: u64,
    /// Backoff and lockout per account after failed passwords.
    pub throttle: crate::domain::throttle::ThrottlePolicy,
}

impl Default for ActivationConfig {
    fn default() -> Self {
        ActivationConfig {
            code_days: 30,
            code_attempts_per_minute: 10,
            email_link_hours: 24,
            password_attempts_per_minute: 20,
            throttle: crate::domain::throttle::ThrottlePolicy::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The address browsers use; redirect URIs are built from it.
    pub public_url: String,
    /// Set the `Secure` flag on cookies (always in production, behind TLS).
    pub secure_cookies: bool,
    pub session_idle_minutes: u64,
    pub session_absolute_hours: u64,
    /// Where a person lands after logging in (relative path or an allowed origin).
    pub diary_start_url: String,
    /// Origins (scheme://host[:port]) that return targets may point to.
    #[serde(default)]
    pub allowed_return_origins: Vec<String>,
    /// Header carrying the client address when behind a trusted proxy
    /// (e.g. `x-forwarded-for`; its last entry is used). Unset: the peer address.
    #[serde(default)]
    pub client_ip_header: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://./data/esia-link.db?mode=rwc` or `postgres://user@host/db`.
    pub url: Secret,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EphemeralBackend {
    Memory,
    Redis,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EphemeralConfig {
    pub backend: EphemeralBackend,
    #[serde(default)]
    pub redis_url: Option<Secret>,
    pub key_prefix: String,
    pub memory_max_entries: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// HMAC key for activation codes and lookup hashes of SNILS/subjects.
    /// No default: every deployment sets its own.
    #[serde(default)]
    pub hmac_key: Secret,
    /// Login attempts started per client address per minute.
    pub login_starts_per_minute: u64,
    /// Refused callbacks (unknown, replayed or foreign state) recorded per
    /// client address per minute; beyond it they are answered without a
    /// record or a stored outcome.
    #[serde(default = "default_bogus_callbacks")]
    pub bogus_callbacks_per_minute: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// From this age the State Services account must be at least `min_tier`.
    pub from_age: u32,
    pub min_tier: Tier,
    /// Accept a patronymic present on only one side as a match.
    pub allow_missing_patronymic: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    pub code: u16,
    pub name_ru: String,
    pub name_en: String,
    /// Whether State Services login is enabled for this region.
    pub esia_enabled: bool,
    #[serde(default)]
    pub from_age: Option<u32>,
    #[serde(default)]
    pub min_tier: Option<Tier>,
    /// Confirm a parent's children from State Services data at login
    /// (ESIA `/kids`: SNILS and full name match a pupil whose school listed
    /// this parent).
    #[serde(default = "default_true")]
    pub esia_kids_confirmation: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderProfile {
    Esia,
    Oidc,
}

/// One identity provider. `esia` uses the `*_url` endpoints and a signer;
/// `oidc` uses discovery from `issuer` and `client_secret`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub id: String,
    pub profile: ProviderProfile,
    pub display_name_ru: String,
    pub display_name_en: String,
    /// Exact `iss` expected in id_tokens (and the discovery base for `oidc`).
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// JWS algorithms accepted for id_tokens; discovery cannot widen this.
    #[serde(default = "default_algs")]
    pub id_token_algs: Vec<String>,
    #[serde(default)]
    pub authorize_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    /// ESIA REST base, e.g. `https://esia.gosuslugi.ru/rs`.
    #[serde(default)]
    pub api_url: Option<String>,
    /// ESIA: PEM files with ESIA's signing certificates (several at once
    /// across a rotation). Reloaded on SIGHUP.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// ESIA: the same, inline (tests, the demo).
    #[serde(default)]
    pub certificates_pem: Option<String>,
    /// A JWKS instead of certificates (not how real ESIA publishes keys).
    #[serde(default)]
    pub jwks_url: Option<String>,
    #[serde(default)]
    pub client_certificate_hash: Option<String>,
    /// ESIA: `/idp/ext/Logout` of the IdP; defaults to the authorize URL's
    /// origin + `/idp/ext/Logout`.
    #[serde(default)]
    pub logout_url: Option<String>,
    /// ESIA: end the IdP's session too when a person logs out here (shared
    /// school computers), on by default.
    #[serde(default = "default_true")]
    pub end_idp_session: bool,
    #[serde(default)]
    pub signer: Option<SignerConfig>,
    #[serde(default)]
    pub client_secret: Option<Secret>,
    #[serde(default)]
    pub claims: ClaimNames,
    /// Seconds for each call to the provider.
    #[serde(default = "default_http_timeout")]
    pub http_timeout_secs: u64,
    /// Audiences an id_token may name besides our client_id (OIDC Core
    /// 3.1.3.7); none by default, so a token for several clients is refused.
    #[serde(default)]
    pub trusted_audiences: Vec<String>,
    /// RFC 9207: refuse a callback without `iss` even when the provider's
    /// discovery does not advertise `authorization_response_iss_parameter_supported`.
    #[serde(default)]
    pub require_iss_parameter: bool,
    /// Cap in bytes on every answer read from the provider (discovery, JWKS,
    /// token, userinfo, person data).
    #[serde(default = "default_max_response_bytes")]
    pub max_response_bytes: usize,
    /// Oldest id_token `iat` accepted, in seconds.
    #[serde(default = "default_max_token_age")]
    pub max_token_age_secs: u64,
}

fn default_max_response_bytes() -> usize {
    256 * 1024
}

fn default_max_token_age() -> u64 {
    600
}

fn default_bogus_callbacks() -> u64 {
    20
}

fn default_true() -> bool {
    true
}

fn default_algs() -> Vec<String> {
    vec!["RS256".into(), "ES256".into()]
}

fn default_http_timeout() -> u64 {
    10
}

/// How the ESIA `client_secret` signature is made.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignerConfig {
    /// RSA PKCS#1 v1.5 + SHA-256 with a PKCS#8 PEM key file.
    RsaKeyFile { key_file: String },
    /// RSA key given inline (used by the demo with the published demo key).
    RsaKeyPem { key_pem: Secret },
    /// An external program (e.g. a CryptoPro GOST wrapper): the string to sign
    /// on stdin, the base64url signature on stdout.
    Command {
        program: String,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default = "default_signer_timeout")]
        timeout_ms: u64,
    },
}

fn default_signer_timeout() -> u64 {
    5000
}

/// Userinfo claim names for the `oidc` profile.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClaimNames {
    pub surname: String,
    pub given_name: String,
    pub patronymic: String,
    pub snils: String,
    pub birth_date: String,
    pub tier: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        ClaimNames {
            surname: "family_name".into(),
            given_name: "given_name".into(),
            patronymic: "middle_name".into(),
            snils: "snils".into(),
            birth_date: "birthdate".into(),
            tier: "tier".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter such as `info,esia_link=debug`.
    pub filter: String,
    pub json: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            filter: "info".into(),
            json: false,
        }
    }
}

/// A secret value: deserializes from a string, prints and serializes as `********`.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("********")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {source}")]
    File {
        path: String,
        #[source]
        source: config::ConfigError,
    },
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the layers: built-in default, then `file`, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_layers(None, file, std::env::vars())
    }

    /// As [`Config::load`], with the environment given explicitly (for tests).
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        Self::load_layers(None, file, env)
    }

    /// The layers in order: built-in default, `overlay` (the demo's TOML),
    /// `file`, then the environment.
    pub fn load_layers(
        overlay: Option<&str>,
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(overlay) = overlay {
            builder = builder.add_source(config::File::from_str(overlay, config::FileFormat::Toml));
        }
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let env_map: config::Map<String, String> = env
            .into_iter()
            .filter(|(key, _)| key.starts_with("ESIA_LINK__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("ESIA_LINK")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.allowed_return_origins")
                .source(Some(env_map)),
        );
        let merged = builder.build().map_err(|source| ConfigError::File {
            path: file
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(built-in default)".into()),
            source,
        })?;
        let config: Config = merged
            .try_deserialize()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: cross-field rules and value ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if url::Url::parse(&self.server.public_url).is_err() {
            return invalid(format!(
                "server.public_url is not a URL: {}",
                self.server.public_url
            ));
        }
        if self.ephemeral.backend == EphemeralBackend::Redis && self.ephemeral.redis_url.is_none() {
            return invalid("ephemeral.backend = \"redis\" needs ephemeral.redis_url".into());
        }
        if self.security.hmac_key.expose().is_empty() {
            return invalid(
                "security.hmac_key is not set: give 32 or more random characters, the same on every instance (ESIA_LINK__SECURITY__HMAC_KEY)".into(),
            );
        }
        if self.security.hmac_key.expose().len() < 16 {
            return invalid("security.hmac_key must be at least 16 characters".into());
        }
        let mut seen = BTreeMap::new();
        for region in &self.regions {
            if seen.insert(region.code, ()).is_some() {
                return invalid(format!("region {} is configured twice", region.code));
            }
        }
        let mut ids = BTreeMap::new();
        for provider in &self.providers {
            if ids.insert(provider.id.clone(), ()).is_some() {
                return invalid(format!("provider {} is configured twice", provider.id));
            }
            // Profile-specific fields are parsed, and their errors named, at
            // startup by `federation::ProviderSettings::parse`.
        }
        Ok(())
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    pub fn provider(&self, id: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The environment of a deployment that set its HMAC key, plus `pairs`.
    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        std::iter::once(("ESIA_LINK__SECURITY__HMAC_KEY", "test-hmac-key-0123456789"))
            .chain(pairs.iter().copied())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_built_in_default_loads_and_is_embedded() {
        let config = Config::load_with_env(None, env(&[])).expect("default config is valid");
        assert_eq!(config.server.listen.port(), 8080);
        assert_eq!(config.ephemeral.backend, EphemeralBackend::Memory);
        assert!(config.database.url.expose().starts_with("sqlite:"));
        assert!(config.server.secure_cookies, "safe by default");
        assert!(config.providers.is_empty(), "providers are per deployment");
        assert_eq!(config.policy.min_tier, Tier::Standard);
    }

    #[test]
    fn the_default_has_no_hmac_key_and_says_how_to_set_one() {
        let err = Config::load_with_env(None, Vec::<(String, String)>::new())
            .expect_err("no key, no start");
        assert!(
            err.to_string().contains("ESIA_LINK__SECURITY__HMAC_KEY"),
            "{err}"
        );
    }

    #[test]
    fn the_production_example_parses_with_its_secrets_from_the_environment() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/production.example.toml");
        let config = Config::load_with_env(Some(&file), env(&[])).expect("example is valid");
        assert!(config.server.secure_cookies);
        assert_eq!(config.ephemeral.backend, EphemeralBackend::Redis);
        let esia = config.provider("esia").expect("esia provider");
        assert!(esia.jwks_url.is_none() && !esia.certificates.is_empty());
        assert_eq!(esia.id_token_algs, vec!["GOST3410_2012_256".to_string()]);
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let config = Config::load_with_env(
            None,
            env(&[
                ("ESIA_LINK__SERVER__LISTEN", "0.0.0.0:9000"),
                ("ESIA_LINK__EPHEMERAL__BACKEND", "redis"),
                ("ESIA_LINK__EPHEMERAL__REDIS_URL", "redis://127.0.0.1:6379"),
                ("ESIA_LINK_TEST_DATABASE_URL", "ignored: not our prefix"),
            ]),
        )
        .expect("overrides apply");
        assert_eq!(config.server.listen.port(), 9000);
        assert_eq!(config.ephemeral.backend, EphemeralBackend::Redis);
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let err = Config::load_with_env(None, env(&[("ESIA_LINK__SERVER__LISTNE", "x")]))
            .expect_err("typo must fail");
        assert!(err.to_string().contains("listne"), "{err}");

        let dir = std::env::temp_dir().join(format!("esia-link-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("bad.toml");
        std::fs::write(
            &file,
            "[database]\nurl = \"sqlite::memory:\"\npool_size = 3\n",
        )
        .expect("write");
        let err = Config::load_with_env(Some(&file), env(&[])).expect_err("unknown key");
        assert!(err.to_string().contains("pool_size"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let config = Config::load_with_env(
            None,
            env(&[("ESIA_LINK__SECURITY__HMAC_KEY", "super-secret-value-123")]),
        )
        .expect("valid");
        let shown = config.to_masked_toml();
        assert!(!shown.contains("super-secret-value-123"));
        assert!(shown.contains("********"));
        assert!(!format!("{config:?}").contains("super-secret-value-123"));
    }

    #[test]
    fn invalid_values_are_explained() {
        let cases = [
            (("ESIA_LINK__POLICY__MIN_TIER", "gold"), "min_tier"),
            (("ESIA_LINK__EPHEMERAL__BACKEND", "redis"), "redis_url"),
            (("ESIA_LINK__SECURITY__HMAC_KEY", "short"), "hmac_key"),
        ];
        for ((key, value), expected) in cases {
            let err = Config::load_with_env(None, env(&[(key, value)])).expect_err(key);
            assert!(err.to_string().contains(expected), "{key}: {err}");
        }
    }
}
