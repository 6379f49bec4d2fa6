//! Issuing codes and tokens, with the token faults applied.

use chrono::Duration;
use serde_json::{json, Map, Value};

use crate::esia_keys::{unsigned_esia_jwt, EsiaKey};
use crate::keys::{tamper, unsigned_jwt, Alg, SigningKey};
use crate::state::{lock, random_token, read, CodeGrant, Fault, Pending, Profile, Shared};

pub const TOKEN_LIFETIME_SECS: i64 = 3600;
pub const CODE_LIFETIME_SECS: i64 = 300;

/// A single-use code for a consented authorization.
pub fn issue_code(state: &Shared, pending: &Pending, oid: &str) -> String {
    let code = random_token();
    lock(&state.codes).insert(
        code.clone(),
        CodeGrant {
            profile: pending.profile,
            client_id: pending.client_id.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            scope: pending.scope.clone(),
            oid: oid.to_string(),
            nonce: pending.nonce.clone(),
            code_challenge: pending.code_challenge.clone(),
            expires_at: state.now() + Duration::seconds(CODE_LIFETIME_SECS),
            used: false,
        },
    );
    code
}

/// Takes a code for `client_id` + `redirect_uri`; a used, expired or foreign
/// code is refused (and a used code stays dead).
pub fn redeem_code(
    state: &Shared,
    code: &str,
    client_id: &str,
    redirect_uri: &str,
    profile: Profile,
) -> Option<CodeGrant> {
    let mut codes = lock(&state.codes);
    let grant = codes.get_mut(code)?;
    let valid = !grant.used
        && grant.expires_at > state.now()
        && grant.client_id == client_id
        && grant.redirect_uri == redirect_uri
        && grant.profile == profile;
    grant.used = true;
    valid.then(|| grant.clone())
}

pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
}

pub fn issue_tokens(state: &Shared, grant: &CodeGrant) -> Tokens {
    match grant.profile {
        Profile::Esia => issue_esia_tokens(state, grant),
        Profile::Oidc => issue_oidc_tokens(state, grant),
    }
}

/// Header parameters the header faults add to an id_token.
fn header_fault(fault: Option<&Fault>, profile: Profile) -> Option<Map<String, Value>> {
    let extra = match (fault?, profile) {
        (Fault::KidOnEsiaToken, Profile::Esia) => json!({"kid": "esia-signing-2025"}),
        (Fault::WrongTyp, Profile::Esia) => json!({"sbt": "access"}),
        (Fault::WrongTyp, Profile::Oidc) => json!({"typ": "at+jwt"}),
        (Fault::CritHeader, _) => {
            json!({"crit": ["urn:example:must-understand"], "urn:example:must-understand": true})
        }
        _ => return None,
    };
    extra.as_object().cloned()
}

/// `exp`, `iat` and `nbf` half a second later (the fractional-date fault).
fn with_fractional_dates(claims: &mut Value) {
    for name in ["exp", "iat", "nbf"] {
        if let Some(seconds) = claims.get(name).and_then(Value::as_i64) {
            claims[name] = json!(seconds as f64 + 0.5);
        }
    }
}

/// `iat`/`exp` and the issuer/audience with the claim faults applied.
struct Basics {
    iat: i64,
    exp: i64,
    issuer: String,
    audience: Value,
}

fn basics(state: &Shared, grant: &CodeGrant, fault: Option<&Fault>) -> Basics {
    let now = state.now().timestamp();
    let (iat, exp) = match fault {
        Some(Fault::ExpiredToken) => (now - 2 * 3600, now - 3600),
        Some(Fault::OldIat) => (now - 20 * 60, now + TOKEN_LIFETIME_SECS),
        _ => (now, now + TOKEN_LIFETIME_SECS),
    };
    Basics {
        iat,
        exp,
        issuer: match fault {
            Some(Fault::WrongIssuer) => format!("{}/not-the-issuer", state.issuer),
            _ => state.issuer.clone(),
        },
        audience: match fault {
            Some(Fault::WrongAudience) => json!("another-client"),
            Some(Fault::ExtraAudience) => json!([grant.client_id, "another-client"]),
            _ => json!(grant.client_id),
        },
    }
}

/// An OID as ESIA sends it: a JSON integer (a string only if the persons
/// file holds a non-numeric one).
pub fn oid_json(oid: &str) -> Value {
    oid.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(oid))
}

