//! The mock's runtime state: clients, persons, keys, faults, the clock, and
//! pending authorizations and codes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::esia_keys::EsiaKeyRing;
use crate::keys::KeyRing;
use crate::persons::Person;

/// How an ESIA-profile client's `client_secret` is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientKey {
    /// PEM (SPKI) RSA public key; `client_secret` = base64url of a PKCS#1
    /// v1.5 SHA-256 signature. For the mock and legacy test setups only: real
    /// ESIA wants GOST.
    Rsa { public_key_pem: String },
    /// GOST R 34.10-2012 256-bit public key on the CryptoPro-A curve: the 64
    /// bytes X || Y little-endian, hex. `client_secret` = base64url of the
    /// 64-byte raw signature `s || r` big-endian over Streebog-256 of the
    /// signed string (CryptoPro's csptest output reversed byte by byte).
    Gost { public_key_hex: String },
}

/// A registered relying party.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "ClientWire")]
pub struct Client {
    pub client_id: String,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    pub allowed_scopes: Vec<String>,
    /// ESIA profile: the key that checks `client_secret`.
    #[serde(default)]
    pub key: Option<ClientKey>,
    /// ESIA profile: expected `client_certificate_hash`.
    #[serde(default)]
    pub certificate_hash: Option<String>,
    /// OIDC profile: the client secret.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub require_pkce: bool,
}

/// The admin API's JSON for a client: `key`, or the older spelling
/// `public_key_pem` (an RSA key).
#[derive(Deserialize)]
struct ClientWire {
    client_id: String,
    redirect_uris: Vec<String>,
    allowed_scopes: Vec<String>,
    #[serde(default)]
    key: Option<ClientKey>,
    #[serde(default)]
    public_key_pem: Option<String>,
    #[serde(default)]
    certificate_hash: Option<String>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    require_pkce: bool,
}

impl From<ClientWire> for Client {
    fn from(w: ClientWire) -> Client {
        Client {
            client_id: w.client_id,
            redirect_uris: w.redirect_uris,
            allowed_scopes: w.allowed_scopes,
            key: w.key.or_else(|| {
                w.public_key_pem
                    .map(|public_key_pem| ClientKey::Rsa { public_key_pem })
            }),
            certificate_hash: w.certificate_hash,
            secret: w.secret,
            require_pkce: w.require_pkce,
        }
    }
}

/// Misbehaviour switched on at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Token endpoint, REST and userinfo answer HTTP 500.
    #[serde(rename = "http_500")]
    Http500,
    /// 503 with ESIA-007008 from the token endpoint; 007008 on authorize.
    Overload,
    /// The token endpoint answers 200 with truncated JSON.
    MalformedJson,
    /// id_token signed by a key that is not in the JWKS (OIDC) or not among
    /// the published certificates (ESIA, no `kid`).
    UnknownKey,
    /// id_token whose signature does not verify.
    BadSignature,
    WrongIssuer,
    WrongAudience,
    /// id_token with `exp` in the past.
    ExpiredToken,
    /// id_token with `alg: none` and no signature.
    AlgNone,
    /// id_token whose nonce is not the one the client sent (OIDC; a no-op
    /// for ESIA, which has no nonce round trip here).
    WrongNonce,
    /// Person data and userinfo without SNILS.
    NoSnils,
    /// userinfo `sub` differs from the id_token's.
    UserinfoSubMismatch,
    /// ESIA id_token whose `sub` and `urn:esia:sbj:oid` differ.
    OidMismatch,
    /// The ESIA token endpoint answers `ESIA-007099`, a code no client knows.
    UnknownEsiaCode,
    /// id_token with `aud: [client_id, "another-client"]`.
    ExtraAudience,
    /// id_token with `azp: "another-client"`.
    WrongAzp,
    /// id_token issued (`iat`) 20 minutes ago, still unexpired.
    OldIat,
    /// OIDC id_token without `kid` in its header.
    KidlessToken,
    /// Discovery answers 20 MB (streamed, no Content-Length).
    HugeDiscovery,
    /// The token endpoint (either profile) answers 20 MB.
    HugeToken,
    /// userinfo answers 20 MB.
    HugeUserinfo,
    /// ESIA person data answers 20 MB.
    HugePerson,
    /// The ESIA token response leaves out `state`.
    TokenWithoutState,
    /// The authorization response leaves out RFC 9207's `iss` (discovery
    /// still advertises it when [`crate::MockIdp::set_iss_parameter`] is on).
    MissingIssParameter,
    /// The authorization response carries another issuer's `iss`.
    WrongIssParameter,
    /// `/rs/prns/{oid}/kids` (and embedded kids) answer 403 ESIA-005029
    /// whatever the token's scopes: a client must log in without kids.
    KidsRefused,
    /// id_token `exp`, `iat` and `nbf` with half a second (RFC 7519 §2
    /// allows non-integer NumericDates): a client must accept them.
    FractionalNumericDate,
    /// The token response says `"token_type": "mac"` (either profile): a
    /// client must not use the access token (RFC 6749 §7.1).
    MacTokenType,
    /// OIDC id_token whose `sub` is a JSON integer (OIDC Core §2 wants a
    /// string; ESIA's tokens always carry one, so a no-op there).
    IntegerSub,
    /// ESIA id_token whose header carries a `kid` that names no certificate
    /// (ESIA sends none): a client must still try its certificates.
    KidOnEsiaToken,
    /// id_token that says it is another kind of token: OIDC `typ: at+jwt`,
    /// ESIA `sbt: access` (RFC 8725 §3.11).
    WrongTyp,
    /// id_token with a `crit` header naming an extension nobody knows
    /// (RFC 7515 §4.1.11): a client must refuse it.
    CritHeader,
    /// The token response (either profile) leaves out `id_token`.
    NoIdToken,
}

