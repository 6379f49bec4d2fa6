//! id_token verification shared by both profiles.
//!
//! Explicit rather than a generic JWT library's, because ESIA's tokens are
//! not quite standard (`sub` is a JSON number, no `kid`, subject data under
//! `urn:esia:sbj`): an allow-list of algorithms that discovery cannot widen
//! and that never contains `none`, exact `iss`, `aud` containing our
//! client_id and no audience that is not trusted, `azp` (when present) our
//! client_id, `exp`/`iat`/`nbf` with a small leeway and a maximum `iat` age,
//! the nonce where the profile uses one. Signatures are checked (`ring`;
//! GOST by `esia_proto::gost`) against keys parsed once per load (not per
//! token), from a JWKS or from PEM certificates.
//!
//! A token naming an unknown `kid`, or a kid-less token no key verifies,
//! triggers one reload: single-flight (one in flight per provider, others
//! wait for its result) and at most one per [`MIN_REFETCH_INTERVAL`]. A
//! token that needs a load waits for one that *started after it was
//! received* (sleeping out the rest of the interval if need be) rather than
//! being refused with the set in hand, so two rotations inside a second do
//! not fail a login. Verifications whose key is cached never wait.
//!
//! Kid-less tokens: RFC 7515 makes `kid` optional, and ESIA never sends one.
//! Against **certificates** (the ESIA profile; a short, operator-configured
//! list that holds two certificates across a rotation) every candidate key
//! of the token's algorithm is tried — also for a token whose `kid` names
//! none of them (certificates carry no kid to match; RFC 7515 §4.1.4 leaves
//! the kid's meaning to the parties). A signature that only a certificate
//! outside its validity dates verifies is refused as
//! `token.certificate_expired` or `token.certificate_not_yet_valid`, naming
//! the certificate, after one re-read of the files (the operator may have
//! replaced it). Against a **JWKS** a kid-less token is
//! accepted only when exactly one key of its algorithm is there; with more
//! than one it is refused as `token.kid_required` (OIDC Core 10.1: with
//! several keys in the set the OP MUST name the `kid`), which also keeps a
//! hostile JWKS from making every token cost hundreds of signature checks.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::certificates::CertificateInfo;
pub use super::claim_rules::ClaimProfile;
pub use super::keys::JwsAlg;
use super::keys::VerifyingKey;
use super::numeric_date::NumericDate;
use super::TokenProblem;

/// Clock skew tolerated on `exp`, `iat` and `nbf`.
pub const LEEWAY_SECS: i64 = 60;
/// Forced reloads (unknown `kid`) happen at most this often per provider.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_millis(100);

/// Where a provider's signing keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    Jwks(String),
    /// PEM files (each may hold several certificates) and inline PEM: all
    /// certificates listed at once, so that a rotation is a config change.
    Certificates {
        files: Vec<PathBuf>,
        inline: Option<String>,
    },
}

impl KeySource {
    fn describe(&self) -> String {
        match self {
            KeySource::Jwks(url) => url.clone(),
            KeySource::Certificates { files, inline } => {
                let mut parts: Vec<String> =
                    files.iter().map(|f| f.display().to_string()).collect();
                if inline.is_some() {
                    parts.push("(inline)".into());
                }
                parts.join(", ")
            }
        }
    }
}

/// What a verified id_token must satisfy.
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// Audiences allowed besides `client_id` (none by default).
    pub trusted_audiences: &'a [String],
    pub nonce: Option<&'a str>,
    pub now: i64,
    /// Oldest `iat` accepted, seconds before `now` (leeway not included).
    pub max_age_secs: i64,
    /// Whose rules the claims and header follow (`sub`'s type, `sbt`).
    pub profile: ClaimProfile,
}

/// A verified token: its claims and its subject as a decimal string (ESIA
/// sends the OID as a JSON number).
#[derive(Debug)]
pub struct VerifiedToken {
    pub claims: Map<String, Value>,
    pub subject: String,
}

struct KeySet {
    keys: Vec<VerifyingKey>,
    /// When the load that produced this set began: it reflects the IdP's
    /// keys as of then or later.
    loaded_since: Instant,
}

/// A provider's keys, loaded on first use (or at startup for certificates)
/// and kept until a token needs a key they lack.
pub struct KeyCache {
    source: KeySource,
    allowed_algs: Vec<JwsAlg>,
    http: reqwest::Client,
    max_bytes: usize,
    current: RwLock<Option<Arc<KeySet>>>,
    /// Held only while loading: one load in flight.
    fetching: Mutex<()>,
    /// Loads made (for tests and the ops console).
    loads: std::sync::atomic::AtomicU64,
}

