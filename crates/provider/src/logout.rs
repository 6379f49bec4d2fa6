//! `/oauth2/logout`: OpenID Connect RP-Initiated Logout 1.0 §2–§3.
//!
//! Every error here is shown on our page and never redirected: a
//! post-logout redirect is allowed only to a URI registered by the client
//! that the request names.

use chrono::{DateTime, Utc};
use url::Url;

use crate::errors::{Error, Result};
use crate::params::Params;
use crate::provider::Provider;
use crate::tokens::IdTokenHintClaims;

#[derive(Debug, Clone)]
pub struct LogoutRequest {
    /// The client named by the hint's `aud` or by `client_id`.
    pub client_id: Option<String>,
    /// A verified ID token of ours (possibly expired, §2: the person may
    /// have been away longer than the token lived).
    pub hint: Option<IdTokenHintClaims>,
    /// Registered for `client_id`; `None` when not asked for.
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
}

impl Provider {
    /// From the query (GET) or form (POST) of the logout endpoint.
    pub fn parse_logout_request(
        &self,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<LogoutRequest> {
        params.refuse_repeats()?;
        let hint = match params.get("id_token_hint") {
            Some(token) => Some(
                self.keys
                    .verify::<IdTokenHintClaims>(token, "JWT", &self.issuer, now, false)
                    .map_err(|_| {
                        Error::invalid_request("id_token_hint was not issued by this provider")
                    })?,
            ),
            None => None,
        };
        let hinted_client = match &hint {
            // Our ID tokens have exactly one audience, the client.
            Some(claims) => match claims.aud.as_slice() {
                [client] => Some(client.clone()),
                _ => {
                    return Err(Error::invalid_request(
                        "id_token_hint has no single audience",
                    ))
                }
            },
            None => None,
        };
        let client_id = match (hinted_client, params.get("client_id")) {
            (Some(hinted), Some(given)) if hinted != given => {
                return Err(Error::invalid_request(
                    "client_id differs from the id_token_hint's audience",
                ))
            }
            (Some(hinted), _) => Some(hinted),
            (None, given) => given.map(str::to_string),
        };
        let client = match &client_id {
            Some(id) => Some(
                self.clients
                    .get(id)
                    .ok_or_else(|| Error::invalid_request("unknown client"))?,
            ),
            None => None,
        };
        let post_logout_redirect_uri = match params.get("post_logout_redirect_uri") {
            None => None,
            Some(uri) => {
                let client = client.ok_or_else(|| {
                    Error::invalid_request(
                        "post_logout_redirect_uri needs id_token_hint or client_id",
                    )
                })?;
                if !client.allows_post_logout_redirect(uri) {
                    return Err(Error::invalid_request(
                        "post_logout_redirect_uri is not registered for this client",
                    ));
                }
                Some(uri.to_string())
            }
        };
        Ok(LogoutRequest {
            client_id,
            hint,
            post_logout_redirect_uri,
            state: params.get("state").map(str::to_string),
            ui_locales: params.get("ui_locales").map(str::to_string),
        })
    }
}

impl LogoutRequest {
    /// Ask the person before ending the session (§2: the OP SHOULD, since a
    /// bare link to the logout endpoint would otherwise sign anyone out):
    /// unless a valid hint names the current session.
    pub fn needs_confirmation(&self, current_session_id: Option<&str>) -> bool {
        match (&self.hint, current_session_id) {
            (Some(hint), Some(current)) => hint.sid.as_deref() != Some(current),
            _ => true,
        }
    }

    /// Where to send the person after logging out (§3), with `state`.
    pub fn redirect_location(&self) -> Option<String> {
        let uri = self.post_logout_redirect_uri.as_ref()?;
        let Some(state) = &self.state else {
            return Some(uri.clone());
        };
        let mut url = Url::parse(uri).ok()?;
        url.query_pairs_mut().append_pair("state", state);
        Some(url.into())
    }
}
