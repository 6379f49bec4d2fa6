//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4)
//! and the deliveries a session's end produces.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::clients::Client;
use crate::errors::Result;
use crate::keys::RegisteredClaims;
use crate::provider::Provider;

/// §2.4 header `typ` (recommended, so a logout token cannot be mistaken
/// for an ID token).
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// §2.4: never a `nonce` (that is how a receiver tells it from an ID
/// token); both `sub` and `sid`, since esia-link has both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutTokenClaims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub events: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    pub sub: String,
    pub sid: String,
}

impl RegisteredClaims for LogoutTokenClaims {
    fn iss(&self) -> &str {
        &self.iss
    }
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// One POST to a client's `backchannel_logout_uri`, for the caller's
/// durable queue (retried with backoff; the token stays valid for
/// `lifetimes.logout_token_secs`, so a delivery that waits longer needs a
/// fresh token from [`Provider::backchannel_delivery`]).
#[derive(Debug, Clone)]
pub struct BackchannelDelivery {
    pub client_id: String,
    pub uri: Url,
    pub logout_token: String,
    pub jti: String,
}

impl BackchannelDelivery {
    /// `application/x-www-form-urlencoded` body (§2.5).
    pub fn form_body(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("logout_token", &self.logout_token)
            .finish()
    }
}

impl Provider {
    /// The logout token for one client of an ended session; `None` when the
    /// client registered no back-channel URI. Signed with the client's
    /// ID-token algorithm, which the client already verifies.
    pub fn backchannel_delivery(
        &self,
        client: &Client,
        account_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<BackchannelDelivery>> {
        let Some(uri) = &client.backchannel_logout_uri else {
            return Ok(None);
        };
        let jti = Uuid::new_v4().to_string();
        let claims = LogoutTokenClaims {
            iss: self.issuer.clone(),
            aud: client.id.clone(),
            iat: now.timestamp(),
            exp: (now + self.lifetimes.logout_token()).timestamp(),
            jti: jti.clone(),
            events: BTreeMap::from([(
                BACKCHANNEL_LOGOUT_EVENT.to_string(),
                serde_json::Map::new(),
            )]),
            sub: self.subjects.subject(client, account_id),
            sid: session_id.to_string(),
        };
        let logout_token = self
            .keys
            .signing_key(client.id_token_alg, now)?
            .sign_jwt(LOGOUT_TOKEN_TYP, &claims)?;
        Ok(Some(BackchannelDelivery {
            client_id: client.id.clone(),
            uri: uri.clone(),
            logout_token,
            jti,
        }))
    }

    /// Deliveries for every client that received tokens in the session
    /// (`client_ids`, from the caller's record of the session's grants).
    /// Unknown client ids (removed from configuration) are skipped.
    pub fn backchannel_deliveries<'a>(
        &self,
        client_ids: impl IntoIterator<Item = &'a str>,
        account_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<BackchannelDelivery>> {
        let mut deliveries = Vec::new();
        for id in client_ids {
            if let Some(client) = self.clients.get(id) {
                if let Some(delivery) =
                    self.backchannel_delivery(client, account_id, session_id, now)?
                {
                    deliveries.push(delivery);
                }
            }
        }
        Ok(deliveries)
    }
}