impl KeyCache {
    /// `max_bytes` caps a fetched JWKS.
    pub fn new(
        source: KeySource,
        allowed_algs: &[JwsAlg],
        http: reqwest::Client,
        max_bytes: usize,
    ) -> KeyCache {
        KeyCache {
            source,
            allowed_algs: allowed_algs.to_vec(),
            http,
            max_bytes,
            current: RwLock::new(None),
            fetching: Mutex::new(()),
            loads: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many times the keys were loaded.
    pub fn load_count(&self) -> u64 {
        self.loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// Reads certificate keys now (startup): a missing or broken file, or a
    /// bundle without a key for any allowed algorithm, is an error.
    pub fn preload(&self) -> Result<usize, String> {
        let KeySource::Certificates { files, inline } = &self.source else {
            return Ok(0);
        };
        let keys = read_certificates(files, inline.as_deref())?;
        let usable = keys
            .iter()
            .filter(|k| self.allowed_algs.iter().any(|alg| k.suits(*alg)))
            .count();
        if usable == 0 {
            return Err(format!(
                "no certificate in {} carries a key for the allowed algorithms ({})",
                self.source.describe(),
                self.allowed_algs
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let count = keys.len();
        self.install(keys, Instant::now());
        Ok(count)
    }

    /// The keys in use now (for `esia-link keys` and the ops console).
    pub fn loaded(&self) -> Vec<VerifyingKey> {
        self.cached()
            .map(|set| set.keys.clone())
            .unwrap_or_default()
    }

    /// Loads the keys again now (SIGHUP after a certificate rotation).
    pub async fn reload(&self) -> Result<usize, TokenProblem> {
        let _in_flight = self.fetching.lock().await;
        let started = Instant::now();
        let keys = self.fetch().await?;
        let count = keys.len();
        self.install(keys, started);
        Ok(count)
    }

    fn install(&self, keys: Vec<VerifyingKey>, loaded_since: Instant) -> Arc<KeySet> {
        let set = Arc::new(KeySet { keys, loaded_since });
        if let Ok(mut slot) = self.current.write() {
            *slot = Some(set.clone());
        }
        set
    }

    /// Verifies signature and claims.
    pub async fn verify(
        &self,
        token: &str,
        expect: &Expectations<'_>,
    ) -> Result<VerifiedToken, TokenProblem> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
            return Err(TokenProblem::Malformed(
                "not three dot-separated parts".into(),
            ));
        };
        let header: Map<String, Value> = decode_json(header_b64)?;
        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| TokenProblem::Malformed("header has no alg".into()))?;
        let alg = JwsAlg::parse(alg_name)
            .filter(|alg| self.allowed_algs.contains(alg))
            .ok_or_else(|| {
                TokenProblem::AlgorithmNotAllowed(alg_name.chars().take(32).collect())
            })?;
        // RFC 7515 §4.1.11: this verifier understands no extension, so a
        // `crit` of any content (even an empty list, itself invalid) refuses.
        if header.contains_key("crit") {
            return Err(TokenProblem::Malformed(
                "header has critical extensions".into(),
            ));
        }
        expect.profile.check_header(&header)?;
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.as_str()),
            Some(_) => return Err(TokenProblem::Malformed("kid is not a string".into())),
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| TokenProblem::Malformed("signature is not base64url".into()))?;
        let message = format!("{header_b64}.{payload_b64}");

        let received = Instant::now();
        let keys = self.keys().await?;
        let now = expect.now;
        let single_kidless = matches!(self.source, KeySource::Jwks(_));
        let check = |keys: &KeySet| {
            check_signature(
                keys,
                alg,
                kid,
                now,
                single_kidless,
                message.as_bytes(),
                &signature,
            )
        };
        match check(&keys) {
            KeyCheck::Valid => {}
            KeyCheck::BadSignature => return Err(TokenProblem::BadSignature),
            KeyCheck::Ambiguous => return Err(TokenProblem::KidRequired),
            KeyCheck::NoKey | KeyCheck::OutsideValidity(_) => {
                // The IdP may have rotated its keys (the operator replaced
                // a certificate): look once more, at a set loaded after
                // this token arrived.
                let refreshed = self.refresh(received).await?;
                match check(&refreshed) {
                    KeyCheck::Valid => {}
                    KeyCheck::BadSignature => return Err(TokenProblem::BadSignature),
                    KeyCheck::Ambiguous => return Err(TokenProblem::KidRequired),
                    KeyCheck::OutsideValidity(certificate) if now < certificate.not_before => {
                        return Err(TokenProblem::CertificateNotYetValid(certificate))
                    }
                    KeyCheck::OutsideValidity(certificate) => {
                        return Err(TokenProblem::CertificateExpired(certificate))
                    }
                    KeyCheck::NoKey => {
                        return Err(match kid {
                            Some(kid) => TokenProblem::UnknownKey(kid.chars().take(64).collect()),
                            None => TokenProblem::BadSignature,
                        })
                    }
                }
            }
        }

        let claims: Map<String, Value> = decode_json(payload_b64)?;
        let subject = check_claims(&claims, expect)?;
        Ok(VerifiedToken { claims, subject })
    }

    /// The cached set, fetched on first use.
    async fn keys(&self) -> Result<Arc<KeySet>, TokenProblem> {
        if let Some(keys) = self.cached() {
            return Ok(keys);
        }
        self.refresh(Instant::now()).await
    }

    fn cached(&self) -> Option<Arc<KeySet>> {
        self.current.read().ok().and_then(|slot| slot.clone())
    }

    /// A set whose load began at or after `needed_since`: someone else's
    /// (waiting for the one in flight), or our own, at most one per
    /// [`MIN_REFETCH_INTERVAL`] — a request inside the interval waits it
    /// out rather than being answered with keys older than its token.
    async fn refresh(&self, needed_since: Instant) -> Result<Arc<KeySet>, TokenProblem> {
        let _in_flight = self.fetching.lock().await;
        let current = self.cached();
        if let Some(current) = &current {
            if current.loaded_since >= needed_since {
                return Ok(current.clone());
            }
            let next_allowed = current.loaded_since + MIN_REFETCH_INTERVAL;
            tokio::time::sleep_until(next_allowed.into()).await;
        }
        let started = Instant::now();
        let keys = self.fetch().await?;
        Ok(self.install(keys, started))
    }

    async fn fetch(&self) -> Result<Vec<VerifyingKey>, TokenProblem> {
        self.loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let url = match &self.source {
            KeySource::Jwks(url) => url,
            KeySource::Certificates { files, inline } => {
                return read_certificates(files, inline.as_deref())
                    .map_err(TokenProblem::JwksUnavailable);
            }
        };
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| TokenProblem::JwksUnavailable(super::describe_reqwest(&e)))?;
        if !response.status().is_success() {
            return Err(TokenProblem::JwksUnavailable(format!(
                "HTTP {}",
                response.status()
            )));
        }
        let body = super::read_limited(response, self.max_bytes)
            .await
            .map_err(|e| TokenProblem::JwksUnavailable(e.to_string()))?;
        let set: Map<String, Value> = serde_json::from_slice(&body)
            .map_err(|e| TokenProblem::JwksUnavailable(format!("not a JWKS: {e}")))?;
        let keys = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| TokenProblem::JwksUnavailable("no keys array".into()))?;
        Ok(keys
            .iter()
            .filter_map(Value::as_object)
            .filter_map(VerifyingKey::from_jwk)
            .collect())
    }
}

