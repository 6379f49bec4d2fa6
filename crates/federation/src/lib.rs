//! Talking to identity providers: the ESIA profile (signed `client_secret`,
//! `v2/ac` + `v3/te`, person data from `/rs/prns`) and the standard OIDC
//! profile (discovery, PKCE, nonce, userinfo). Both end in a
//! [`FederatedPerson`], which the link decision consumes.

pub mod certificates;
pub mod claim_rules;
pub mod esia;
pub mod http;
pub mod jwt;
pub mod keys;
pub mod numeric_date;
pub mod oidc;
pub mod pem;
pub mod settings;
pub mod signer;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use esia_proto::EsiaCode;

use config::Config;
use domain::tier::Tier;

pub use settings::{EsiaSettings, OidcSettings, Profile, ProviderSettings, SetupError};

/// Default cap on any answer read from an IdP.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// What an IdP told us about a person, before any domain parsing. It can be
/// kept with the login transaction (serialized) after a verified code
/// exchange, so that a login interrupted later finishes without the code.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct FederatedPerson {
    pub provider: String,
    pub subject: String,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub patronymic: Option<String>,
    pub snils: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub tier: Tier,
    /// `false` when the data that decides the tier was missing (e.g. the
    /// document scope not granted) and `tier` is the safe minimum.
    pub tier_known: bool,
    /// The person's children as the IdP lists them (ESIA `/kids` with the
    /// `kid_*` scopes); empty when not asked for, not granted or not read.
    #[serde(default)]
    pub kids: Vec<FederatedKid>,
}

/// A child of the person, before any domain parsing: each part may be
/// missing when its scope was not granted.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct FederatedKid {
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub patronymic: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// As the IdP writes it (`123-456-789 01`).
    pub snils: Option<String>,
}

/// No names or SNILS in logs.
impl std::fmt::Debug for FederatedKid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederatedKid")
            .field("has_name", &self.surname.is_some())
            .field("has_birth_date", &self.birth_date.is_some())
            .field("has_snils", &self.snils.is_some())
            .finish()
    }
}

impl std::fmt::Debug for FederatedPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederatedPerson")
            .field("provider", &self.provider)
            .field("subject", &mask_subject(&self.subject))
            .field("tier", &self.tier)
            .field("has_snils", &self.snils.is_some())
            .field("kids", &self.kids.len())
            .finish_non_exhaustive()
    }
}

/// The start of a login: where to send the browser and what to remember.
pub struct StartedLogin {
    pub authorize_url: String,
    pub state: String,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
}

/// What the callback needs from the stored login transaction.
pub struct PendingLogin<'a> {
    pub state: &'a str,
    pub nonce: Option<&'a str>,
    pub pkce_verifier: Option<&'a str>,
    pub redirect_uri: &'a str,
}

/// Why an id_token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("signing algorithm {0:?} is not allowed")]
    AlgorithmNotAllowed(String),
    #[error("signed by an unknown key {0:?}")]
    UnknownKey(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("wrong issuer {0:?}")]
    WrongIssuer(String),
    #[error("audience is not this client")]
    WrongAudience,
    #[error("the token is also meant for an audience that is not trusted")]
    UntrustedAudience,
    #[error("azp names another client")]
    WrongAzp,
    #[error("a kid-less token while the key set holds several candidate keys")]
    KidRequired,
    #[error("token expired")]
    Expired,
    #[error("token issued in the future")]
    IssuedInFuture,
    #[error("token issued too long ago")]
    TooOld,
    #[error("nonce does not match the login")]
    NonceMismatch,
    #[error("sub and urn:esia:sbj:oid name different persons")]
    OidMismatch,
    #[error("key set unavailable: {0}")]
    JwksUnavailable(String),
    /// RFC 8725 §3.11: the header says this is another kind of token
    /// (`typ` other than JWT, ESIA's `sbt` other than `id`).
    #[error("the header names another kind of token: {0}")]
    WrongType(String),
    /// The signature verifies with a configured certificate whose validity
    /// has ended (RFC 5280 §4.1.2.5).
    #[error("signed with certificate {0}, which has expired")]
    CertificateExpired(certificates::CertificateInfo),
    #[error("signed with certificate {0}, which is not valid yet")]
    CertificateNotYetValid(certificates::CertificateInfo),
}

