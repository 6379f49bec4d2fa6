//! The standard OIDC profile: discovery, authorization code with PKCE S256
//! and nonce, `client_secret_basic`, userinfo with configurable claim names.
//! `openidconnect` does discovery and the authorization URL, its `oauth2`
//! the code exchange, through [`BoundedHttp`] so that every answer is
//! capped; the id_token goes through the shared [`KeyCache`] verifier.

use std::sync::{Arc, OnceLock};

use chrono::Utc;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::StandardRevocableToken;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DiscoveryError, EndpointNotSet, EndpointSet, ExtraTokenFields, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl,
    RequestTokenError, Scope, StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use super::claim_rules::{self, ClaimProfile};
use super::http::{BoundedHttp, BoundedHttpError};
use super::jwt::{Expectations, KeyCache, KeySource};
use super::{
    read_limited, request_error, FederatedPerson, FederationError, PendingLogin, Profile,
    ProviderSettings, StartedLogin,
};
use config::ClaimNames;
use domain::tier::Tier;

/// What discovery says beyond the core fields: RFC 9207's flag.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IssParameterMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for IssParameterMetadata {}

/// `CoreProviderMetadata` with [`IssParameterMetadata`].
pub type Metadata = ProviderMetadata<
    IssParameterMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

pub struct OidcProvider {
    settings: ProviderSettings,
    client_secret: ClientSecret,
    claims: ClaimNames,
    http: reqwest::Client,
    bounded: BoundedHttp,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

struct Discovered {
    metadata: Metadata,
    jwks: KeyCache,
    /// The clients for the redirect URI they were first asked for (one per
    /// provider in practice): built once, since building them clones the
    /// whole discovery document and parses the redirect URI again.
    clients: OnceLock<(String, Arc<Clients>)>,
}

/// `openidconnect` builds the authorization request (nonce, PKCE, scopes);
/// its `oauth2` exchanges the code, with a token response that keeps the
/// id_token as text: [`KeyCache`] verifies it, and having `openidconnect`
/// decode every claim of it first was a twentieth of a login's CPU.
struct Clients {
    authorize: CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    /// `None` when discovery names no token endpoint.
    exchange: Option<ExchangeClient>,
}

type ExchangeClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

type TokenAnswer = StandardTokenResponse<IdTokenText, BasicTokenType>;

/// The token response's `id_token`, undecoded.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct IdTokenText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenText {}

impl OidcProvider {
    pub fn new(settings: ProviderSettings, http: reqwest::Client) -> OidcProvider {
        let (client_secret, claims) = match &settings.profile {
            Profile::Oidc(oidc) => (
                ClientSecret::new(oidc.client_secret.expose().to_string()),
                oidc.claims.clone(),
            ),
            // `Provider::build` only hands over oidc settings.
            Profile::Esia(_) => (ClientSecret::new(String::new()), ClaimNames::default()),
        };
        let bounded = BoundedHttp::new(http.clone(), settings.max_response_bytes);
        OidcProvider {
            settings,
            client_secret,
            claims,
            http,
            bounded,
            discovered: RwLock::new(None),
        }
    }

    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    /// Discovery runs on first use (the IdP may start after us) and is kept.
    async fn discovered(&self) -> Result<Arc<Discovered>, FederationError> {
        if let Some(found) = self.discovered.read().await.as_ref() {
            return Ok(found.clone());
        }
        let mut slot = self.discovered.write().await;
        if let Some(found) = slot.as_ref() {
            return Ok(found.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| FederationError::BadResponse(format!("issuer URL: {e}")))?;
        let metadata = Metadata::discover_async(issuer, &self.bounded)
            .await
            .map_err(discovery_error)?;
        let jwks = KeyCache::new(
            KeySource::Jwks(metadata.jwks_uri().url().to_string()),
            &self.settings.id_token_algs,
            self.http.clone(),
            self.settings.max_response_bytes,
        );
        let found = Arc::new(Discovered {
            metadata,
            jwks,
            clients: OnceLock::new(),
        });
        *slot = Some(found.clone());
        Ok(found)
    }

    /// RFC 9207: whether discovery promises `iss` on every authorization
    /// response.
    pub async fn advertises_iss_parameter(&self) -> Result<bool, FederationError> {
        let discovered = self.discovered().await?;
        Ok(discovered
            .metadata
            .additional_metadata()
            .authorization_response_iss_parameter_supported
            == Some(true))
    }

    fn clients(
        &self,
        discovered: &Discovered,
        redirect_uri: &str,
    ) -> Result<Arc<Clients>, FederationError> {
        if let Some((uri, clients)) = discovered.clients.get() {
            if uri == redirect_uri {
                return Ok(clients.clone());
            }
        }
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| FederationError::BadResponse(format!("redirect URI: {e}")))?;
        let client_id = ClientId::new(self.settings.client_id.clone());
        let exchange = discovered.metadata.token_endpoint().map(|token_url| {
            oauth2::Client::new(client_id.clone())
                .set_client_secret(self.client_secret.clone())
                .set_token_uri(token_url.clone())
                .set_redirect_uri(redirect.clone())
        });
        let clients = Arc::new(Clients {
            authorize: CoreClient::from_provider_metadata(
                discovered.metadata.clone(),
                client_id,
                Some(self.client_secret.clone()),
            )
            .set_redirect_uri(redirect),
            exchange,
        });
        let _ = discovered
            .clients
            .set((redirect_uri.to_string(), clients.clone()));
        Ok(clients)
    }