enum KeyCheck {
    Valid,
    BadSignature,
    NoKey,
    /// A kid-less token and several candidate keys in a JWKS.
    Ambiguous,
    /// Only a certificate outside its validity dates verifies the token.
    OutsideValidity(CertificateInfo),
}

fn read_certificates(files: &[PathBuf], inline: Option<&str>) -> Result<Vec<VerifyingKey>, String> {
    let mut keys = Vec::new();
    for file in files {
        let pem = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        keys.extend(VerifyingKey::from_pem_certificates(
            &pem,
            &file.display().to_string(),
        )?);
    }
    if let Some(pem) = inline {
        keys.extend(VerifyingKey::from_pem_certificates(pem, "inline")?);
    }
    Ok(keys)
}

/// `single_kidless`: a kid-less token needs exactly one candidate (JWKS);
/// otherwise every candidate is tried (certificates), also when the token's
/// kid names none of them. Keys outside their validity dates are tried
/// last, only to tell an expired certificate from a bad signature.
fn check_signature(
    keys: &KeySet,
    alg: JwsAlg,
    kid: Option<&str>,
    now: i64,
    single_kidless: bool,
    message: &[u8],
    signature: &[u8],
) -> KeyCheck {
    let of_alg = || keys.keys.iter().filter(|key| key.suits(alg));
    let named: Vec<&VerifyingKey> = of_alg()
        .filter(|key| kid.is_none() || key.kid.as_deref() == kid)
        .collect();
    let kid_ignored = named.is_empty() && kid.is_some() && !single_kidless;
    let candidates = if kid_ignored {
        of_alg().collect()
    } else {
        named
    };
    let (current, dated): (Vec<&VerifyingKey>, Vec<&VerifyingKey>) =
        candidates.into_iter().partition(|key| key.valid_at(now));
    if current.is_empty() && dated.is_empty() {
        return KeyCheck::NoKey;
    }
    if kid.is_none() && single_kidless && current.len() > 1 {
        return KeyCheck::Ambiguous;
    }
    if current
        .iter()
        .any(|key| key.verifies(alg, message, signature))
    {
        KeyCheck::Valid
    } else if let Some(key) = dated
        .iter()
        .find(|key| key.verifies(alg, message, signature))
    {
        KeyCheck::OutsideValidity(key.certificate.clone().unwrap_or_else(|| CertificateInfo {
            subject: key.label.clone(),
            serial: String::new(),
            not_before: key.not_before.unwrap_or(i64::MIN),
            not_after: key.not_after.unwrap_or(i64::MAX),
        }))
    } else if kid.is_none() || kid_ignored {
        // A kid-less token that none of the current keys verifies may be
        // signed by a key published since: same as an unknown kid.
        KeyCheck::NoKey
    } else {
        KeyCheck::BadSignature
    }
}

