//! Provider configuration, parsed once at startup into per-profile types:
//! once a [`ProviderSettings`] exists, every URL parses, every algorithm is
//! one we can verify and the profile's required fields are present. Errors
//! name the provider and the field.

use std::time::Duration;

use url::Url;

use super::jwt::{JwsAlg, KeySource};
use config::{ClaimNames, ProviderConfig, ProviderProfile, Secret, SignerConfig};

#[derive(Debug, thiserror::Error)]
#[error("provider {provider}: {field}: {reason}")]
pub struct SetupError {
    pub provider: String,
    pub field: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub id: String,
    pub display_name_ru: String,
    pub display_name_en: String,
    /// Exact `iss` expected in id_tokens.
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub id_token_algs: Vec<JwsAlg>,
    pub http_timeout: Duration,
    /// Audiences besides `client_id` an id_token may carry.
    pub trusted_audiences: Vec<String>,
    /// RFC 9207 `iss` on the callback required whatever discovery says.
    pub require_iss_parameter: bool,
    /// Cap on every answer read from this provider.
    pub max_response_bytes: usize,
    /// Oldest `iat` accepted.
    pub max_token_age: Duration,
    pub profile: Profile,
}

/// Bounds of `max_response_bytes`: small enough to bound memory, large
/// enough for a JWKS with a few RSA keys.
pub const RESPONSE_BYTES_RANGE: std::ops::RangeInclusive<usize> = 4 * 1024..=16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub enum Profile {
    Esia(Box<EsiaSettings>),
    Oidc(Box<OidcSettings>),
}

#[derive(Debug, Clone)]
pub struct EsiaSettings {
    pub authorize_url: Url,
    pub token_url: Url,
    /// REST base, e.g. `https://esia.gosuslugi.ru/rs`.
    pub api_url: Url,
    pub keys: KeySource,
    /// `/idp/ext/Logout`, when logging out here ends the IdP session too.
    pub logout_url: Option<Url>,
    /// 64 hex digits.
    pub client_certificate_hash: String,
    pub signer: SignerConfig,
    /// Days before a certificate's end that the warnings start.
    pub certificate_warning_days: u32,
}

/// Bounds of `certificate_warning_days`: a certificate lives a year or two.
pub const CERTIFICATE_WARNING_DAYS: std::ops::RangeInclusive<u32> = 0..=365;

#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The discovery base (`{issuer}/.well-known/openid-configuration`).
    pub issuer_url: Url,
    pub client_secret: Secret,
    pub claims: ClaimNames,
}

