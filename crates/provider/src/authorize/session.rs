//! Whether an authorization request can use the person's current
//! esia-link session, needs a sign-in, or must fail because it may not
//! show a page (`prompt=none`).

use chrono::{DateTime, Duration, Utc};

use super::{AuthorizationRequest, ErrorRedirect, Prompt};
use crate::errors::Error;

#[derive(Debug)]
pub enum SessionDecision {
    /// Issue a code for the signed-in person now.
    UseSession,
    /// Show the sign-in pages (State Services, diary password, activation),
    /// then issue the code without asking this again.
    SignIn,
    /// Redirect this error to the client (`prompt=none` could not be met).
    Refuse(ErrorRedirect),
}

impl AuthorizationRequest {
    /// `session_auth_time`: when the current session's person signed in,
    /// `None` without a session. Call once, before any sign-in page: after
    /// the sign-in the request is satisfied by definition.
    pub fn session_decision(
        &self,
        session_auth_time: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> SessionDecision {
        let fresh_enough = |auth_time: DateTime<Utc>| match self.max_age {
            // OpenID Connect Core §3.1.2.1: max_age=0 asks for a sign-in now.
            Some(0) => false,
            Some(max_age) => {
                // A max_age beyond chrono's range is "any age".
                let limit = i64::try_from(max_age).ok().and_then(Duration::try_seconds);
                limit.is_none_or(|limit| now.signed_duration_since(auth_time) <= limit)
            }
            None => true,
        };
        let usable = session_auth_time.is_some_and(fresh_enough);
        match self.prompt {
            Prompt::None if usable => SessionDecision::UseSession,
            Prompt::None => SessionDecision::Refuse(self.error_redirect(Error::LoginRequired)),
            Prompt::Login => SessionDecision::SignIn,
            Prompt::Default if usable => SessionDecision::UseSession,
            Prompt::Default => SessionDecision::SignIn,
        }
    }
}