impl TokenProblem {
    pub fn code(&self) -> &'static str {
        match self {
            TokenProblem::Malformed(_) => "token.malformed",
            TokenProblem::AlgorithmNotAllowed(_) => "token.alg_not_allowed",
            TokenProblem::UnknownKey(_) => "token.unknown_key",
            TokenProblem::BadSignature => "token.bad_signature",
            TokenProblem::WrongIssuer(_) => "token.wrong_issuer",
            TokenProblem::WrongAudience => "token.wrong_audience",
            TokenProblem::UntrustedAudience => "token.untrusted_audience",
            TokenProblem::WrongAzp => "token.wrong_azp",
            TokenProblem::KidRequired => "token.kid_required",
            TokenProblem::TooOld => "token.too_old",
            TokenProblem::Expired => "token.expired",
            TokenProblem::IssuedInFuture => "token.issued_in_future",
            TokenProblem::NonceMismatch => "token.nonce_mismatch",
            TokenProblem::OidMismatch => "token.oid_mismatch",
            TokenProblem::JwksUnavailable(_) => "token.jwks_unavailable",
            TokenProblem::WrongType(_) => "token.wrong_typ",
            TokenProblem::CertificateExpired(_) => "token.certificate_expired",
            TokenProblem::CertificateNotYetValid(_) => "token.certificate_not_yet_valid",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The IdP answered with an OAuth error (ESIA code when it gave one).
    #[error("the identity provider refused: {error}: {description}")]
    Refused {
        code: Option<EsiaCode>,
        error: String,
        description: String,
    },
    #[error("the identity provider is unreachable: {0}")]
    Unreachable(String),
    #[error("the identity provider answered HTTP {status}")]
    HttpStatus { status: u16, code: Option<EsiaCode> },
    #[error("the identity provider's answer is malformed: {0}")]
    BadResponse(String),
    #[error("the token did not verify: {0}")]
    Token(#[from] TokenProblem),
    #[error("userinfo subject differs from the id_token subject")]
    SubjectMismatch,
    /// RFC 9207: the callback's `iss` is missing where required, or names
    /// another issuer (a mix-up attack).
    #[error("the callback's iss parameter is {}", if *.missing { "missing" } else { "not this provider's issuer" })]
    IssuerParameter { missing: bool },
    /// The ESIA token response does not echo the `state` of our request.
    #[error("the token response does not echo our state")]
    StateNotEchoed,
    #[error("signing the request failed: {0}")]
    Signer(#[from] signer::SignerError),
    /// RFC 6749 §7.1: a token type this client does not understand (only
    /// Bearer is, RFC 6750); the access token is not used.
    #[error("the token response's token_type is {0:?}, not Bearer")]
    NotBearer(String),
}

impl FederationError {
    /// A stable machine code for attempt records and operator search.
    pub fn code(&self) -> String {
        match self {
            FederationError::Refused { code: Some(c), .. }
            | FederationError::HttpStatus { code: Some(c), .. } => c.as_str().to_string(),
            // An ESIA code this build has no name for keeps its number.
            FederationError::Refused {
                error, description, ..
            } => esia_number(description).unwrap_or_else(|| format!("oauth.{error}")),
            FederationError::Unreachable(_) => "idp.unreachable".into(),
            FederationError::HttpStatus { status, .. } => format!("idp.http_{status}"),
            FederationError::BadResponse(_) => "idp.bad_response".into(),
            FederationError::Token(problem) => problem.code().into(),
            FederationError::SubjectMismatch => "userinfo.sub_mismatch".into(),
            FederationError::IssuerParameter { missing: true } => "callback.iss_missing".into(),
            FederationError::IssuerParameter { missing: false } => "callback.iss_mismatch".into(),
            FederationError::StateNotEchoed => "idp.state_not_echoed".into(),
            FederationError::Signer(_) => "client.signer_failed".into(),
            FederationError::NotBearer(_) => "token.not_bearer".into(),
        }
    }

    /// The certificate a refusal names (expired or not yet valid), for the
    /// operator's explanation.
    pub fn certificate(&self) -> Option<&certificates::CertificateInfo> {
        match self {
            FederationError::Token(
                TokenProblem::CertificateExpired(info) | TokenProblem::CertificateNotYetValid(info),
            ) => Some(info),
            _ => None,
        }
    }

    /// The IdP did not answer (a timeout, a refused connection) or said it
    /// is unavailable: worth trying again later, unlike a refusal or a
    /// token that did not verify.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            FederationError::Unreachable(_)
                | FederationError::HttpStatus {
                    status: 502..=504,
                    code: None
                }
        )
    }

    /// The ESIA code, when the IdP gave one.
    pub fn esia_code(&self) -> Option<EsiaCode> {
        match self {
            FederationError::Refused { code, .. } | FederationError::HttpStatus { code, .. } => {
                *code
            }
            _ => None,
        }
    }
}

/// A configured provider.
pub enum Provider {
    Esia(Box<esia::EsiaProvider>),
    Oidc(Box<oidc::OidcProvider>),
}

impl Provider {
    /// Builds the provider's client: HTTP client, signer, key cache.
    pub fn build(settings: ProviderSettings) -> Result<Provider, SetupError> {
        let http = http_client(settings.http_timeout).map_err(|reason| SetupError {
            provider: settings.id.clone(),
            field: "http_timeout_secs",
            reason,
        })?;
        Ok(match &settings.profile {
            Profile::Esia(_) => Provider::Esia(Box::new(esia::EsiaProvider::new(settings, http)?)),
            Profile::Oidc(_) => Provider::Oidc(Box::new(oidc::OidcProvider::new(settings, http))),
        })
    }

