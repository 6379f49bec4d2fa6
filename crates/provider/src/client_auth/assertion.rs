//! `private_key_jwt` (RFC 7523 §2.2 and §3, OpenID Connect Core §9): a JWT
//! the client signed with its own key, checked against its registered
//! JWKS.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::Audiences;
use crate::clients::{AuthMethod, Client, ClientCredential, Clients};
use crate::errors::{Error, Result};
use crate::jws::Compact;

pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock difference tolerated between the client and us.
const LEEWAY: Duration = Duration::seconds(30);
/// An assertion must expire soon: it is made for one request, and the
/// replay store keeps its `jti` until then.
const MAX_LIFETIME: Duration = Duration::minutes(5);
const MAX_JTI_LEN: usize = 256;

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    aud: OneOrMany,
    exp: Option<i64>,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
    jti: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn any(&self, test: impl Fn(&str) -> bool) -> bool {
        match self {
            OneOrMany::One(one) => test(one),
            OneOrMany::Many(many) => many.iter().any(|a| test(a)),
        }
    }
}

/// An assertion that passed every check but the replay check.
#[derive(Debug)]
pub struct PendingAssertion<'c> {
    client: &'c Client,
    pub jti: String,
    /// Keep the `jti` at least until then.
    pub expires_at: DateTime<Utc>,
}

impl<'c> PendingAssertion<'c> {
    pub fn client_id(&self) -> &str {
        &self.client.id
    }

    /// `first_use`: the replay store had not seen this `jti` for this
    /// client.
    pub fn finish(self, first_use: bool) -> Result<&'c Client> {
        if first_use {
            Ok(self.client)
        } else {
            Err(Error::invalid_client(
                "the client assertion was already used",
                false,
            ))
        }
    }
}

pub(super) fn check<'c>(
    clients: &'c Clients,
    assertion: &str,
    form_client_id: Option<&str>,
    audiences: Audiences<'_>,
    now: DateTime<Utc>,
) -> Result<PendingAssertion<'c>> {
    let refuse = |d: &'static str| Error::invalid_client(d, false);
    let compact = Compact::parse(assertion).map_err(|_| refuse("malformed client assertion"))?;
    // Read the claimed client before the signature to find its keys; nothing
    // from it is trusted until the signature checks.
    let claims: AssertionClaims = compact
        .claims()
        .map_err(|_| refuse("malformed client assertion"))?;
    let client = clients
        .get(&claims.sub)
        .ok_or_else(|| refuse("client authentication failed"))?;
    if client.auth_method != AuthMethod::PrivateKeyJwt {
        return Err(Error::invalid_client(
            format!(
                "this client authenticates with {}",
                client.auth_method.as_str()
            ),
            false,
        ));
    }
    let ClientCredential::Jwks(keys) = &client.credential else {
        return Err(refuse("client authentication failed"));
    };
    let kid = compact.header.kid.as_deref();
    let signed = keys
        .iter()
        .filter(|(key_kid, _)| kid.is_none() || key_kid.as_deref() == kid)
        .any(|(_, key)| compact.verified_by(key));
    if !signed {
        return Err(refuse("the client assertion signature does not verify"));
    }

    if claims.iss != claims.sub {
        return Err(refuse(
            "client assertion iss and sub must both be the client_id",
        ));
    }
    if form_client_id.is_some_and(|id| id != claims.sub) {
        return Err(refuse("client_id differs from the client assertion"));
    }
    if !claims.aud.any(|aud| audiences.accepts(aud)) {
        return Err(refuse(
            "client assertion aud must be the token endpoint or the issuer",
        ));
    }
    let exp = claims
        .exp
        .and_then(|exp| DateTime::<Utc>::from_timestamp(exp, 0))
        .ok_or_else(|| refuse("client assertion exp is required"))?;
    if exp + LEEWAY <= now {
        return Err(refuse("the client assertion has expired"));
    }
    if exp > now + MAX_LIFETIME + LEEWAY {
        return Err(refuse("client assertion exp is too far in the future"));
    }
    let not_yet = |t: Option<i64>| t.is_some_and(|t| t > (now + LEEWAY).timestamp());
    if not_yet(claims.nbf) || not_yet(claims.iat) {
        return Err(refuse("the client assertion is not valid yet"));
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or_else(|| refuse("client assertion jti is required"))?;
    Ok(PendingAssertion {
        client,
        jti,
        expires_at: exp + LEEWAY,
    })
}
