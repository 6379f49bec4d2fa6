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

use domain::tier::Tier;

/// The embedded default: SQLite under `./data/`, in-process store, safe
/// settings, no secrets and no providers (production configures its own;
/// the demo layers `config/demo.toml` on top).
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

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
    pub notify: notify::NotifySettings,
    /// `[support]`: the service-wide support contacts and per-school ones.
    #[serde(default)]
    pub support: SupportConfig,
    /// `[access]`: the access check's cache.
    #[serde(default)]
    pub access: AccessConfig,
    /// `[family]`: trusted persons' waiting period and invitations' lifetime.
    #[serde(default)]
    pub family: FamilyConfig,
}

/// `[family]`: how long after a trusted person accepts their access opens
/// (the articles: "within 24 hours"), and how long an unanswered invitation
/// waits before it expires.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FamilyConfig {
    pub opening_delay_hours: u32,
    pub invitation_days: u32,
}

impl Default for FamilyConfig {
    fn default() -> FamilyConfig {
        FamilyConfig {
            opening_delay_hours: 24,
            invitation_days: 7,
        }
    }
}

/// The access check caches what it reads about (viewer, pupil); changes
/// invalidate it at once on every instance (through Redis when shared).
/// `cache_seconds = 0` turns it off.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// How long an entry may be served at most (a bound for the case an
    /// invalidation could be lost without the subscription noticing).
    #[serde(default = "default_access_cache_seconds")]
    pub cache_seconds: u64,
    /// At most this many (viewer, pupil) entries per instance.
    #[serde(default = "default_access_cache_entries")]
    pub cache_entries: usize,
}

impl Default for AccessConfig {
    fn default() -> AccessConfig {
        AccessConfig {
            cache_seconds: default_access_cache_seconds(),
            cache_entries: default_access_cache_entries(),
        }
    }
}

fn default_access_cache_seconds() -> u64 {
    30
}

fn default_access_cache_entries() -> usize {
    200_000
}

/// Where a person gets help: shown wherever a page says "contact support".
/// Every field is optional, but a configured set names at least one way to
/// reach someone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SupportContacts {
    /// As people dial it, e.g. `8 800 100-00-00`.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// A help page (`https://...`) or a `tel:` link.
    #[serde(default)]
    pub url: Option<String>,
    /// Opening hours as written for people, e.g. `пн–пт 9:00–18:00 (МСК)`.
    #[serde(default)]
    pub hours: Option<String>,
    /// The hours in English; `hours` when not given.
    #[serde(default)]
    pub hours_en: Option<String>,
}

impl SupportContacts {
    fn is_empty(&self) -> bool {
        self.phone.is_none() && self.email.is_none() && self.url.is_none()
    }

    /// Checks each field; `at` names the table in the message.
    fn validate(&self, at: &str) -> Result<(), ConfigError> {
        let invalid =
            |field: &str, why: String| Err(ConfigError::Invalid(format!("{at}.{field}: {why}")));
        if self.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "{at}: support contacts need at least one of phone, email or url"
            )));
        }
        if let Some(phone) = &self.phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let allowed = phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '\u{a0}'));
            if !allowed || !(5..=15).contains(&digits) {
                return invalid(
                    "phone",
                    format!("{phone:?} is not a phone number (digits, spaces, + - ( ) only)"),
                );
            }
        }
        if let Some(email) = &self.email {
            if domain::activation::parse_email(email).as_deref() != Ok(email.as_str()) {
                return invalid(
                    "email",
                    format!(
                        "{email:?} is not an e-mail address (name@domain, domain in lower case)"
                    ),
                );
            }
        }
        if let Some(link) = &self.url {
            let scheme = url::Url::parse(link).ok().map(|u| u.scheme().to_string());
            if !matches!(scheme.as_deref(), Some("https" | "tel")) {
                return invalid("url", format!("{link:?} must be an https:// or tel: URL"));
            }
        }
        Ok(())
    }
}

/// `[support]`: the service-wide contacts (the table's own fields), used
/// where a region has none, and `[support.schools."<school id>"]`: a
/// school's own, which win over its region's (schools live in the
/// database, so they are keyed by id here).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportConfig {
    pub phone: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
    pub hours: Option<String>,
    pub hours_en: Option<String>,
    pub schools: BTreeMap<String, SupportContacts>,
}

