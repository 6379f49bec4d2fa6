//! Who is calling the token, introspection or revocation endpoint.
//!
//! Exactly one method per request (RFC 6749 §2.3: "MUST NOT use more than
//! one"), and it must be the method the client registered, so a client
//! whose secret leaked cannot be impersonated by a method it never uses.
//!
//! Cost: a secret check is an argon2 verification (milliseconds). Run
//! [`authenticate`] off the async executor (`spawn_blocking`); the
//! [`SecretCache`] makes repeat calls by the same client cheap.

mod assertion;
mod secret;

#[cfg(test)]
mod tests;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};

pub use assertion::{PendingAssertion, JWT_BEARER_ASSERTION_TYPE};
pub use secret::SecretCache;

use crate::clients::{AuthMethod, Client, ClientCredential, Clients};
use crate::errors::{Error, Result};
use crate::params::Params;

/// The outcome of [`authenticate`].
#[derive(Debug)]
pub enum ClientAuthentication<'c> {
    Authenticated(&'c Client),
    /// `private_key_jwt` whose signature and claims are good: the caller
    /// records the assertion's `jti` (set-if-absent, kept until
    /// `expires_at`) and passes whether it was new to
    /// [`PendingAssertion::finish`]. Two steps so an async store fits.
    PendingReplayCheck(PendingAssertion<'c>),
}

/// What the assertion's `aud` may name: the token endpoint URL, the
/// issuer, and the URL of the endpoint being called (RFC 7523 §3).
#[derive(Debug, Clone, Copy)]
pub struct Audiences<'a> {
    pub issuer: &'a str,
    pub token_endpoint: &'a str,
    pub this_endpoint: &'a str,
}

impl Audiences<'_> {
    fn accepts(&self, aud: &str) -> bool {
        aud == self.issuer || aud == self.token_endpoint || aud == self.this_endpoint
    }
}

enum Presented<'a> {
    Basic {
        id: String,
        secret: String,
    },
    Post {
        id: &'a str,
        secret: &'a str,
    },
    Assertion {
        kind: Option<&'a str>,
        assertion: Option<&'a str>,
    },
    None {
        id: &'a str,
    },
}

impl Presented<'_> {
    fn method(&self) -> AuthMethod {
        match self {
            Presented::Basic { .. } => AuthMethod::ClientSecretBasic,
            Presented::Post { .. } => AuthMethod::ClientSecretPost,
            Presented::Assertion { .. } => AuthMethod::PrivateKeyJwt,
            Presented::None { .. } => AuthMethod::None,
        }
    }
}

/// Authenticates the caller from the `Authorization` header and the form.
pub fn authenticate<'c>(
    clients: &'c Clients,
    authorization: Option<&str>,
    params: &Params,
    audiences: Audiences<'_>,
    secrets: &SecretCache,
    now: DateTime<Utc>,
) -> Result<ClientAuthentication<'c>> {
    let presented = presented(authorization, params)?;
    let basic = matches!(presented, Presented::Basic { .. });
    let refuse = |d: &'static str| Error::invalid_client(d, basic);

    if let Presented::Assertion { kind, assertion } = presented {
        if kind != Some(JWT_BEARER_ASSERTION_TYPE) {
            return Err(Error::invalid_request(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
        }
        let assertion =
            assertion.ok_or_else(|| Error::invalid_request("client_assertion is required"))?;
        return assertion::check(clients, assertion, params.get("client_id"), audiences, now)
            .map(ClientAuthentication::PendingReplayCheck);
    }

    let id = match &presented {
        Presented::Basic { id, .. } => id.as_str(),
        Presented::Post { id, .. } | Presented::None { id } => id,
        Presented::Assertion { .. } => return Err(refuse("client authentication failed")),
    };
    let client = clients
        .get(id)
        .ok_or_else(|| refuse("client authentication failed"))?;
    if client.auth_method != presented.method() {
        return Err(Error::invalid_client(
            format!(
                "this client authenticates with {}",
                client.auth_method.as_str()
            ),
            basic,
        ));
    }
    match (&presented, &client.credential) {
        (Presented::None { .. }, ClientCredential::None) => {}
        (Presented::Basic { secret, .. }, ClientCredential::SecretHash(hash)) => {
            if !secrets.verify(&client.id, secret, hash) {
                return Err(refuse("client authentication failed"));
            }
        }
        (Presented::Post { secret, .. }, ClientCredential::SecretHash(hash)) => {
            if !secrets.verify(&client.id, secret, hash) {
                return Err(refuse("client authentication failed"));
            }
        }
        _ => return Err(refuse("client authentication failed")),
    }
    Ok(ClientAuthentication::Authenticated(client))
}

impl crate::provider::Provider {
    /// [`authenticate`] against this provider's clients and secret memo;
    /// `this_endpoint` is the path being called (`/oauth2/token`,
    /// `/oauth2/introspect`, `/oauth2/revoke`).
    pub fn authenticate_client(
        &self,
        authorization: Option<&str>,
        params: &Params,
        this_endpoint: &str,
        now: DateTime<Utc>,
    ) -> Result<ClientAuthentication<'_>> {
        let token_endpoint = self.endpoint(crate::discovery::TOKEN_PATH);
        let this_endpoint = self.endpoint(this_endpoint);
        let audiences = Audiences {
            issuer: &self.issuer,
            token_endpoint: &token_endpoint,
            this_endpoint: &this_endpoint,
        };
        authenticate(
            &self.clients,
            authorization,
            params,
            audiences,
            &self.secrets,
            now,
        )
    }
}

