//! The ESIA profile: `GET /aas/oauth2/v2/ac` and `POST /aas/oauth2/v3/te`
//! with a signed `client_secret`, then person data from `/rs/prns/{oid}`.

use chrono::{NaiveDate, Utc};
use esia_proto::{EsiaCode, EsiaErrorResponse, EsiaPerson, EsiaTokenResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::claim_rules::{self, ClaimProfile};
use super::jwt::{Expectations, KeyCache};
use super::signer::Signer;
use super::{
    read_limited, request_error, EsiaSettings, FederatedKid, FederatedPerson, FederationError,
    PendingLogin, Profile, ProviderSettings, SetupError, StartedLogin,
};
use domain::tier::Tier;

/// The scopes under which ESIA lists a person's children with what a
/// confirmation needs: full name, birth date and SNILS. The kids are read
/// only when the provider asks for all three and the token grants them.
pub const KID_SCOPES: [&str; 3] = ["kid_fullname", "kid_birthdate", "kid_snils"];

pub struct EsiaProvider {
    settings: ProviderSettings,
    esia: Box<EsiaSettings>,
    signer: Signer,
    http: reqwest::Client,
    keys: KeyCache,
    scope: String,
    /// The configured scopes include every one of [`KID_SCOPES`].
    wants_kids: bool,
}

impl EsiaProvider {
    pub fn new(
        settings: ProviderSettings,
        http: reqwest::Client,
    ) -> Result<EsiaProvider, SetupError> {
        let Profile::Esia(esia) = settings.profile.clone() else {
            return Err(SetupError {
                provider: settings.id.clone(),
                field: "profile",
                reason: "not an esia provider".into(),
            });
        };
        let signer = Signer::from_config(&esia.signer).map_err(|e| SetupError {
            provider: settings.id.clone(),
            field: "signer",
            reason: e.to_string(),
        })?;
        let keys = KeyCache::new(
            esia.keys.clone(),
            &settings.id_token_algs,
            http.clone(),
            settings.max_response_bytes,
        );
        keys.preload().map_err(|reason| SetupError {
            provider: settings.id.clone(),
            field: "certificates",
            reason,
        })?;
        let scope = settings.scopes.join(" ");
        let wants_kids = has_kid_scopes(settings.scopes.iter().map(String::as_str));
        let provider = EsiaProvider {
            settings,
            esia,
            signer,
            http,
            keys,
            scope,
            wants_kids,
        };
        provider.report_certificates(Utc::now().timestamp(), true);
        Ok(provider)
    }

    /// The certificates' expiry gauges, and warnings when `log` (startup,
    /// reload, once a day).
    pub fn report_certificates(&self, now: i64, log: bool) {
        super::certificates::report_expiry(
            &self.settings.id,
            &self.keys.loaded(),
            now,
            self.esia.certificate_warning_days,
            log,
        );
    }

    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// Where to send the browser to end the ESIA session as well, then come
    /// back to `return_url`; `None` when switched off.
    pub fn logout_url(&self, return_url: &str) -> Option<String> {
        let mut url = self.esia.logout_url.clone()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_url", return_url);
        Some(url.into())
    }

    fn certificate_hash(&self) -> &str {
        &self.esia.client_certificate_hash
    }

    pub async fn start(&self, redirect_uri: &str) -> Result<StartedLogin, FederationError> {
        let state = Uuid::new_v4().to_string();
        let timestamp = esia_timestamp();
        let client_id = &self.settings.client_id;
        let secret = self
            .signer
            .sign(&format!(
                "{client_id}{}{timestamp}{state}{redirect_uri}",
                self.scope
            ))
            .await?;
        let mut url = self.esia.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("scope", &self.scope)
            .append_pair("response_type", "code")
            .append_pair("state", &state)
            .append_pair("timestamp", &timestamp)
            .append_pair("access_type", "online")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("client_certificate_hash", self.certificate_hash())
            .append_pair("client_secret", &secret);
        Ok(StartedLogin {
            authorize_url: url.into(),
            state,
            nonce: None,
            pkce_verifier: None,
        })
    }

    pub async fn finish(
        &self,
        code: &str,
        pending: &PendingLogin<'_>,
    ) -> Result<FederatedPerson, FederationError> {
        let tokens = self.exchange(code, pending.redirect_uri).await?;
        let id_token = tokens.id_token.as_deref().ok_or_else(|| {
            FederationError::BadResponse("no id_token in the token response".into())
        })?;
        let verified = self
            .keys
            .verify(
                id_token,
                &Expectations {
                    issuer: &self.settings.issuer,
                    client_id: &self.settings.client_id,
                    trusted_audiences: &self.settings.trusted_audiences,
                    nonce: None,
                    now: Utc::now().timestamp(),
                    max_age_secs: self.settings.max_token_age.as_secs() as i64,
                    profile: ClaimProfile::Esia,
                },
            )
            .await?;
        let claims = verified.claims;
        let subject = verified.subject;
        // ESIA repeats the OID inside `urn:esia:sbj` (and some versions at
        // the top level); a token whose two subjects disagree is refused.
        let oids = [
            claims.get("urn:esia:sbj:oid"),
            claims
                .get("urn:esia:sbj")
                .and_then(|sbj| sbj.get("urn:esia:sbj:oid")),
        ];
        for oid in oids.into_iter().flatten() {
            if ClaimProfile::Esia.subject(Some(oid)).as_deref() != Some(subject.as_str()) {
                return Err(super::TokenProblem::OidMismatch.into());
            }
        }
        let trusted_claim = claims
            .get("urn:esia:sbj")
            .and_then(|sbj| sbj.get("urn:esia:sbj:is_tru"))
            .is_some_and(|v| v.as_bool() == Some(true));
        let person = self.person(&subject, &tokens.access_token).await?;
        if person
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("DELETED"))
        {
            return Err(FederationError::Refused {
                code: None,
                error: "account_deleted".into(),
                description: "the State Services account is deleted".into(),
            });
        }
        let (tier, tier_known) = tier_of(&person, trusted_claim);
        let kids = self.kids_if_granted(&subject, &tokens.access_token).await;
        Ok(FederatedPerson {
            provider: self.settings.id.clone(),
            subject,
            surname: person.last_name,
            given_name: person.first_name,
            patronymic: person.middle_name,
            snils: person.snils,
            birth_date: person.birth_date.as_deref().and_then(parse_esia_date),
            tier,
            tier_known,
            kids,
        })
    }

    async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<EsiaTokenResponse, FederationError> {
        let state = Uuid::new_v4().to_string();
        let timestamp = esia_timestamp();
        let client_id = &self.settings.client_id;
        let secret = self
            .signer
            .sign(&format!(
                "{client_id}{}{timestamp}{state}{redirect_uri}{code}",
                self.scope
            ))
            .await?;
        let form = [
            ("client_id", client_id.as_str()),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", redirect_uri),
            ("scope", &self.scope),
            ("state", &state),
            ("timestamp", &timestamp),
            ("token_type", "Bearer"),
            ("client_certificate_hash", self.certificate_hash()),
            ("client_secret", &secret),
        ];
        let response = self
            .http
            .post(self.esia.token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        let body = read_limited(response, self.settings.max_response_bytes).await?;
        if status.is_success() {
            let tokens: EsiaTokenResponse = serde_json::from_slice(&body).map_err(|e| {
                FederationError::BadResponse(format!("token response is not valid JSON: {e}"))
            })?;
            // ESIA echoes the state of the token request: a response without
            // it, or with another, does not answer this request.
            match tokens.state.as_deref() {
                Some(echo) if echo == state => {}
                Some(_) => {
                    return Err(FederationError::BadResponse(
                        "token response answers another request (state differs)".into(),
                    ))
                }
                None => return Err(FederationError::StateNotEchoed),
            }
            claim_rules::check_token_response(&tokens.token_type, Some(tokens.expires_in))?;
            return Ok(tokens);
        }
        Err(error_from_body(status.as_u16(), &body))
    }

    async fn person(&self, oid: &str, access_token: &str) -> Result<EsiaPerson, FederationError> {
        let body = self
            .rest_get(oid, "?embed=(documents.elements)", access_token)
            .await?;
        serde_json::from_slice(&body).map_err(|e| {
            FederationError::BadResponse(format!("person data is not valid JSON: {e}"))
        })
    }

    /// The person's children when the provider asks for [`KID_SCOPES`] and
    /// the access token grants them. Never fails the login: a refusal or a
    /// bad answer is logged (its code only, no personal data) and the login
    /// goes on without kids.
    async fn kids_if_granted(&self, oid: &str, access_token: &str) -> Vec<FederatedKid> {
        if !self.wants_kids || !token_grants_kid_scopes(access_token) {
            return Vec::new();
        }
        match self.kids(oid, access_token).await {
            Ok(kids) => kids,
            Err(error) => {
                tracing::warn!(
                    provider = %self.settings.id,
                    code = %error.code(),
                    "the person's kids could not be read; the login goes on without them"
                );
                Vec::new()
            }
        }
    }

    /// `GET /rs/prns/{oid}/kids?embed=(elements)`.
    async fn kids(
        &self,
        oid: &str,
        access_token: &str,
    ) -> Result<Vec<FederatedKid>, FederationError> {
        let body = self
            .rest_get(oid, "/kids?embed=(elements)", access_token)
            .await?;
        parse_kids(&body)
    }

    /// A GET under `/rs/prns/{oid}` with the bearer token, capped like
    /// every answer from the IdP; an error status becomes ESIA's error.
    async fn rest_get(
        &self,
        oid: &str,
        rest: &str,
        access_token: &str,
    ) -> Result<Vec<u8>, FederationError> {
        if oid.is_empty() || !oid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(FederationError::BadResponse("subject is not an OID".into()));
        }
        let base = self.esia.api_url.as_str().trim_end_matches('/');
        let url = format!("{base}/prns/{oid}{rest}");
        let response = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        let body = read_limited(response, self.settings.max_response_bytes).await?;
        if !status.is_success() {
            return Err(error_from_body(status.as_u16(), &body));
        }
        Ok(body)
    }
}