fn decode_json(part: &str) -> Result<Map<String, Value>, TokenProblem> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenProblem::Malformed("a part is not base64url".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| TokenProblem::Malformed("a part is not a JSON object".into()))
}

/// Checks the claims (OIDC Core 3.1.3.7 items 2–5 and 9–11, RFC 7519 4.1);
/// returns the subject. `exp`, `iat` and `nbf` are NumericDates (RFC 7519
/// §2: fractions allowed); `sub` follows the profile's type rule.
pub fn check_claims(
    claims: &Map<String, Value>,
    expect: &Expectations<'_>,
) -> Result<String, TokenProblem> {
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss != expect.issuer {
        return Err(TokenProblem::WrongIssuer(iss.chars().take(128).collect()));
    }
    check_audience(claims, expect)?;
    let date = |name: &str| match claims.get(name) {
        None => Ok(None),
        Some(value) => NumericDate::from_json(value)
            .map(Some)
            .ok_or_else(|| TokenProblem::Malformed(format!("{name} is not a NumericDate"))),
    };
    let exp = date("exp")?.ok_or_else(|| TokenProblem::Malformed("no exp".into()))?;
    if exp.floor().saturating_add(LEEWAY_SECS) < expect.now {
        return Err(TokenProblem::Expired);
    }
    let iat = date("iat")?.ok_or_else(|| TokenProblem::Malformed("no iat".into()))?;
    if iat.ceil().saturating_sub(LEEWAY_SECS) > expect.now {
        return Err(TokenProblem::IssuedInFuture);
    }
    if iat
        .floor()
        .saturating_add(expect.max_age_secs)
        .saturating_add(LEEWAY_SECS)
        < expect.now
    {
        return Err(TokenProblem::TooOld);
    }
    if let Some(nbf) = date("nbf")? {
        if nbf.ceil().saturating_sub(LEEWAY_SECS) > expect.now {
            return Err(TokenProblem::IssuedInFuture);
        }
    }
    let subject = expect.profile.subject(claims.get("sub")).ok_or_else(|| {
        TokenProblem::Malformed(match expect.profile {
            ClaimProfile::Oidc => "sub is not a string of 1 to 255 characters".into(),
            ClaimProfile::Esia => "sub is not an OID (a non-negative integer)".into(),
        })
    })?;
    if let Some(expected) = expect.nonce {
        let nonce = claims.get("nonce").and_then(Value::as_str);
        if nonce != Some(expected) {
            return Err(TokenProblem::NonceMismatch);
        }
    }
    Ok(subject)
}

/// `aud` must contain our client_id, and every other audience must be
/// trusted (OIDC Core 3.1.3.7 items 3–4); `azp`, when present, must be our
/// client_id (item 5). A token for several audiences without `azp` is
/// accepted when they are all trusted (item 4's SHOULD, decided: `azp` is
/// not required, the trust list already bounds who else may hold it).
fn check_audience(
    claims: &Map<String, Value>,
    expect: &Expectations<'_>,
) -> Result<(), TokenProblem> {
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(list)) => {
            let texts: Option<Vec<&str>> = list.iter().map(Value::as_str).collect();
            texts.ok_or(TokenProblem::WrongAudience)?
        }
        _ => return Err(TokenProblem::WrongAudience),
    };
    if !audiences.contains(&expect.client_id) {
        return Err(TokenProblem::WrongAudience);
    }
    let untrusted = audiences
        .iter()
        .any(|aud| *aud != expect.client_id && !expect.trusted_audiences.iter().any(|t| t == aud));
    if untrusted {
        return Err(TokenProblem::UntrustedAudience);
    }
    match claims.get("azp") {
        None => Ok(()),
        Some(Value::String(azp)) if azp == expect.client_id => Ok(()),
        Some(_) => Err(TokenProblem::WrongAzp),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod certificate_tests;
