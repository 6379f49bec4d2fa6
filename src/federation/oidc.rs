//! The standard OIDC profile: discovery, authorization code with PKCE S256
//! and nonce, `client_secret_basic`, userinfo with configurable claim names.
//! `openidconnect` does discovery, the authorization URL and the code
//! exchange; the id_token goes through the shared [`KeyCache`] verifier.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
};
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use super::jwt::{Expectations, KeyCache, KeySource};
use super::{
    read_limited, request_error, FederatedPerson, FederationError, PendingLogin, Profile,
    ProviderSettings, StartedLogin, MAX_RESPONSE_BYTES,
};
use crate::config::ClaimNames;
use crate::domain::tier::Tier;

pub struct OidcProvider {
    settings: ProviderSettings,
    client_secret: ClientSecret,
    claims: ClaimNames,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

struct Discovered {
    metadata: CoreProviderMetadata,
    jwks: KeyCache,
}

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
        OidcProvider {
            settings,
            client_secret,
            claims,
            http,
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
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| FederationError::Unreachable(format!("discovery failed: {e}")))?;
        let jwks = KeyCache::new(
            KeySource::Jwks(metadata.jwks_uri().url().to_string()),
            &self.settings.id_token_algs,
            self.http.clone(),
        );
        let found = Arc::new(Discovered { metadata, jwks });
        *slot = Some(found.clone());
        Ok(found)
    }

    fn client(
        &self,
        metadata: &CoreProviderMetadata,
        redirect_uri: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        FederationError,
    > {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| FederationError::BadResponse(format!("redirect URI: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(redirect))
    }

    pub async fn start(&self, redirect_uri: &str) -> Result<StartedLogin, FederationError> {
        let discovered = self.discovered().await?;
        let client = self.client(&discovered.metadata, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
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
        let client = self.client(&discovered.metadata, pending.redirect_uri)?;
        let mut exchange = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| FederationError::BadResponse(format!("no token endpoint: {e}")))?;
        if let Some(verifier) = pending.pkce_verifier {
            exchange = exchange.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()));
        }
        let tokens = exchange
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(response) => FederationError::Refused {
                    code: None,
                    error: response.error().as_ref().to_string(),
                    description: response.error_description().cloned().unwrap_or_default(),
                },
                RequestTokenError::Request(inner) => {
                    FederationError::Unreachable(format!("token request failed: {inner}"))
                }
                RequestTokenError::Parse(inner, _) => {
                    FederationError::BadResponse(format!("token response: {inner}"))
                }
                RequestTokenError::Other(inner) => FederationError::BadResponse(inner),
            })?;
        let id_token = tokens
            .extra_fields()
            .id_token()
            .ok_or_else(|| {
                FederationError::BadResponse("no id_token in the token response".into())
            })?
            .to_string();
        let subject = discovered
            .jwks
            .verify(
                &id_token,
                &Expectations {
                    issuer: &self.settings.issuer,
                    client_id: &self.settings.client_id,
                    nonce: pending.nonce,
                    now: Utc::now().timestamp(),
                },
            )
            .await?
            .subject;
        let userinfo = self
            .userinfo(&discovered.metadata, tokens.access_token().secret())
            .await?;
        if super::jwt::subject_text(userinfo.get("sub")).as_deref() != Some(subject.as_str()) {
            return Err(FederationError::SubjectMismatch);
        }
        Ok(self.person_from_claims(subject, &userinfo))
    }

    async fn userinfo(
        &self,
        metadata: &CoreProviderMetadata,
        access_token: &str,
    ) -> Result<Map<String, Value>, FederationError> {
        let endpoint = metadata
            .userinfo_endpoint()
            .ok_or_else(|| FederationError::BadResponse("no userinfo endpoint".into()))?;
        let response = self
            .http
            .get(endpoint.url().as_str())
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        let body = read_limited(response, MAX_RESPONSE_BYTES).await?;
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
        let birth_date = text(&names.birth_date).and_then(|d| {
            NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(&d, "%d.%m.%Y"))
                .ok()
        });
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
        }
    }
}