/// [`authenticate`] with a synchronous replay check: `first_use(client_id,
/// jti, expires_at)` records the `jti` and says whether it was new.
pub fn authenticate_with<'c>(
    clients: &'c Clients,
    authorization: Option<&str>,
    params: &Params,
    audiences: Audiences<'_>,
    secrets: &SecretCache,
    now: DateTime<Utc>,
    first_use: impl FnOnce(&str, &str, DateTime<Utc>) -> bool,
) -> Result<&'c Client> {
    match authenticate(clients, authorization, params, audiences, secrets, now)? {
        ClientAuthentication::Authenticated(client) => Ok(client),
        ClientAuthentication::PendingReplayCheck(pending) => {
            let new = first_use(pending.client_id(), &pending.jti, pending.expires_at);
            pending.finish(new)
        }
    }
}

/// Which one method the request used.
fn presented<'a>(authorization: Option<&str>, params: &'a Params) -> Result<Presented<'a>> {
    params.refuse_repeats()?;
    let mut found = Vec::with_capacity(1);
    if let Some(header) = authorization {
        let (id, secret) = basic_credentials(header)?;
        found.push(Presented::Basic { id, secret });
    }
    if let Some(secret) = params.get("client_secret") {
        let id = params
            .get("client_id")
            .ok_or_else(|| Error::invalid_request("client_secret without client_id"))?;
        found.push(Presented::Post { id, secret });
    }
    let kind = params.get("client_assertion_type");
    let assertion = params.get("client_assertion");
    if kind.is_some() || assertion.is_some() {
        found.push(Presented::Assertion { kind, assertion });
    }
    if found.len() > 1 {
        return Err(Error::invalid_request(
            "use exactly one client authentication method",
        ));
    }
    match found.pop() {
        Some(Presented::Basic { id, secret }) => {
            if params.get("client_id").is_some_and(|form_id| form_id != id) {
                return Err(Error::invalid_request(
                    "client_id differs from the Authorization header",
                ));
            }
            Ok(Presented::Basic { id, secret })
        }
        Some(other) => Ok(other),
        None => match params.get("client_id") {
            Some(id) => Ok(Presented::None { id }),
            None => Err(Error::invalid_client(
                "client authentication is required",
                false,
            )),
        },
    }
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(header: &str) -> Result<(String, String)> {
    let bad = || Error::invalid_client("malformed Basic credentials", true);
    let (scheme, encoded) = header.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Error::invalid_request(
            "the Authorization header must use the Basic scheme",
        ));
    }
    let encoded = encoded.trim();
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        form_decode(id).ok_or_else(bad)?,
        form_decode(secret).ok_or_else(bad)?,
    ))
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a
/// space, `%XX` a byte; the result must be UTF-8.
fn form_decode(text: &str) -> Option<String> {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}
