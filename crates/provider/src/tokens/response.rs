//! The token endpoint's answer (RFC 6749 §5.1 with OpenID Connect's
//! `id_token`), as openidconnect's own response type.

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreTokenType,
};
use openidconnect::{
    AccessToken, EmptyExtraTokenFields, IdTokenFields, RefreshToken, StandardTokenResponse,
};

use super::{EsiaLinkIdToken, Grant, MintedAccessToken, PersonClaims, ProviderClaims};
use crate::clients::Client;
use crate::errors::Result;
use crate::provider::Provider;
use crate::scope::Scopes;

pub type TokenResponse = StandardTokenResponse<
    IdTokenFields<
        ProviderClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// Headers every token response carries (RFC 6749 §5.1).
pub const TOKEN_RESPONSE_HEADERS: [(&str, &str); 2] =
    [("Cache-Control", "no-store"), ("Pragma", "no-cache")];

#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access: MintedAccessToken,
    pub id_token: EsiaLinkIdToken,
    /// The opaque refresh token (its family is the caller's to store).
    pub refresh_token: Option<String>,
    pub scopes: Scopes,
}

impl IssuedTokens {
    pub fn response(&self, now: DateTime<Utc>) -> TokenResponse {
        let mut response = TokenResponse::new(
            AccessToken::new(self.access.token.clone()),
            CoreTokenType::Bearer,
            IdTokenFields::new(Some(self.id_token.clone()), EmptyExtraTokenFields {}),
        );
        let expires_in = (self.access.expires_at - now).to_std().unwrap_or_default();
        response.set_expires_in(Some(&expires_in));
        response.set_refresh_token(self.refresh_token.clone().map(RefreshToken::new));
        response.set_scopes(Some(
            self.scopes
                .iter()
                .map(|s| openidconnect::Scope::new(s.as_str().to_string()))
                .collect(),
        ));
        response
    }
}

impl Provider {
    /// Access token and ID token for a grant, with the refresh token the
    /// caller created or rotated for it.
    pub fn issue_tokens(
        &self,
        grant: &Grant,
        client: &Client,
        person: &PersonClaims,
        refresh_token: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens> {
        let access = self.mint_access_token(grant, client, person, now)?;
        let id_token = self.mint_id_token(grant, client, person, &access.token, now)?;
        Ok(IssuedTokens {
            access,
            id_token,
            refresh_token,
            scopes: grant.scopes,
        })
    }
}
