//! `[[clients]]` as written in TOML, and its validation into a
//! [`Client`]. Every message names the client and the field, since an
//! operator reads them at startup.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::{Host, Url};

use super::{AuthMethod, Client, ClientCredential, ClientKind, RedirectUri, SubjectType};
use crate::errors::{Error, Result};
use crate::jws::{self, SigningAlg};
use crate::scope::{Scope, Scopes};

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub id: String,
    pub kind: ClientKind,
    /// argon2 PHC string of the client secret (never the secret itself).
    #[serde(default)]
    pub secret_hash: Option<String>,
    /// The client's public JWKS for `private_key_jwt`: a TOML table
    /// `{ keys = [...] }` or the JSON text.
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// Defaults: `none` for public clients, `client_secret_basic` with a
    /// secret, `private_key_jwt` with a JWKS.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<AuthMethod>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may ask for; must include `openid` for a client
    /// that signs people in.
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    pub name_ru: String,
    pub name_en: String,
    #[serde(default)]
    pub subject: SubjectType,
    #[serde(default)]
    pub id_token_signed_response_alg: Option<SigningAlg>,
    #[serde(default)]
    pub resource_server: bool,
}

impl ClientConfig {
    pub(super) fn validate(&self, index: usize, base_dir: &Path) -> Result<Client> {
        let id = &self.id;
        let problem = |field: &str, message: String| {
            Error::Config(format!("clients[{index}] ({id}): {field} {message}"))
        };
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(problem(
                "id",
                "must be 1–64 characters of letters, digits, '-', '_' or '.'".into(),
            ));
        }
        for (field, name) in [("name_ru", &self.name_ru), ("name_en", &self.name_en)] {
            if name.trim().is_empty() {
                return Err(problem(field, "is empty; the sign-in page shows it".into()));
            }
        }

        let credential = self.credential(base_dir, &problem)?;
        let auth_method = self.auth_method(&credential, &problem)?;

        let redirect_uris = parse_uris(&self.redirect_uris, "redirect_uris", &problem)?;
        let post_logout_redirect_uris = parse_uris(
            &self.post_logout_redirect_uris,
            "post_logout_redirect_uris",
            &problem,
        )?;

        let mut scopes = Scopes::empty();
        for name in &self.scopes {
            let scope = Scope::parse(name).ok_or_else(|| {
                problem(
                    "scopes",
                    format!("has {name}; known: openid profile diary offline_access"),
                )
            })?;
            scopes = scopes.with(scope);
        }
        if !redirect_uris.is_empty() && !scopes.contains(Scope::Openid) {
            return Err(problem("scopes", "must include openid".into()));
        }
        if redirect_uris.is_empty() && !self.resource_server {
            return Err(problem(
                "redirect_uris",
                "is empty; only a resource_server may have none".into(),
            ));
        }
        if self.resource_server && self.kind == ClientKind::Public {
            return Err(problem(
                "resource_server",
                "needs a confidential client: introspection is authenticated".into(),
            ));
        }

        let backchannel_logout_uri = match &self.backchannel_logout_uri {
            Some(text) => {
                Some(backchannel_uri(text).map_err(|m| problem("backchannel_logout_uri", m))?)
            }
            None => None,
        };

