//! `/oauth2/authorize`: an app asks for a code; the person signs in here
//! first if they must, then the code goes back to the app's redirect URI.

use std::time::Duration;

use ::provider::authorize::{
    parse_authorization_request, AuthorizationRequest, AuthorizeError, SessionDecision,
};
use ::provider::code::{issue_code, CodeRecord, CODE_LIFETIME_SECS};
use ::provider::Error;
use chrono::{DateTime, Utc};
use ephemeral::sessions::random_token;
use ephemeral::typed::{get_json, put_json};
use serde::{Deserialize, Serialize};

use crate::shared::Session;
use crate::{AppError, Apps};

/// How long a person has to sign in before the app's request is forgotten.
const SIGN_IN_WINDOW: Duration = Duration::from_secs(10 * 60);

/// What the authorization endpoint does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeStep {
    /// The request cannot be trusted with a redirect (unknown client, a
    /// redirect URI not registered): show our page with `detail` (the
    /// spec's description, for the app's developers).
    Refused { detail: String },
    /// 302 to the app: a code, or an error the app must handle.
    Redirect(String),
    /// The person signs in first (the login page, coming back to
    /// `continue_path`; the page names the app `client_id`).
    SignIn {
        continue_path: String,
        client_id: String,
        english: bool,
    },
}

/// An authorization request waiting for the person to sign in.
#[derive(Debug, Serialize, Deserialize)]
struct Waiting {
    query: String,
    /// The sign-in must happen after this (`prompt=login`, `max_age`)...
    asked_at: DateTime<Utc>,
    /// ...in another session than the one the person had when asked
    /// (sessions start on whole seconds, so the time alone cannot tell).
    #[serde(default)]
    earlier_session: Option<String>,
}

fn waiting_key(id: &str) -> String {
    format!("login:app-authz:{}", ephemeral::sessions::token_hash(id))
}

pub(super) fn code_key(hash: &str) -> String {
    format!("login:app-code:{hash}")
}

impl Apps<'_> {
    /// `GET /oauth2/authorize?…` with the person's session, if any.
    pub async fn authorize(
        &self,
        query: &str,
        session: Option<&Session>,
    ) -> Result<AuthorizeStep, AppError> {
        let provider = self.provider()?;
        let request = match parse_authorization_request(query, &provider.clients) {
            Ok(request) => request,
            Err(refusal) => return Ok(refused(refusal, &provider.issuer)),
        };
        let auth_time = session.map(|s| self.sign_in_of(s).auth_time);
        // Sessions are stamped by the system clock, whatever the app's
        // clock says (the demo moves its own), so their age is read by it.
        match request.session_decision(auth_time, Utc::now()) {
            SessionDecision::UseSession => match session {
                Some(session) => self.issue(&request, session).await,
                None => Err(AppError::NotLoggedIn),
            },
            SessionDecision::Refuse(redirect) => {
                crate::telemetry::app_refusal("authorize", redirect.error.code());
                Ok(AuthorizeStep::Redirect(redirect.location(&provider.issuer)))
            }
            SessionDecision::SignIn => {
                let id = random_token();
                let waiting = Waiting {
                    query: query.to_string(),
                    // Compared with the session's start: the system clock.
                    asked_at: Utc::now(),
                    earlier_session: session.map(|s| self.sign_in_of(s).session_id),
                };
                put_json(
                    self.ephemeral().as_ref(),
                    &waiting_key(&id),
                    &waiting,
                    SIGN_IN_WINDOW,
                )
                .await?;
                Ok(self.sign_in_step(&request, &id))
            }
        }
    }

    /// `GET /oauth2/continue/{id}`: the person is back from the sign-in
    /// pages. A code is issued only for a session begun after the request
    /// (so `prompt=login` and `max_age` hold); otherwise the person is sent
    /// to sign in again.
    pub async fn continue_authorize(
        &self,
        id: &str,
        session: Option<&Session>,
    ) -> Result<AuthorizeStep, AppError> {
        let provider = self.provider()?;
        let key = waiting_key(id);
        let Some(waiting) = get_json::<Waiting>(self.ephemeral().as_ref(), &key).await? else {
            return Ok(AuthorizeStep::Refused {
                detail: "the sign-in took longer than 10 minutes or this request was already answered; start again from the app".into(),
            });
        };
        let request = match parse_authorization_request(&waiting.query, &provider.clients) {
            Ok(request) => request,
            Err(refusal) => return Ok(refused(refusal, &provider.issuer)),
        };
        let signed_in_since = session.map(|s| self.sign_in_of(s)).is_some_and(|now| {
            now.auth_time.timestamp() >= waiting.asked_at.timestamp()
                && waiting.earlier_session.as_deref() != Some(now.session_id.as_str())
        });
        let Some(session) = session.filter(|_| signed_in_since) else {
            return Ok(self.sign_in_step(&request, id));
        };
        // One code per request: of two tabs coming back, one wins.
        if self.ephemeral().take(&key).await?.is_none() {
            return Ok(AuthorizeStep::Refused {
                detail: "this request was already answered; start again from the app".into(),
            });
        }
        self.issue(&request, session).await
    }

    fn sign_in_step(&self, request: &AuthorizationRequest, id: &str) -> AuthorizeStep {
        AuthorizeStep::SignIn {
            continue_path: format!("/oauth2/continue/{id}"),
            client_id: request.client_id.clone(),
            english: request
                .ui_locales
                .as_deref()
                .is_some_and(|l| l.trim_start().starts_with("en")),
        }
    }

    /// A code for the session's person, kept for 60 s, and the redirect
    /// that carries it to the app.
    async fn issue(
        &self,
        request: &AuthorizationRequest,
        session: &Session,
    ) -> Result<AuthorizeStep, AppError> {
        let provider = self.provider()?;
        let issued = issue_code(request, self.sign_in_of(session), self.now())
            .map_err(|e| AppError::Internal(e.to_string()))?;
        put_json::<CodeRecord>(
            self.ephemeral().as_ref(),
            &code_key(&issued.record.code_hash),
            &issued.record,
            Duration::from_secs(CODE_LIFETIME_SECS.unsigned_abs()),
        )
        .await?;
        Ok(AuthorizeStep::Redirect(
            request.success_location(&issued.code, &provider.issuer),
        ))
    }
}

fn refused(refusal: AuthorizeError, issuer: &str) -> AuthorizeStep {
    match refusal {
        AuthorizeError::Page(error) => {
            crate::telemetry::app_refusal("authorize", error.code());
            AuthorizeStep::Refused {
                detail: describe(&error),
            }
        }
        AuthorizeError::Redirect(redirect) => {
            crate::telemetry::app_refusal("authorize", redirect.error.code());
            AuthorizeStep::Redirect(redirect.location(issuer))
        }
    }
}

fn describe(error: &Error) -> String {
    match error.description() {
        Some(description) => format!("{}: {description}", error.code()),
        None => error.code().to_string(),
    }
}
