//! The diary's applications registered as clients, from `[[clients]]` in
//! the configuration, validated once at load so that a request never
//! meets a half-valid client.

mod config;
mod redirect;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use url::Url;

pub use config::ClientConfig;
pub use redirect::RedirectUri;

use crate::errors::Result;
use crate::jws::{SigningAlg, VerifyingKey};
use crate::scope::Scopes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// Runs on the person's device (mobile app, single-page app): cannot
    /// keep a secret, so PKCE S256 stands in for client authentication.
    Public,
    /// A server-side web app or a diary back end that keeps a secret or a
    /// private key.
    Confidential,
}

/// `token_endpoint_auth_method` as registered (OpenID Connect Dynamic
/// Client Registration §2 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// Which `sub` a client sees (OpenID Connect Core §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectType {
    /// Different per client, so two apps cannot join their records by `sub`.
    #[default]
    Pairwise,
    /// esia-link's account id, the same for every client that asks for it
    /// (first-party apps sharing one diary back end).
    Public,
}

/// How the client proves who it is, with what it needs for that.
#[derive(Debug, Clone)]
pub enum ClientCredential {
    None,
    /// An argon2 PHC string (`$argon2id$v=19$...`).
    SecretHash(String),
    /// The client's public keys for `private_key_jwt`: `(kid, key)`.
    Jwks(Vec<(Option<String>, VerifyingKey)>),
}

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub kind: ClientKind,
    pub auth_method: AuthMethod,
    pub credential: ClientCredential,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// The scopes this client may ask for.
    pub scopes: Scopes,
    pub backchannel_logout_uri: Option<Url>,
    pub name_ru: String,
    pub name_en: String,
    pub subject: SubjectType,
    /// `id_token_signed_response_alg`; RS256 unless registered (OpenID
    /// Connect Core §15.1 makes RS256 the default every client accepts).
    pub id_token_alg: SigningAlg,
    /// May introspect access tokens issued to any client (a diary back
    /// end); other clients see only their own tokens.
    pub resource_server: bool,
}

impl Client {
    /// The registered redirect URI the presented one matches, or the only
    /// registered one when none was presented. `None`: no match (the
    /// caller shows an error page and does not redirect).
    pub fn resolve_redirect_uri(&self, presented: Option<&str>) -> Option<String> {
        match presented {
            Some(uri) => self
                .redirect_uris
                .iter()
                .any(|r| r.matches(uri))
                .then(|| uri.to_string()),
            None => match self.redirect_uris.as_slice() {
                [only] => Some(only.as_str().to_string()),
                _ => None,
            },
        }
    }

    pub fn allows_post_logout_redirect(&self, presented: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|r| r.matches(presented))
    }

    /// The display name in the page's language (`ru` unless `en`).
    pub fn name(&self, language: &str) -> &str {
        if language == "en" {
            &self.name_en
        } else {
            &self.name_ru
        }
    }
}

/// All registered clients by id.
#[derive(Debug, Default)]
pub struct Clients {
    by_id: HashMap<String, Client>,
}

impl Clients {
    /// Validates every `[[clients]]` entry; `base_dir` resolves
    /// `jwks_file`. The first problem is returned, naming the client and
    /// the field.
    pub fn load(configs: &[ClientConfig], base_dir: &Path) -> Result<Clients> {
        let mut by_id = HashMap::with_capacity(configs.len());
        for (index, config) in configs.iter().enumerate() {
            let client = config.validate(index, base_dir)?;
            if by_id.contains_key(&client.id) {
                return Err(crate::errors::Error::Config(format!(
                    "clients[{index}] ({}): id is used by another client",
                    client.id
                )));
            }
            by_id.insert(client.id.clone(), client);
        }
        Ok(Clients { by_id })
    }

    pub fn get(&self, id: &str) -> Option<&Client> {
        self.by_id.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.by_id.values()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