impl SupportConfig {
    /// The service-wide contacts, if any are configured.
    fn service(&self) -> SupportContacts {
        SupportContacts {
            phone: self.phone.clone(),
            email: self.email.clone(),
            url: self.url.clone(),
            hours: self.hours.clone(),
            hours_en: self.hours_en.clone(),
        }
    }
}

/// The zone times are shown in where a region names none.
pub const DEFAULT_TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Moscow;

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
    pub throttle: domain::throttle::ThrottlePolicy,
}

impl Default for ActivationConfig {
    fn default() -> Self {
        ActivationConfig {
            code_days: 30,
            code_attempts_per_minute: 10,
            email_link_hours: 24,
            password_attempts_per_minute: 20,
            throttle: domain::throttle::ThrottlePolicy::default(),
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
    /// A pupil's diary, `{pupil}` standing for their id (the account page
    /// links each child's diary there); unset: `diary_start_url?pupil=ID`.
    #[serde(default)]
    pub diary_pupil_url: Option<String>,
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
    /// IANA name, e.g. `Asia/Yekaterinburg`: pages show this region's
    /// times in it. `Europe/Moscow` when not given.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Support contacts for people of this region's schools.
    #[serde(default)]
    pub support: Option<SupportContacts>,
}

impl RegionConfig {
    /// The region's zone (validated at load; the default if not given).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone
            .as_deref()
            .and_then(|name| name.parse().ok())
            .unwrap_or(DEFAULT_TIME_ZONE)
    }
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
    /// ESIA certificates: warn (log at startup, on reload and daily; the
    /// `esia_link_certificate_expiring` gauge) this many days before one
    /// expires.
    #[serde(default = "default_certificate_warning_days")]
    pub certificate_warning_days: u32,
}

fn default_certificate_warning_days() -> u32 {
    30
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
        /// Boxed: the loader's error is large and `Result`s carry this one.
        #[source]
        source: Box<config_rs::ConfigError>,
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
        let mut builder = config_rs::Config::builder().add_source(config_rs::File::from_str(
            DEFAULT_TOML,
            config_rs::FileFormat::Toml,
        ));
        if let Some(overlay) = overlay {
            builder = builder.add_source(config_rs::File::from_str(
                overlay,
                config_rs::FileFormat::Toml,
            ));
        }
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            builder = builder.add_source(config_rs::File::from(path).required(true));
        }
        let env_map: config_rs::Map<String, String> = env
            .into_iter()
            .filter(|(key, _)| key.starts_with("ESIA_LINK__"))
            .collect();
        builder = builder.add_source(
            config_rs::Environment::with_prefix("ESIA_LINK")
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
            source: Box::new(source),
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
        if self.family.opening_delay_hours > 24 * 30 {
            return invalid("family.opening_delay_hours: at most 720 (30 days)".into());
        }
        if !(1..=90).contains(&self.family.invitation_days) {
            return invalid("family.invitation_days: from 1 to 90".into());
        }
        let mut seen = BTreeMap::new();
        for region in &self.regions {
            if seen.insert(region.code, ()).is_some() {
                return invalid(format!("region {} is configured twice", region.code));
            }
            let at = format!("regions[code = {}]", region.code);
            if let Some(name) = &region.time_zone {
                if name.parse::<chrono_tz::Tz>().is_err() {
                    return invalid(format!(
                        "{at}.time_zone: {name:?} is not an IANA time zone (e.g. \"Europe/Moscow\", \"Asia/Yekaterinburg\")"
                    ));
                }
            }
            if let Some(support) = &region.support {
                support.validate(&format!("{at}.support"))?;
            }
        }
        let service = self.support.service();
        if service != SupportContacts::default() {
            service.validate("support")?;
        }
        for (school, contacts) in &self.support.schools {
            if uuid::Uuid::parse_str(school).is_err() {
                return invalid(format!(
                    "support.schools.{school:?}: a school is named by its id (a UUID)"
                ));
            }
            contacts.validate(&format!("support.schools.{school:?}"))?;
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

    pub fn region(&self, code: u16) -> Option<&RegionConfig> {
        self.regions.iter().find(|r| r.code == code)
    }

    /// Whose support contacts a person sees: their school's, else their
    /// region's, else the service-wide ones; `None` when nothing is
    /// configured (pages then say so in general words).
    pub fn support_for(
        &self,
        school: Option<uuid::Uuid>,
        region: Option<u16>,
    ) -> Option<SupportContacts> {
        let school = school.and_then(|id| {
            self.support
                .schools
                .iter()
                .find(|(key, _)| uuid::Uuid::parse_str(key).ok() == Some(id))
                .map(|(_, contacts)| contacts.clone())
        });
        school
            .or_else(|| region.and_then(|code| self.region(code)?.support.clone()))
            .or_else(|| Some(self.support.service()).filter(|s| !s.is_empty()))
    }

    /// The zone a region's times are shown in.
    pub fn time_zone(&self, region: Option<u16>) -> chrono_tz::Tz {
        region
            .and_then(|code| self.region(code))
            .map(RegionConfig::tz)
            .unwrap_or(DEFAULT_TIME_ZONE)
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
        let file =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/production.example.toml");
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

    fn with_overlay(overlay: &str) -> Result<Config, ConfigError> {
        Config::load_layers(Some(overlay), None, env(&[]))
    }

    #[test]
    fn the_default_names_time_zones_and_support_contacts_that_load() {
        let config = Config::load_with_env(None, env(&[])).expect("valid");
        for region in &config.regions {
            assert!(region.time_zone.is_some(), "region {}", region.code);
            assert!(region.support.is_some(), "region {}", region.code);
        }
        assert_eq!(config.time_zone(Some(29)), chrono_tz::Europe::Moscow);
        assert_eq!(
            config.time_zone(Some(66)),
            DEFAULT_TIME_ZONE,
            "unknown region"
        );
        assert_eq!(config.time_zone(None), chrono_tz::Europe::Moscow);
    }

    #[test]
    fn support_contacts_come_from_the_school_then_the_region_then_the_service() {
        let school = "6f1c1a52-3a56-4d55-9a6c-1d2b0c7e9a10";
        let config = with_overlay(&format!(
            r#"
[support]
phone = "8 800 100-00-00"
[support.schools."{school}"]
email = "help@school9.example.ru"
[[regions]]
code = 29
name_ru = "Архангельская область"
name_en = "Arkhangelsk Oblast"
esia_enabled = true
time_zone = "Europe/Moscow"
support = {{ url = "https://help.arkh.example.ru", hours = "пн–пт 9–18" }}
[[regions]]
code = 66
name_ru = "Свердловская область"
name_en = "Sverdlovsk Oblast"
esia_enabled = true
time_zone = "Asia/Yekaterinburg"
"#
        ))
        .expect("valid");
        let id = uuid::Uuid::parse_str(school).expect("uuid");
        let pick = |school, region| config.support_for(school, region);
        assert_eq!(
            pick(Some(id), Some(29)).and_then(|s| s.email).as_deref(),
            Some("help@school9.example.ru")
        );
        assert_eq!(
            pick(Some(uuid::Uuid::new_v4()), Some(29))
                .and_then(|s| s.url)
                .as_deref(),
            Some("https://help.arkh.example.ru")
        );
        assert_eq!(
            pick(None, Some(66)).and_then(|s| s.phone).as_deref(),
            Some("8 800 100-00-00"),
            "a region without its own falls back to the service's"
        );
        assert_eq!(config.time_zone(Some(66)), chrono_tz::Asia::Yekaterinburg);
    }

    #[test]
    fn bad_time_zones_and_support_contacts_are_named_at_load() {
        let region = |extra: &str| {
            format!(
                "[[regions]]\ncode = 66\nname_ru = \"С\"\nname_en = \"S\"\nesia_enabled = true\n{extra}\n"
            )
        };
        let cases = [
            (
                region("time_zone = \"Europe/Mosow\""),
                "regions[code = 66].time_zone",
            ),
            (
                region("support = { email = \"help at example.ru\" }"),
                "regions[code = 66].support.email",
            ),
            (
                region("support = { url = \"http://help.example.ru\" }"),
                "regions[code = 66].support.url",
            ),
            (
                region("support = { phone = \"call us\" }"),
                "regions[code = 66].support.phone",
            ),
            (
                region("support = { hours = \"9-18\" }"),
                "regions[code = 66].support",
            ),
            (
                "[support]\nemail = \"nobody\"\n".to_string(),
                "support.email",
            ),
            (
                "[support.schools.arkh1]\nphone = \"8 800 100-00-00\"\n".to_string(),
                "support.schools",
            ),
        ];
        for (overlay, expected) in cases {
            let err = with_overlay(&overlay).expect_err(&overlay);
            assert!(err.to_string().contains(expected), "{overlay}: {err}");
        }
        let ok = region("support = { url = \"tel:+78001000000\" }");
        assert!(with_overlay(&ok).is_ok(), "tel: links are fine");
    }
}