        Ok(Client {
            id: id.clone(),
            kind: self.kind,
            auth_method,
            credential,
            redirect_uris,
            post_logout_redirect_uris,
            scopes,
            backchannel_logout_uri,
            name_ru: self.name_ru.clone(),
            name_en: self.name_en.clone(),
            subject: self.subject,
            id_token_alg: self
                .id_token_signed_response_alg
                .unwrap_or(SigningAlg::Rs256),
            resource_server: self.resource_server,
        })
    }

    fn credential(
        &self,
        base_dir: &Path,
        problem: &impl Fn(&str, String) -> Error,
    ) -> Result<ClientCredential> {
        let given = [
            self.secret_hash.is_some(),
            self.jwks.is_some(),
            self.jwks_file.is_some(),
        ]
        .iter()
        .filter(|g| **g)
        .count();
        match self.kind {
            ClientKind::Public if given > 0 => {
                return Err(problem(
                    "secret_hash/jwks",
                    "are set, but a public client cannot keep a credential".into(),
                ))
            }
            ClientKind::Public => return Ok(ClientCredential::None),
            ClientKind::Confidential if given != 1 => {
                return Err(problem(
                    "secret_hash/jwks/jwks_file",
                    "need exactly one for a confidential client".into(),
                ))
            }
            ClientKind::Confidential => {}
        }
        if let Some(hash) = &self.secret_hash {
            let parsed = argon2::PasswordHash::new(hash)
                .map_err(|_| problem("secret_hash", "is not a PHC string".into()))?;
            if !parsed.algorithm.as_str().starts_with("argon2") {
                return Err(problem(
                    "secret_hash",
                    format!("uses {}, not argon2", parsed.algorithm),
                ));
            }
            return Ok(ClientCredential::SecretHash(hash.clone()));
        }
        let jwks = match (&self.jwks, &self.jwks_file) {
            (Some(serde_json::Value::String(text)), _) => serde_json::from_str(text)
                .map_err(|e| problem("jwks", format!("is not JSON ({e})")))?,
            (Some(value), _) => value.clone(),
            (None, Some(file)) => {
                let path = base_dir.join(file);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    problem(
                        "jwks_file",
                        format!("{}: cannot read ({e})", path.display()),
                    )
                })?;
                serde_json::from_str(&text)
                    .map_err(|e| problem("jwks_file", format!("is not JSON ({e})")))?
            }
            (None, None) => return Err(problem("jwks", "is missing".into())),
        };
        let keys = jwks
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or_else(|| problem("jwks", "has no keys array".into()))?;
        let mut parsed = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let key = jws::key_from_jwk(key).map_err(|m| problem(&format!("jwks.keys[{i}]"), m))?;
            parsed.push(key);
        }
        if parsed.is_empty() {
            return Err(problem("jwks", "has no keys".into()));
        }
        Ok(ClientCredential::Jwks(parsed))
    }

    fn auth_method(
        &self,
        credential: &ClientCredential,
        problem: &impl Fn(&str, String) -> Error,
    ) -> Result<AuthMethod> {
        let fits = |method: AuthMethod| match credential {
            ClientCredential::None => method == AuthMethod::None,
            ClientCredential::SecretHash(_) => matches!(
                method,
                AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
            ),
            ClientCredential::Jwks(_) => method == AuthMethod::PrivateKeyJwt,
        };
        let method = match self.token_endpoint_auth_method {
            Some(method) => method,
            None => match credential {
                ClientCredential::None => AuthMethod::None,
                ClientCredential::SecretHash(_) => AuthMethod::ClientSecretBasic,
                ClientCredential::Jwks(_) => AuthMethod::PrivateKeyJwt,
            },
        };
        if !fits(method) {
            return Err(problem(
                "token_endpoint_auth_method",
                format!("{} does not fit the client's credential", method.as_str()),
            ));
        }
        Ok(method)
    }
}

fn parse_uris(
    texts: &[String],
    field: &str,
    problem: &impl Fn(&str, String) -> Error,
) -> Result<Vec<RedirectUri>> {
    texts
        .iter()
        .map(|text| {
            RedirectUri::parse(text).map_err(|m| problem(field, format!("entry {text} {m}")))
        })
        .collect()
}

/// Back-Channel Logout §2.2: absolute, no fragment; https, or loopback
/// http for tests.
fn backchannel_uri(text: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("is not an absolute URI ({e})"))?;
    if url.fragment().is_some() {
        return Err("has a fragment".into());
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err("must be https (plain http only on the loopback address)".into()),
    }
}