    pub fn settings(&self) -> &ProviderSettings {
        match self {
            Provider::Esia(p) => p.settings(),
            Provider::Oidc(p) => p.settings(),
        }
    }

    pub fn id(&self) -> &str {
        &self.settings().id
    }

    pub async fn start(&self, redirect_uri: &str) -> Result<StartedLogin, FederationError> {
        match self {
            Provider::Esia(p) => p.start(redirect_uri).await,
            Provider::Oidc(p) => p.start(redirect_uri).await,
        }
    }

    pub async fn finish(
        &self,
        code: &str,
        pending: &PendingLogin<'_>,
    ) -> Result<FederatedPerson, FederationError> {
        match self {
            Provider::Esia(p) => p.finish(code, pending).await,
            Provider::Oidc(p) => p.finish(code, pending).await,
        }
    }

    /// RFC 9207: checks the authorization response's `iss` parameter (the
    /// callback's, success or error) before anything is redeemed. Present,
    /// it must equal the issuer exactly; absent, it is refused when the
    /// provider advertises `authorization_response_iss_parameter_supported`
    /// or the configuration sets `require_iss_parameter`.
    pub async fn check_iss_parameter(&self, iss: Option<&str>) -> Result<(), FederationError> {
        let settings = self.settings();
        let required = iss.is_none()
            && (settings.require_iss_parameter
                || match self {
                    Provider::Esia(_) => false,
                    Provider::Oidc(p) => p.advertises_iss_parameter().await?,
                });
        iss_verdict(&settings.issuer, iss, required)
    }

    /// The IdP's own logout, returning to `return_url` (ESIA only).
    pub fn logout_url(&self, return_url: &str) -> Option<String> {
        match self {
            Provider::Esia(p) => p.logout_url(return_url),
            Provider::Oidc(_) => None,
        }
    }

    /// Reloads the signing keys (certificates re-read, JWKS refetched).
    pub async fn reload_keys(&self) -> Result<usize, TokenProblem> {
        match self {
            Provider::Esia(p) => {
                let count = p.keys().reload().await?;
                p.report_certificates(chrono::Utc::now().timestamp(), true);
                Ok(count)
            }
            // Discovered lazily; the next unknown kid refetches anyway.
            Provider::Oidc(_) => Ok(0),
        }
    }
}

/// All configured providers by id.
#[derive(Clone, Default)]
pub struct Providers {
    by_id: BTreeMap<String, Arc<Provider>>,
}

impl Providers {
    /// Parses and builds every configured provider; the first failure stops
    /// startup with the provider and the field it names.
    pub fn from_config(config: &Config) -> Result<Providers, SetupError> {
        let mut by_id = BTreeMap::new();
        for raw in &config.providers {
            let settings = ProviderSettings::parse(raw)?;
            by_id.insert(settings.id.clone(), Arc::new(Provider::build(settings)?));
        }
        Ok(Providers { by_id })
    }