impl Fault {
    pub const ALL: [Fault; 33] = [
        Fault::Http500,
        Fault::Overload,
        Fault::MalformedJson,
        Fault::UnknownKey,
        Fault::BadSignature,
        Fault::WrongIssuer,
        Fault::WrongAudience,
        Fault::ExpiredToken,
        Fault::AlgNone,
        Fault::WrongNonce,
        Fault::NoSnils,
        Fault::UserinfoSubMismatch,
        Fault::OidMismatch,
        Fault::UnknownEsiaCode,
        Fault::ExtraAudience,
        Fault::WrongAzp,
        Fault::OldIat,
        Fault::KidlessToken,
        Fault::HugeDiscovery,
        Fault::HugeToken,
        Fault::HugeUserinfo,
        Fault::HugePerson,
        Fault::TokenWithoutState,
        Fault::MissingIssParameter,
        Fault::WrongIssParameter,
        Fault::KidsRefused,
        Fault::FractionalNumericDate,
        Fault::MacTokenType,
        Fault::IntegerSub,
        Fault::KidOnEsiaToken,
        Fault::WrongTyp,
        Fault::CritHeader,
        Fault::NoIdToken,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Esia,
    Oidc,
}

/// An authorization request between the authorize endpoint and consent.
#[derive(Debug, Clone)]
pub struct Pending {
    pub profile: Profile,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// Set once the person logged in.
    pub oid: Option<String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub profile: Profile,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub oid: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

pub struct Shared {
    pub issuer: String,
    pub base_url: String,
    pub admin_token: String,
    pub persons: Vec<Person>,
    pub clients: RwLock<Vec<Client>>,
    /// The OIDC profile's keys (JWKS, `kid`).
    pub keys: RwLock<KeyRing>,
    /// The ESIA profile's keys (certificates, no `kid`).
    pub esia_keys: RwLock<EsiaKeyRing>,
    /// Single sign-on: a login sets a session cookie that skips the form.
    pub sso: bool,
    /// SSO sessions: cookie value → OID.
    pub sessions: Mutex<HashMap<String, String>>,
    /// Successful `/idp/ext/Logout` calls.
    pub logouts: std::sync::atomic::AtomicU64,
    pub fault: RwLock<Option<Fault>>,
    /// RFC 9207: discovery advertises `authorization_response_iss_parameter_supported`
    /// and authorization responses carry `iss`.
    pub iss_parameter: std::sync::atomic::AtomicBool,
    /// Requests to the token endpoints, userinfo and `/rs/prns`.
    pub calls: Calls,
    pub latency: RwLock<Duration>,
    pub clock_offset: RwLock<chrono::Duration>,
    pub pending: Mutex<HashMap<String, Pending>>,
    pub codes: Mutex<HashMap<String, CodeGrant>>,
}

pub type State = Arc<Shared>;

impl Shared {
    /// The mock's notion of now (real time plus any advance).
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + *read(&self.clock_offset)
    }

    pub fn client(&self, client_id: &str) -> Option<Client> {
        read(&self.clients)
            .iter()
            .find(|c| c.client_id == client_id)
            .cloned()
    }

    pub fn person_by_login(&self, login: &str) -> Option<&Person> {
        self.persons.iter().find(|p| p.login == login)
    }

    pub fn person(&self, oid: &str) -> Option<&Person> {
        self.persons.iter().find(|p| p.oid == oid)
    }

    pub fn fault(&self) -> Option<Fault> {
        read(&self.fault).clone()
    }

    pub fn has_fault(&self, fault: Fault) -> bool {
        self.fault() == Some(fault)
    }
}

/// Request counters, so that tests can tell what a client did after a refusal.
#[derive(Default)]
pub struct Calls {
    pub token: std::sync::atomic::AtomicU64,
    pub userinfo: std::sync::atomic::AtomicU64,
    pub person: std::sync::atomic::AtomicU64,
}

impl Calls {
    pub fn count(counter: &std::sync::atomic::AtomicU64) {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Reads a lock; a poisoned lock still holds consistent data here.
pub fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

pub fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A random URL-safe token.
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
