//! Minting: ID tokens (built by openidconnect's `IdToken::new`, signed by
//! our ring keys), RFC 9068 access tokens, back-channel logout tokens, the
//! token endpoint's response, and the subject each client sees.

mod access_token;
mod id_token;
mod logout_token;
mod response;
mod signed_here;
mod subject;

#[cfg(test)]
mod tests;

pub use access_token::{AccessTokenClaims, MintedAccessToken, ACCESS_TOKEN_TYP};
pub(crate) use id_token::{diary_claim, standard_claims};
pub use id_token::{EsiaLinkIdToken, EsiaLinkIdTokenClaims, IdTokenHintClaims, ProviderClaims};
pub use logout_token::{
    BackchannelDelivery, LogoutTokenClaims, BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TYP,
};
pub use response::{IssuedTokens, TokenResponse, TOKEN_RESPONSE_HEADERS};
pub use signed_here::SignedHere;
pub use subject::SubjectKey;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth_context::SignIn;
use crate::scope::Scopes;

/// What a redeemed code or a rotated refresh token entitles the client
/// to: the input of every minting function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub client_id: String,
    pub scopes: Scopes,
    pub sign_in: SignIn,
    /// Only from the authorization request; a refreshed ID token carries
    /// none (OpenID Connect Core §12.2).
    pub nonce: Option<String>,
    /// The refresh-token family of this grant; access tokens name it, so
    /// revoking the family (a replayed code, a reused refresh token) makes
    /// them inactive at introspection and userinfo too.
    pub family_id: Uuid,
}

/// The person's claims the caller looked up for this grant; each is
/// released only under its scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonClaims {
    /// Scope `profile`.
    pub name: Option<PersonName>,
    /// Scope `diary`: role, school, region, pupils with basis and services
    /// (the `/api/v1/me/access` answer), as the caller builds it.
    pub diary: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName {
    pub family_name: String,
    pub given_name: String,
    /// The patronymic, which many people lack.
    pub middle_name: Option<String>,
}

impl PersonName {
    /// The `name` claim in the order Russian documents use: family, given,
    /// patronymic.
    pub fn full(&self) -> String {
        let mut full = format!("{} {}", self.family_name, self.given_name);
        if let Some(middle) = &self.middle_name {
            full.push(' ');
            full.push_str(middle);
        }
        full
    }
}
