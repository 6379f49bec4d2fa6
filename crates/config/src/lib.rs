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

mod check;
mod layers;
mod provider;
mod redis;

pub use layers::Inspection;
pub use provider::*;
pub use redis::SentinelConfig;

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
    /// `[uploads]`: how big a roster the school console accepts.
    #[serde(default)]
    pub uploads: UploadsConfig,
    /// `[apps]`: esia-link as the OpenID Provider of the diary's own web
    /// and mobile apps (issuer, signing keys, token lifetimes); the
    /// provider endpoints answer 404 without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<::provider::ProviderConfig>,
    /// `[[clients]]`: the apps allowed to ask for tokens.
    #[serde(default)]
    pub clients: Vec<::provider::clients::ClientConfig>,
}

/// `[uploads]`: limits on a roster uploaded in the school console (`/school`);
/// a file over them is refused with a message and nothing is written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadsConfig {
    /// The uploaded file itself.
    pub max_file_bytes: u64,
    /// Rows of data after the header.
    pub max_rows: u32,
    /// An XLSX file's parts together, as inflated (a zip bomb stops here).
    pub max_unpacked_bytes: u64,
    /// A file of at least this size is checked and written by a background
    /// job with a progress page, not within the request.
    pub background_from_bytes: u64,
}

impl Default for UploadsConfig {
    fn default() -> UploadsConfig {
        UploadsConfig {
            max_file_bytes: 10 * 1024 * 1024,
            max_rows: 100_000,
            max_unpacked_bytes: 200 * 1024 * 1024,
            background_from_bytes: 1024 * 1024,
        }
    }
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
    /// One Redis; or, instead, `[ephemeral.sentinel]`.
    #[serde(default)]
    pub redis_url: Option<Secret>,
    /// Redis behind Sentinel: the primary is found through the sentinels
    /// and followed across failovers.
    #[serde(default)]
    pub sentinel: Option<SentinelConfig>,
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

/// A secret value: deserializes from a string, prints and serializes as
/// `********` (an empty one serializes as empty: `config show` tells unset
/// from set).
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
        if self.expose().is_empty() {
            return serializer.serialize_str("");
        }
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
        let merged = layers::merge(overlay, file, layers::ours(env))?;
        let config: Config = merged
            .try_deserialize()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot (see [`Config::problems`]); the first
    /// problem is the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.problems().into_iter().next() {
            Some(problem) => Err(ConfigError::Invalid(problem)),
            None => Ok(()),
        }
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// The OpenID Provider's configuration for the diary's apps, with the
    /// `[[clients]]` joined to `[[apps.clients]]` and the issuer defaulting
    /// to `server.public_url`; `None` when `[apps]` is absent.
    pub fn apps_provider(&self) -> Option<::provider::ProviderConfig> {
        let mut apps = self.apps.clone()?;
        if apps.issuer.is_empty() {
            apps.issuer = self.server.public_url.trim_end_matches('/').to_string();
        }
        apps.clients.extend(self.clients.iter().cloned());
        Some(apps)
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
mod tests;