/// `openid fullname?oid=N snils?oid=N ...`, the access token's `scope`.
pub fn esia_scope(scope: &str, oid: &str) -> String {
    scope
        .split_whitespace()
        .map(|s| {
            if s == "openid" {
                s.to_string()
            } else {
                format!("{s}?oid={oid}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// ESIA-shaped tokens: no `kid`, `sbt` header, integer OIDs, signed by the
/// ESIA key ring (RS256 or GOST3410_2012_256).
fn issue_esia_tokens(state: &Shared, grant: &CodeGrant) -> Tokens {
    let fault = state.fault();
    let b = basics(state, grant, fault.as_ref());
    let verified = state
        .person(&grant.oid)
        .is_some_and(|p| p.tier == crate::persons::Tier::Verified);
    let oid = oid_json(&grant.oid);
    let sbj_oid = match fault {
        Some(Fault::OidMismatch) => match oid.as_u64() {
            Some(n) => json!(n + 1),
            None => json!(format!("{}0", grant.oid)),
        },
        _ => oid.clone(),
    };
    let sid = random_token();
    let mut subject = json!({
        "urn:esia:sbj:typ": "P",
        "urn:esia:sbj:oid": sbj_oid,
        "urn:esia:sbj:nam": format!("OID.{}", grant.oid),
    });
    if verified {
        subject["urn:esia:sbj:is_tru"] = json!(true);
    }
    let mut claims = json!({
        "iss": b.issuer,
        "aud": b.audience,
        "sub": oid,
        "iat": b.iat,
        "nbf": b.iat,
        "exp": b.exp,
        "auth_time": b.iat,
        "amr": "PWD",
        "urn:esia:sid": sid,
        "urn:esia:sbj": subject,
    });
    if let Some(nonce) = &grant.nonce {
        claims["nonce"] = json!(nonce);
    }
    if fault == Some(Fault::WrongAzp) {
        claims["azp"] = json!("another-client");
    }
    if fault == Some(Fault::FractionalNumericDate) {
        with_fractional_dates(&mut claims);
    }
    let active = read(&state.esia_keys).active.clone();
    let header = header_fault(fault.as_ref(), Profile::Esia);
    let id_token = match (fault, header) {
        (_, Some(extra)) => active.sign_jwt_with("id", &claims, &extra),
        (Some(Fault::AlgNone), _) => unsigned_esia_jwt("id", &claims),
        (Some(Fault::UnknownKey), _) => match EsiaKey::generate(active.alg(), state.now()) {
            Ok(stranger) => stranger.sign_jwt("id", &claims),
            Err(_) => unsigned_esia_jwt("id", &claims),
        },
        (Some(Fault::BadSignature), _) => tamper(&active.sign_jwt("id", &claims)),
        _ => active.sign_jwt("id", &claims),
    };
    let now = state.now().timestamp();
    let access_claims = json!({
        "iss": state.issuer,
        "urn:esia:sbj_id": oid_json(&grant.oid),
        "client_id": grant.client_id,
        "scope": esia_scope(&grant.scope, &grant.oid),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECS,
        "urn:esia:sid": sid,
    });
    Tokens {
        id_token,
        access_token: active.sign_jwt("access", &access_claims),
    }
}

/// Standard OIDC tokens with a `kid`, signed by the JWKS ring.
fn issue_oidc_tokens(state: &Shared, grant: &CodeGrant) -> Tokens {
    let now = state.now();
    let fault = state.fault();
    let b = basics(state, grant, fault.as_ref());
    let sub = match fault {
        Some(Fault::IntegerSub) => oid_json(&grant.oid),
        _ => json!(grant.oid),
    };
    let mut claims = json!({
        "iss": b.issuer,
        "aud": b.audience,
        "sub": sub,
        "iat": b.iat,
        "nbf": b.iat,
        "exp": b.exp,
        "auth_time": b.iat,
    });
    if let Some(nonce) = &grant.nonce {
        claims["nonce"] = match fault {
            Some(Fault::WrongNonce) => json!("not-the-nonce-you-sent"),
            _ => json!(nonce),
        };
    }
    if fault == Some(Fault::WrongAzp) {
        claims["azp"] = json!("another-client");
    }
    if fault == Some(Fault::FractionalNumericDate) {
        with_fractional_dates(&mut claims);
    }
    let active = read(&state.keys).active.clone();
    let header = header_fault(fault.as_ref(), Profile::Oidc);
    let id_token = match (fault, header) {
        (_, Some(extra)) => active.sign_jwt_with(&claims, &extra),
        (Some(Fault::AlgNone), _) => unsigned_jwt(&claims),
        (Some(Fault::UnknownKey), _) => match SigningKey::generate(Alg::Es256) {
            Ok(stranger) => stranger.sign_jwt(&claims),
            Err(_) => unsigned_jwt(&claims),
        },
        (Some(Fault::BadSignature), _) => tamper(&active.sign_jwt(&claims)),
        (Some(Fault::KidlessToken), _) => active.sign_jwt_kidless(&claims),
        _ => active.sign_jwt(&claims),
    };
    let access_claims: Value = json!({
        "iss": state.issuer,
        "sub": grant.oid,
        "client_id": grant.client_id,
        "scope": grant.scope,
        "iat": now.timestamp(),
        "exp": now.timestamp() + TOKEN_LIFETIME_SECS,
    });
    Tokens {
        id_token,
        access_token: active.sign_jwt(&access_claims),
    }
}