    pub async fn start(&self, redirect_uri: &str) -> Result<StartedLogin, FederationError> {
        let discovered = self.discovered().await?;
        let clients = self.clients(&discovered, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = clients
            .authorize
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self
            .settings
            .scopes
            .iter()
            .filter(|s| s.as_str() != "openid")
        {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(StartedLogin {
            authorize_url: url.into(),
            state: state.secret().clone(),
            nonce: Some(nonce.secret().clone()),
            pkce_verifier: Some(verifier.secret().clone()),
        })
    }

    pub async fn finish(
        &self,
        code: &str,
        pending: &PendingLogin<'_>,
    ) -> Result<FederatedPerson, FederationError> {
        let discovered = self.discovered().await?;
        let clients = self.clients(&discovered, pending.redirect_uri)?;
        let mut exchange = clients
            .exchange
            .as_ref()
            .ok_or_else(|| FederationError::BadResponse("no token endpoint".into()))?
            .exchange_code(AuthorizationCode::new(code.to_string()));
        if let Some(verifier) = pending.pkce_verifier {
            exchange = exchange.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()));
        }
        let tokens = exchange
            .request_async(&self.bounded)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(response) => FederationError::Refused {
                    code: None,
                    error: response.error().as_ref().to_string(),
                    description: response.error_description().cloned().unwrap_or_default(),
                },
                RequestTokenError::Request(inner) => inner.into(),
                RequestTokenError::Parse(inner, _) => {
                    FederationError::BadResponse(format!("token response: {inner}"))
                }
                RequestTokenError::Other(inner) => FederationError::BadResponse(inner),
            })?;
        claim_rules::check_token_response(tokens.token_type().as_ref(), None)?;
        let id_token = tokens.extra_fields().id_token.as_deref().ok_or_else(|| {
            FederationError::BadResponse("no id_token in the token response".into())
        })?;
        let subject = discovered
            .jwks
            .verify(
                id_token,
                &Expectations {
                    issuer: &self.settings.issuer,
                    client_id: &self.settings.client_id,
                    trusted_audiences: &self.settings.trusted_audiences,
                    nonce: pending.nonce,
                    now: Utc::now().timestamp(),
                    max_age_secs: self.settings.max_token_age.as_secs() as i64,
                    profile: ClaimProfile::Oidc,
                },
            )
            .await?
            .subject;
        let userinfo = self
            .userinfo(&discovered.metadata, tokens.access_token().secret())
            .await?;
        // OIDC Core 5.3.2: the same string, compared exactly.
        if ClaimProfile::Oidc.subject(userinfo.get("sub")).as_deref() != Some(subject.as_str()) {
            return Err(FederationError::SubjectMismatch);
        }
        Ok(self.person_from_claims(subject, &userinfo))
    }

    async fn userinfo(
        &self,
        metadata: &Metadata,
        access_token: &str,
    ) -> Result<Map<String, Value>, FederationError> {
        let endpoint = metadata
            .userinfo_endpoint()
            .ok_or_else(|| FederationError::BadResponse("no userinfo endpoint".into()))?;
        let response = self
            .http
            .get(endpoint.url().clone())
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        let body = read_limited(response, self.settings.max_response_bytes).await?;
        if !status.is_success() {
            return Err(FederationError::HttpStatus {
                status: status.as_u16(),
                code: None,
            });
        }
        serde_json::from_slice(&body).map_err(|e| {
            FederationError::BadResponse(format!("userinfo is not a JSON object: {e}"))
        })
    }

    fn person_from_claims(&self, subject: String, claims: &Map<String, Value>) -> FederatedPerson {
        let names = &self.claims;
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let birth_date = text(&names.birth_date).and_then(|d| claim_rules::birthdate(&d));
        let parsed_tier = text(&names.tier).and_then(|t| Tier::parse(&t));
        FederatedPerson {
            provider: self.settings.id.clone(),
            subject,
            surname: text(&names.surname),
            given_name: text(&names.given_name),
            patronymic: text(&names.patronymic),
            snils: text(&names.snils),
            birth_date,
            tier: parsed_tier.unwrap_or(Tier::Simplified),
            tier_known: parsed_tier.is_some(),
            kids: Vec::new(),
        }
    }
}

