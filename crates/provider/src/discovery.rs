//! `/.well-known/openid-configuration` as openidconnect's
//! `ProviderMetadata`. `CoreProviderMetadata` has no room for the
//! revocation, introspection, PKCE, logout and RFC 9207 fields, so this is
//! the same type with those fields as its additional metadata (a client
//! that parses `CoreProviderMetadata` reads it unchanged).

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, AuthenticationContextClass, EndSessionUrl, IssuerUrl,
    JsonWebKeySetUrl, LanguageTag, LogoutProviderMetadata, ProviderMetadata, ResponseTypes,
    Scope as OidcScope, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

use crate::auth_context::Acr;
use crate::errors::{Error, Result};
use crate::jws::SigningAlg;
use crate::provider::Provider;
use crate::scope::Scope;

pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const USERINFO_PATH: &str = "/oauth2/userinfo";
pub const REVOKE_PATH: &str = "/oauth2/revoke";
pub const INTROSPECT_PATH: &str = "/oauth2/introspect";
pub const LOGOUT_PATH: &str = "/oauth2/logout";
pub const JWKS_PATH: &str = "/oauth2/jwks";
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraMetadata {
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<CoreClientAuthMethod>,
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<CoreClientAuthMethod>,
    /// RFC 7636 / RFC 8414: S256 only.
    pub code_challenge_methods_supported: Vec<String>,
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    /// RFC 9207: `iss` in every authorization response.
    pub authorization_response_iss_parameter_supported: bool,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

pub type EsiaLinkProviderMetadata = ProviderMetadata<
    LogoutProviderMetadata<ExtraMetadata>,
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

/// Claims an ID token or userinfo can carry.
pub const CLAIMS_SUPPORTED: [&str; 15] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "diary",
];

impl Provider {
    pub fn discovery(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<EsiaLinkProviderMetadata> {
        let url_error = |e: url::ParseError| Error::Internal(format!("endpoint URL: {e}"));
        let client_methods = vec![
            CoreClientAuthMethod::ClientSecretBasic,
            CoreClientAuthMethod::ClientSecretPost,
            CoreClientAuthMethod::PrivateKeyJwt,
        ];
        let mut token_methods = client_methods.clone();
        token_methods.push(CoreClientAuthMethod::None);
        let algs: Vec<_> = [SigningAlg::Rs256, SigningAlg::Es256]
            .into_iter()
            .filter(|alg| self.keys.can_sign(*alg, now))
            .map(SigningAlg::to_core)
            .collect();
        let extra = ExtraMetadata {
            revocation_endpoint: self.endpoint(REVOKE_PATH),
            revocation_endpoint_auth_methods_supported: token_methods.clone(),
            introspection_endpoint: self.endpoint(INTROSPECT_PATH),
            introspection_endpoint_auth_methods_supported: client_methods,
            code_challenge_methods_supported: vec!["S256".into()],
            backchannel_logout_supported: true,
            backchannel_logout_session_supported: true,
            authorization_response_iss_parameter_supported: true,
        };
        let logout = LogoutProviderMetadata {
            end_session_endpoint: Some(
                EndSessionUrl::new(self.endpoint(LOGOUT_PATH)).map_err(url_error)?,
            ),
            additional_metadata: extra,
        };
        let metadata = EsiaLinkProviderMetadata::new(
            IssuerUrl::new(self.issuer.clone()).map_err(url_error)?,
            AuthUrl::new(self.endpoint(AUTHORIZE_PATH)).map_err(url_error)?,
            JsonWebKeySetUrl::new(self.endpoint(JWKS_PATH)).map_err(url_error)?,
            vec![ResponseTypes::new(vec![CoreResponseType::Code])],
            vec![
                CoreSubjectIdentifierType::Pairwise,
                CoreSubjectIdentifierType::Public,
            ],
            algs.clone(),
            logout,
        )
        .set_token_endpoint(Some(
            TokenUrl::new(self.endpoint(TOKEN_PATH)).map_err(url_error)?,
        ))
        .set_userinfo_endpoint(Some(
            UserInfoUrl::new(self.endpoint(USERINFO_PATH)).map_err(url_error)?,
        ))
        .set_scopes_supported(Some(
            Scope::ALL
                .iter()
                .map(|s| OidcScope::new(s.as_str().to_string()))
                .collect(),
        ))
        .set_response_modes_supported(Some(vec![CoreResponseMode::Query]))
        .set_grant_types_supported(Some(vec![
            CoreGrantType::AuthorizationCode,
            CoreGrantType::RefreshToken,
        ]))
        .set_acr_values_supported(Some(
            Acr::ALL
                .iter()
                .map(|a| AuthenticationContextClass::new(a.as_str().to_string()))
                .collect(),
        ))
        .set_token_endpoint_auth_methods_supported(Some(token_methods))
        .set_token_endpoint_auth_signing_alg_values_supported(Some(vec![
            SigningAlg::Rs256.to_core(),
            SigningAlg::Es256.to_core(),
        ]))
        .set_claims_supported(Some(
            CLAIMS_SUPPORTED
                .iter()
                .map(|c| CoreClaimName::new(c.to_string()))
                .collect(),
        ))
        .set_claims_parameter_supported(Some(false))
        .set_request_parameter_supported(Some(false))
        .set_request_uri_parameter_supported(Some(false))
        .set_ui_locales_supported(Some(vec![
            LanguageTag::new("ru".into()),
            LanguageTag::new("en".into()),
        ]));
        Ok(metadata)
    }
}