fn has_kid_scopes<'a>(scopes: impl IntoIterator<Item = &'a str>) -> bool {
    let scopes: Vec<&str> = scopes.into_iter().collect();
    KID_SCOPES.iter().all(|k| scopes.contains(k))
}

/// Whether ESIA's access token grants [`KID_SCOPES`]: its `scope` claim
/// lists what the person granted (`kid_snils?oid=N ...`). The token came
/// straight from the token endpoint and is only read here, not trusted for
/// anything else; one we cannot read is given the benefit of the doubt
/// (ESIA refuses the call itself if the scopes are missing).
fn token_grants_kid_scopes(access_token: &str) -> bool {
    use base64::Engine;
    let claims = access_token
        .split('.')
        .nth(1)
        .and_then(|part| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .ok()
        })
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok());
    let Some(scope) = claims
        .as_ref()
        .and_then(|c| c.get("scope"))
        .and_then(|s| s.as_str())
    else {
        return true;
    };
    has_kid_scopes(
        scope
            .split_whitespace()
            .map(|s| s.split('?').next().unwrap_or_default()),
    )
}

/// ESIA's collection of kids, read leniently: elements that are links (no
/// `embed`) or not objects are skipped, a missing field stays `None`, and
/// the element `id` (an integer or a string) is not needed. One odd kid
/// must not cost the others.
#[derive(Deserialize)]
struct KidsCollection {
    #[serde(default)]
    elements: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KidElement {
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    middle_name: Option<String>,
    #[serde(default)]
    birth_date: Option<String>,
    #[serde(default)]
    snils: Option<String>,
}

fn parse_kids(body: &[u8]) -> Result<Vec<FederatedKid>, FederationError> {
    // The serde message could quote a name or a SNILS: it is left out.
    let collection: KidsCollection = serde_json::from_slice(body)
        .map_err(|_| FederationError::BadResponse("kids are not an ESIA collection".into()))?;
    let text = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(collection
        .elements
        .into_iter()
        .filter(serde_json::Value::is_object)
        .filter_map(|element| serde_json::from_value::<KidElement>(element).ok())
        .map(|k| FederatedKid {
            surname: text(k.last_name),
            given_name: text(k.first_name),
            patronymic: text(k.middle_name),
            birth_date: k.birth_date.as_deref().and_then(parse_esia_date),
            snils: text(k.snils),
        })
        .collect())
}

/// The account tier and whether the data to decide it was there: `trusted`
/// (or the token's `is_tru`) → verified; standard only when the current
/// identity document (`rIdDoc` → an `RF_PASSPORT` or `FID_DOC`) is verified
/// — an insurance policy or a driving licence does not count; otherwise
/// simplified. Without the documents or `rIdDoc` (scope not granted) the
/// tier is not known and the person counts as simplified.
pub fn tier_of(person: &EsiaPerson, trusted_claim: bool) -> (Tier, bool) {
    if person.trusted || trusted_claim {
        return (Tier::Verified, true);
    }
    let (Some(documents), Some(current)) = (&person.documents, person.r_id_doc) else {
        return (Tier::Simplified, false);
    };
    let Some(document) = documents.items().find(|d| d.id == Some(current)) else {
        return (Tier::Simplified, false);
    };
    let is_identity = document.kind.as_deref().is_some_and(|k| {
        k.eq_ignore_ascii_case("RF_PASSPORT") || k.eq_ignore_ascii_case("FID_DOC")
    });
    let verified = document
        .vrf_stu
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("VERIFIED"));
    if is_identity && verified {
        (Tier::Standard, true)
    } else {
        (Tier::Simplified, true)
    }
}