impl ProviderSettings {
    pub fn parse(raw: &ProviderConfig) -> Result<ProviderSettings, SetupError> {
        let fail = |field: &'static str, reason: String| SetupError {
            provider: raw.id.clone(),
            field,
            reason,
        };
        if raw.id.is_empty()
            || raw.id.len() > 32
            || !raw
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(fail(
                "id",
                "1 to 32 letters, digits, - and _ only".to_string(),
            ));
        }
        if raw.client_id.trim().is_empty() {
            return Err(fail("client_id", "must not be empty".into()));
        }
        if !raw.scopes.iter().any(|s| s == "openid") {
            return Err(fail("scopes", "must include \"openid\"".into()));
        }
        let mut id_token_algs = Vec::new();
        for name in &raw.id_token_algs {
            let alg = JwsAlg::parse(name).ok_or_else(|| {
                fail(
                    "id_token_algs",
                    format!(
                        "{name:?} cannot be verified by this build (supported: {})",
                        JwsAlg::SUPPORTED.join(", ")
                    ),
                )
            })?;
            id_token_algs.push(alg);
        }
        if id_token_algs.is_empty() {
            return Err(fail(
                "id_token_algs",
                "must list at least one algorithm".into(),
            ));
        }
        if !RESPONSE_BYTES_RANGE.contains(&raw.max_response_bytes) {
            return Err(fail(
                "max_response_bytes",
                format!(
                    "must be between {} and {}",
                    RESPONSE_BYTES_RANGE.start(),
                    RESPONSE_BYTES_RANGE.end()
                ),
            ));
        }
        if !(60..=86_400).contains(&raw.max_token_age_secs) {
            return Err(fail(
                "max_token_age_secs",
                "must be between 60 and 86400".into(),
            ));
        }
        if raw.trusted_audiences.iter().any(|a| a.trim().is_empty()) {
            return Err(fail(
                "trusted_audiences",
                "must not list an empty value".into(),
            ));
        }
        let url = |field: &'static str, value: &Option<String>| -> Result<Url, SetupError> {
            let text = value
                .as_deref()
                .ok_or_else(|| fail(field, "missing (required by this profile)".into()))?;
            let parsed = Url::parse(text).map_err(|e| fail(field, format!("not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(fail(field, "must be an http(s) URL".into()));
            }
            Ok(parsed)
        };
        let profile = match raw.profile {
            ProviderProfile::Esia => {
                let hash = raw
                    .client_certificate_hash
                    .clone()
                    .ok_or_else(|| fail("client_certificate_hash", "missing".into()))?;
                if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(fail(
                        "client_certificate_hash",
                        "must be 64 hex digits".into(),
                    ));
                }
                if !CERTIFICATE_WARNING_DAYS.contains(&raw.certificate_warning_days) {
                    return Err(fail(
                        "certificate_warning_days",
                        format!(
                            "must be between {} and {}",
                            CERTIFICATE_WARNING_DAYS.start(),
                            CERTIFICATE_WARNING_DAYS.end()
                        ),
                    ));
                }
                let authorize_url = url("authorize_url", &raw.authorize_url)?;
                let keys = match (&raw.certificates[..], &raw.certificates_pem, &raw.jwks_url) {
                    ([], None, None) => return Err(fail(
                        "certificates",
                        "missing: list ESIA's signing certificate file(s) (ESIA publishes no JWKS)"
                            .into(),
                    )),
                    ([], None, Some(_)) => {
                        KeySource::Jwks(url("jwks_url", &raw.jwks_url)?.to_string())
                    }
                    (_, _, Some(_)) => {
                        return Err(fail(
                            "jwks_url",
                            "give either certificates or jwks_url, not both".into(),
                        ))
                    }
                    (files, inline, None) => KeySource::Certificates {
                        files: files.iter().map(Into::into).collect(),
                        inline: inline.clone(),
                    },
                };
                let logout_url = if raw.end_idp_session {
                    match &raw.logout_url {
                        Some(_) => Some(url("logout_url", &raw.logout_url)?),
                        None => authorize_url.join("/idp/ext/Logout").ok(),
                    }
                } else {
                    None
                };
                Profile::Esia(Box::new(EsiaSettings {
                    authorize_url,
                    token_url: url("token_url", &raw.token_url)?,
                    api_url: url("api_url", &raw.api_url)?,
                    keys,
                    logout_url,
                    client_certificate_hash: hash,
                    signer: raw.signer.clone().ok_or_else(|| {
                        fail("signer", "missing (required by this profile)".into())
                    })?,
                    certificate_warning_days: raw.certificate_warning_days,
                }))
            }
            ProviderProfile::Oidc => Profile::Oidc(Box::new(OidcSettings {
                issuer_url: url("issuer", &Some(raw.issuer.clone()))?,
                client_secret: raw.client_secret.clone().ok_or_else(|| {
                    fail("client_secret", "missing (required by this profile)".into())
                })?,
                claims: raw.claims.clone(),
            })),
        };
        Ok(ProviderSettings {
            id: raw.id.clone(),
            display_name_ru: raw.display_name_ru.clone(),
            display_name_en: raw.display_name_en.clone(),
            issuer: raw.issuer.clone(),
            client_id: raw.client_id.clone(),
            scopes: raw.scopes.clone(),
            id_token_algs,
            http_timeout: Duration::from_secs(raw.http_timeout_secs.clamp(1, 120)),
            trusted_audiences: raw.trusted_audiences.clone(),
            require_iss_parameter: raw.require_iss_parameter,
            max_response_bytes: raw.max_response_bytes,
            max_token_age: Duration::from_secs(raw.max_token_age_secs),
            profile,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esia() -> ProviderConfig {
        toml::from_str(
            r#"
            id = "esia"
            profile = "esia"
            display_name_ru = "Госуслуги"
            display_name_en = "State Services"
            issuer = "http://esia.gosuslugi.ru/"
            client_id = "MNEMONIC"
            scopes = ["openid", "fullname", "snils"]
            id_token_algs = ["RS256"]
            authorize_url = "https://esia.example/aas/oauth2/v2/ac"
            token_url = "https://esia.example/aas/oauth2/v3/te"
            api_url = "https://esia.example/rs"
            jwks_url = "https://esia.example/jwks"
            client_certificate_hash = "d91270d95ccee547998e76c25aead54ac63f64c84727a1accb82cd2f073f5a30"
            signer = { kind = "command", program = "/bin/false" }
            "#,
        )
        .expect("provider TOML")
    }

    #[test]
    fn each_broken_field_is_named() {
        type Breaker = fn(&mut ProviderConfig);
        let cases: [(Breaker, &str); 13] = [
            (|p| p.max_response_bytes = 10, "max_response_bytes"),
            (
                |p| p.certificate_warning_days = 366,
                "certificate_warning_days",
            ),
            (|p| p.max_token_age_secs = 0, "max_token_age_secs"),
            (
                |p| p.trusted_audiences = vec![" ".into()],
                "trusted_audiences",
            ),
            (|p| p.jwks_url = None, "certificates"),
            (|p| p.certificates = vec!["esia.pem".into()], "jwks_url"),
            (|p| p.token_url = None, "token_url"),
            (|p| p.api_url = Some("not a url".into()), "api_url"),
            (|p| p.id_token_algs = vec!["HS256".into()], "id_token_algs"),
            (|p| p.id_token_algs = vec!["none".into()], "id_token_algs"),
            (
                |p| p.client_certificate_hash = Some("abc".into()),
                "client_certificate_hash",
            ),
            (|p| p.signer = None, "signer"),
            (|p| p.scopes = vec!["fullname".into()], "scopes"),
        ];
        assert!(ProviderSettings::parse(&esia()).is_ok());
        for (breaker, field) in cases {
            let mut raw = esia();
            breaker(&mut raw);
            let err = ProviderSettings::parse(&raw).expect_err(field);
            assert_eq!(err.field, field, "{err}");
            assert!(err.to_string().starts_with("provider esia: "), "{err}");
        }
    }
}
