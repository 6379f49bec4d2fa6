//! Identity providers: ESIA or standard OIDC, their endpoints, signer,
//! claim names and limits.

use serde::{Deserialize, Serialize};

use super::Secret;

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

pub(crate) fn default_bogus_callbacks() -> u64 {
    20
}

pub(crate) fn default_true() -> bool {
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