/// Maps an ESIA error body (or its absence) to an error carrying the code:
/// the OAuth shape `{error, error_description}` of the token endpoint, or
/// the REST shape `{code, message}` of `/rs`.
fn error_from_body(status: u16, body: &[u8]) -> FederationError {
    if let Ok(rest) = serde_json::from_slice::<esia_proto::EsiaRestError>(body) {
        return FederationError::Refused {
            code: rest.esia_code(),
            error: format!("http_{status}"),
            description: format!("{}: {}", rest.code, rest.message)
                .chars()
                .take(300)
                .collect(),
        };
    }
    match serde_json::from_slice::<EsiaErrorResponse>(body) {
        Ok(error) if status == 400 || status == 401 || status == 403 => FederationError::Refused {
            code: error.esia_code(),
            error: error.error,
            description: error.error_description,
        },
        Ok(error) => FederationError::HttpStatus {
            status,
            code: error.esia_code(),
        },
        Err(_) => FederationError::HttpStatus { status, code: None },
    }
}

/// `yyyy.MM.dd HH:mm:ss +hhmm`, as ESIA wants it.
pub fn esia_timestamp() -> String {
    Utc::now().format("%Y.%m.%d %H:%M:%S %z").to_string()
}

/// `DD.MM.YYYY` → date.
pub fn parse_esia_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%d.%m.%Y").ok()
}

/// Maps an `error=`/`error_description=` pair from the callback.
pub fn refusal_from_redirect(error: &str, description: Option<&str>) -> FederationError {
    let description = description.unwrap_or("").to_string();
    FederationError::Refused {
        code: EsiaCode::from_description(&description),
        error: claim_rules::oauth_error_name(error),
        description: description.chars().take(300).collect(),
    }
}

/// For tests and tools: the string the authorize signature covers.
pub fn authorize_signature_input(
    client_id: &str,
    scope: &str,
    timestamp: &str,
    state: &str,
    redirect_uri: &str,
) -> String {
    format!("{client_id}{scope}{timestamp}{state}{redirect_uri}")
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests;