/// Transport failures stay "unreachable"; an answer over the cap, a wrong
/// status or a document that does not parse or names another issuer is a
/// bad answer.
fn discovery_error(error: DiscoveryError<BoundedHttpError>) -> FederationError {
    match error {
        DiscoveryError::Request(inner) => match FederationError::from(inner) {
            FederationError::Unreachable(reason) => {
                FederationError::Unreachable(format!("discovery failed: {reason}"))
            }
            other => other,
        },
        DiscoveryError::Response(status, _, _) if !status.is_success() => {
            FederationError::HttpStatus {
                status: status.as_u16(),
                code: None,
            }
        }
        other => FederationError::BadResponse(format!("discovery: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::{Provider, ProviderSettings};
    use config::ProviderConfig;

    fn provider(idp: &mock_idp::MockIdp) -> Provider {
        let raw: ProviderConfig = toml::from_str(&format!(
            r#"
            id = "oidc"
            profile = "oidc"
            display_name_ru = "Тест"
            display_name_en = "Test"
            issuer = "{}"
            client_id = "esia-link-oidc"
            client_secret = "demo-oidc-secret"
            scopes = ["openid"]
            "#,
            idp.issuer()
        ))
        .expect("provider TOML");
        Provider::build(ProviderSettings::parse(&raw).expect("settings")).expect("provider")
    }

    #[tokio::test]
    async fn discovery_decides_whether_the_iss_parameter_is_required() {
        let idp = mock_idp::spawn(mock_idp::MockIdpConfig::default())
            .await
            .expect("mock");
        let quiet = provider(&idp);
        assert!(
            quiet.check_iss_parameter(None).await.is_ok(),
            "not advertised"
        );
        assert!(quiet.check_iss_parameter(Some(&idp.issuer())).await.is_ok());
        let other = format!("{}/", idp.issuer());
        let refused = quiet.check_iss_parameter(Some(&other)).await;
        assert_eq!(
            refused.map_err(|e| e.code()),
            Err("callback.iss_mismatch".into())
        );

        idp.set_iss_parameter(true);
        let advertised = provider(&idp);
        let refused = advertised.check_iss_parameter(None).await;
        assert_eq!(
            refused.map_err(|e| e.code()),
            Err("callback.iss_missing".into())
        );
        assert!(advertised
            .check_iss_parameter(Some(&idp.issuer()))
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn an_oversized_discovery_document_is_a_bad_response() {
        let idp = mock_idp::spawn(mock_idp::MockIdpConfig::default())
            .await
            .expect("mock");
        idp.set_fault(mock_idp::Fault::HugeDiscovery);
        let started = Instant::now();
        let refused = provider(&idp).start("http://127.0.0.1:1/cb").await;
        assert_eq!(
            refused.map(|_| ()).map_err(|e| e.code()),
            Err("idp.bad_response".into())
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "stopped reading early"
        );
        idp.clear_faults();
        assert!(provider(&idp).start("http://127.0.0.1:1/cb").await.is_ok());
    }
}
