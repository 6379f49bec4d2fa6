//! Issuing codes and tokens, with the token faults applied.

use chrono::Duration;
use serde_json::{json, Value};

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
    let now = state.now();
    let fault = state.fault();
    let person = state.person(&grant.oid);
    let verified = person.is_some_and(|p| p.tier == crate::persons::Tier::Verified);
    let mut exp = now.timestamp() + TOKEN_LIFETIME_SECS;
    let mut iat = now.timestamp();
    if fault == Some(Fault::ExpiredToken) {
        exp = now.timestamp() - 3600;
        iat = now.timestamp() - 2 * 3600;
    }
    let issuer = match fault {
        Some(Fault::WrongIssuer) => format!("{}/not-the-issuer", state.issuer),
        _ => state.issuer.clone(),
    };
    let audience = match fault {
        Some(Fault::WrongAudience) => "another-client".to_string(),
        _ => grant.client_id.clone(),
    };
    let mut claims = json!({
        "iss": issuer,
        "aud": audience,
        "sub": grant.oid,
        "iat": iat,
        "nbf": iat,
        "exp": exp,
        "auth_time": iat,
    });
    if grant.profile == Profile::Esia {
        let mut subject = json!({
            "urn:esia:sbj:typ": "P",
            "urn:esia:sbj:oid": grant.oid,
            "urn:esia:sbj:nam": format!("OID.{}", grant.oid),
        });
        if verified {
            subject["urn:esia:sbj:is_tru"] = json!(true);
        }
        claims["amr"] = json!("PWD");
        claims["urn:esia:sid"] = json!(random_token());
        claims["urn:esia:sbj"] = subject;
    }
    if let Some(nonce) = &grant.nonce {
        claims["nonce"] = match fault {
            Some(Fault::WrongNonce) => json!("not-the-nonce-you-sent"),
            _ => json!(nonce),
        };
    }
    let active = read(&state.keys).active.clone();
    let id_token = match fault {
        Some(Fault::AlgNone) => unsigned_jwt(&claims),
        Some(Fault::UnknownKey) => match SigningKey::generate(Alg::Es256) {
            Ok(stranger) => stranger.sign_jwt(&claims),
            Err(_) => unsigned_jwt(&claims),
        },
        Some(Fault::BadSignature) => tamper(&active.sign_jwt(&claims)),
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