    pub fn get(&self, id: &str) -> Option<Arc<Provider>> {
        self.by_id.get(id).cloned()
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.by_id.values()
    }

    /// Refreshes the certificate expiry gauges (see [`certificates`]);
    /// `log` also warns about each certificate near or past its end.
    pub fn report_certificates(&self, now: i64, log: bool) {
        for provider in self.by_id.values() {
            if let Provider::Esia(esia) = provider.as_ref() {
                esia.report_certificates(now, log);
            }
        }
    }
}

/// The outgoing HTTP client: no redirects followed, no retries, bounded
/// time. (reqwest's default retry policy only retries HTTP/2 and HTTP/3
/// refusals, which this HTTP/1.1-only client never sees, yet it clones
/// every request, headers and all, in case it has to.)
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .user_agent(concat!("esia-link/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Reads a response body of at most `limit` bytes; a longer one (announced
/// or actual) is refused without reading it all.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, FederationError> {
    let too_big =
        || FederationError::BadResponse(format!("the answer is larger than {limit} bytes"));
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        if body.len() + chunk.len() > limit {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// RFC 9207 §2.4: a present `iss` equals the issuer exactly (no
/// normalisation: a trailing slash or another case is another issuer); an
/// absent one passes unless `required`.
fn iss_verdict(issuer: &str, iss: Option<&str>, required: bool) -> Result<(), FederationError> {
    match iss {
        Some(iss) if iss == issuer => Ok(()),
        Some(_) => Err(FederationError::IssuerParameter { missing: false }),
        None if required => Err(FederationError::IssuerParameter { missing: true }),
        None => Ok(()),
    }
}

/// The `ESIA-NNNNNN` code at the start of an error description, known or not.
pub fn esia_number(description: &str) -> Option<String> {
    let head = description.trim_start().get(..11)?;
    let (prefix, digits) = head.split_at(5);
    (prefix.eq_ignore_ascii_case("ESIA-") && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("ESIA-{digits}"))
}

/// `1000001` → `10…01`; keeps enough to tell subjects apart in a list.
pub fn mask_subject(subject: &str) -> String {
    let chars: Vec<char> = subject.chars().collect();
    if chars.len() <= 4 {
        return "…".into();
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

pub(crate) fn describe_reqwest(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "connection refused or failed".into()
    } else if error.is_decode() || error.is_body() {
        "the answer could not be read".into()
    } else {
        // Never the URL: it may carry a subject or code in its query.
        "the request failed".into()
    }
}

pub(crate) fn request_error(error: reqwest::Error) -> FederationError {
    FederationError::Unreachable(describe_reqwest(&error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_iss_parameter_must_name_the_issuer_exactly() {
        let issuer = "http://esia.gosuslugi.ru/";
        let cases: [(Option<&str>, bool, Option<&str>); 8] = [
            (Some(issuer), false, None),
            (Some(issuer), true, None),
            (None, false, None),
            (None, true, Some("callback.iss_missing")),
            (
                Some("http://esia.gosuslugi.ru"),
                false,
                Some("callback.iss_mismatch"),
            ),
            (
                Some("HTTP://ESIA.GOSUSLUGI.RU/"),
                false,
                Some("callback.iss_mismatch"),
            ),
            (
                Some("https://evil.example/"),
                true,
                Some("callback.iss_mismatch"),
            ),
            (Some(""), false, Some("callback.iss_mismatch")),
        ];
        for (iss, required, expected) in cases {
            let verdict = iss_verdict(issuer, iss, required).err().map(|e| e.code());
            assert_eq!(verdict.as_deref(), expected, "{iss:?} required={required}");
        }
    }
}
