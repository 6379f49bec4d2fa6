//! esia-link as the OpenID Provider of the diary's own web and mobile apps
//! (issue #28): the person signs in here by the usual ways (State Services,
//! the diary password, an activation code) and the app gets tokens.
//!
//! The protocol decisions are the `provider` crate's pure functions; this
//! area stores what they produce and reads what they need:
//!
//! | what | where |
//! | --- | --- |
//! | authorization requests waiting for a sign-in (10 min) | ephemeral, `login:app-authz:` |
//! | authorization codes (60 s, taken once) and the mark of a redeemed one | ephemeral, `login:app-code:`, `app-code-used:` |
//! | `private_key_jwt` assertion ids, revoked access tokens' `jti` | ephemeral, `app-jti:`, `app-deny:` |
//! | grants (refresh-token families) | database, `app_grants` |
//! | back-channel logouts owed | database, `app_logout_deliveries` |
//!
//! Files: [`authorize`] (sign-in and codes), [`token`] (the token
//! endpoint), [`resource`] (userinfo, introspection, revocation),
//! [`logout`] (RP-initiated logout, sessions ending, back-channel delivery).

pub mod authorize;
pub mod logout;
pub mod resource;
pub mod token;

use std::sync::Arc;

use ::provider::auth_context::{Acr, Amr, SignIn};
use ::provider::tokens::{PersonClaims, PersonName};
use ::provider::Provider;
use ephemeral::sessions::session_sid;
use uuid::Uuid;

use crate::shared::Session;
use crate::{AppError, Apps};

pub use authorize::AuthorizeStep;
pub use logout::{Deliveries, LogoutStep};

/// A direct answer of a provider endpoint (token, userinfo, introspection,
/// revocation): the web layer writes it as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectAnswer {
    pub status: u16,
    /// `None`: an empty body (a revocation's 200).
    pub body: Option<serde_json::Value>,
    /// `WWW-Authenticate`, for 401s.
    pub www_authenticate: Option<String>,
    /// `Cache-Control: no-store` and `Pragma: no-cache` (token responses
    /// and everything carrying personal data).
    pub no_store: bool,
}

impl DirectAnswer {
    fn json(body: serde_json::Value) -> DirectAnswer {
        DirectAnswer {
            status: 200,
            body: Some(body),
            www_authenticate: None,
            no_store: true,
        }
    }

    fn of<T: serde::Serialize>(body: &T) -> Result<DirectAnswer, AppError> {
        serde_json::to_value(body)
            .map(DirectAnswer::json)
            .map_err(|e| AppError::Internal(format!("cannot render a provider answer: {e}")))
    }

    /// The spec's error answer; server errors are logged here, without the
    /// request's data, and answered as `server_error`.
    fn error(error: &::provider::Error, endpoint: &'static str) -> DirectAnswer {
        if error.status() >= 500 {
            tracing::error!(%error, endpoint, "provider endpoint failed");
        }
        crate::telemetry::app_refusal(endpoint, error.code());
        DirectAnswer {
            status: error.status(),
            body: Some(error.json_body()),
            www_authenticate: error.www_authenticate(),
            no_store: true,
        }
    }
}

impl Apps<'_> {
    /// The provider, or `NotFound` when `[apps]` is not configured (the
    /// endpoints then answer 404).
    pub fn provider(&self) -> Result<&Arc<Provider>, AppError> {
        self.apps.as_ref().ok_or(AppError::NotFound)
    }

    /// An app's name (Russian, English), for the login page it sends a
    /// person to; `None` for an unknown client.
    pub fn client_names(&self, client_id: &str) -> Option<(String, String)> {
        let client = self.apps.as_ref()?.clients.get(client_id)?;
        Some((client.name_ru.clone(), client.name_en.clone()))
    }

    /// Whether esia-link serves the diary's apps at all.
    pub fn enabled(&self) -> bool {
        self.apps.is_some()
    }

    /// `/.well-known/openid-configuration`.
    pub fn discovery(&self) -> Result<serde_json::Value, AppError> {
        let provider = self.provider()?;
        let metadata = provider
            .discovery(self.now())
            .map_err(|e| AppError::Internal(e.to_string()))?;
        serde_json::to_value(metadata)
            .map_err(|e| AppError::Internal(format!("cannot render the discovery document: {e}")))
    }

    /// `/oauth2/jwks`: the keys published now (including those that will
    /// sign soon and those retired but still verifying).
    pub fn jwks(&self) -> Result<serde_json::Value, AppError> {
        let provider = self.provider()?;
        serde_json::to_value(provider.keys.jwks(self.now()))
            .map_err(|e| AppError::Internal(format!("cannot render the JWKS: {e}")))
    }

    /// How the session's person signed in, as the apps' tokens say it.
    pub(crate) fn sign_in_of(&self, session: &Session) -> SignIn {
        let data = &session.data;
        let (acr, amr) = if data.provider == "password" {
            (Acr::Password, vec![Amr::Pwd])
        } else {
            let acr = match data.tier.as_deref() {
                Some("verified") => Acr::EsiaVerified,
                Some("standard") => Acr::EsiaStandard,
                _ => Acr::EsiaSimplified,
            };
            (acr, vec![Amr::Fed])
        };
        SignIn {
            account_id: data.account_id.to_string(),
            session_id: session_sid(&session.id),
            auth_time: chrono::DateTime::from_timestamp(data.created_at, 0).unwrap_or_default(),
            acr,
            amr,
        }
    }

    /// The person's claims for an app: the name parts, and the diary scope's
    /// role, school, region and the pupils they may see (as
    /// `/api/v1/me/access` answers).
    pub(crate) async fn person_claims(&self, account_id: &str) -> Result<PersonClaims, AppError> {
        let id = Uuid::parse_str(account_id).map_err(|_| AppError::NotFound)?;
        let viewer = self.store().family_viewer(id).await?;
        let access = self.family().access_list(&viewer, self.now()).await?;
        let person = &viewer.person;
        let diary = serde_json::json!({
            "role": person.role,
            "school": person.school_name,
            "class": person.class_name,
            "region": viewer.region,
            "pupils": access.pupils,
        });
        Ok(PersonClaims {
            name: Some(PersonName {
                family_name: person.surname.clone(),
                given_name: person.given_name.clone(),
                middle_name: person.patronymic.clone(),
            }),
            diary: Some(diary),
        })
    }
}
