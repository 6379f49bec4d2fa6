//! Our signing keys over time: which key signs now for each algorithm,
//! which keys the JWKS publishes, and the check of our own JWTs when they
//! come back (userinfo, introspection, `id_token_hint`).
//!
//! Rotation with overlap, by configuration alone: give the new key a
//! `sign_from` a day or so ahead (it is published at once, so clients'
//! cached JWKS learn it before it signs), and give the old key a
//! `publish_until` later than `sign_from` plus the longest token lifetime
//! (it stops signing at the new key's `sign_from` and stays published
//! until every token it signed has expired).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use openidconnect::core::CoreJsonWebKeySet;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::errors::{Description, Error, Result};
use crate::jws::{typ_matches, Compact, SigningAlg};
use crate::keys::SigningKey;

/// `[[provider.signing_keys]]`: one key, from a file or inline PEM.
#[derive(Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    pub pem_file: Option<PathBuf>,
    /// Inline PEM (tests; an environment variable in containers).
    #[serde(
        serialize_with = "crate::provider::masked_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pem: Option<String>,
    /// Published at once; signs from this time on (absent: signs now).
    pub sign_from: Option<DateTime<Utc>>,
    /// Removed from the JWKS at this time (absent: published while
    /// configured). A key signs only until a newer one's `sign_from`.
    pub publish_until: Option<DateTime<Utc>>,
}

/// An inline private key never prints: only whether one is there.
impl std::fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyConfig")
            .field("pem_file", &self.pem_file)
            .field("pem", &self.pem.as_ref().map(|_| "(redacted)"))
            .field("sign_from", &self.sign_from)
            .field("publish_until", &self.publish_until)
            .finish()
    }
}

#[derive(Debug)]
struct Entry {
    key: SigningKey,
    sign_from: Option<DateTime<Utc>>,
    publish_until: Option<DateTime<Utc>>,
}

impl Entry {
    fn published_at(&self, now: DateTime<Utc>) -> bool {
        self.publish_until.is_none_or(|until| now < until)
    }

    fn may_sign_at(&self, now: DateTime<Utc>) -> bool {
        self.published_at(now) && self.sign_from.is_none_or(|from| from <= now)
    }
}

#[derive(Debug)]
pub struct KeySet {
    entries: Vec<Entry>,
}

/// Registered claims every one of our JWTs carries; the typed claims of
/// each token kind expose them so one check serves all kinds.
pub trait RegisteredClaims {
    fn iss(&self) -> &str;
    fn exp(&self) -> i64;
}

impl KeySet {
    /// Loads the keys and checks that rotation is consistent: `min_overlap`
    /// is the longest lifetime of a token we sign (a key must stay
    /// published that long after it stops signing).
    pub fn load(configs: &[KeyConfig], base_dir: &Path, min_overlap: Duration) -> Result<KeySet> {
        let mut entries = Vec::with_capacity(configs.len());
        for (index, config) in configs.iter().enumerate() {
            let what = format!("signing_keys[{index}]");
            let key = match (&config.pem_file, &config.pem) {
                (Some(file), None) => SigningKey::from_pem_file(&base_dir.join(file))?,
                (None, Some(pem)) => SigningKey::from_pem(pem, &what)?,
                _ => {
                    return Err(Error::Config(format!(
                        "{what}: give exactly one of pem_file and pem"
                    )))
                }
            };
            if let (Some(from), Some(until)) = (config.sign_from, config.publish_until) {
                if until <= from {
                    return Err(Error::Config(format!(
                        "{what} ({}): publish_until is not after sign_from",
                        key.kid()
                    )));
                }
            }
            if entries.iter().any(|e: &Entry| e.key.kid() == key.kid()) {
                return Err(Error::Config(format!(
                    "{what} ({}): the same key is configured twice",
                    key.kid()
                )));
            }
            entries.push(Entry {
                key,
                sign_from: config.sign_from,
                publish_until: config.publish_until,
            });
        }
        let set = KeySet { entries };
        set.check_rotation(min_overlap)?;
        Ok(set)
    }

    fn check_rotation(&self, min_overlap: Duration) -> Result<()> {
        for alg in [SigningAlg::Rs256, SigningAlg::Es256] {
            let mut same: Vec<&Entry> =
                self.entries.iter().filter(|e| e.key.alg() == alg).collect();
            same.sort_by_key(|e| e.sign_from);
            for pair in same.windows(2) {
                if let [older, newer] = pair {
                    if older.sign_from == newer.sign_from {
                        return Err(Error::Config(format!(
                            "{} keys {} and {} have the same sign_from; give the newer one a later time",
                            alg.as_str(),
                            older.key.kid(),
                            newer.key.kid()
                        )));
                    }
                }
            }
            for (i, entry) in same.iter().enumerate() {
                let Some(until) = entry.publish_until else {
                    continue;
                };
                // The key stops signing when its successor starts; tokens it
                // signed just before must still verify until they expire.
                let successor = same.get(i + 1).and_then(|next| next.sign_from);
                match successor {
                    Some(from) if from + min_overlap <= until => {}
                    Some(_) => {
                        return Err(Error::Config(format!(
                            "{} key {}: publish_until must be at least {} s after the next key's sign_from",
                            alg.as_str(),
                            entry.key.kid(),
                            min_overlap.num_seconds()
                        )))
                    }
                    None => {
                        return Err(Error::Config(format!(
                            "{} key {} has publish_until but no newer {} key takes over",
                            alg.as_str(),
                            entry.key.kid(),
                            alg.as_str()
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    /// The key that signs with `alg` at `now`: the one with the latest
    /// `sign_from` that has begun.
    pub fn signing_key(&self, alg: SigningAlg, now: DateTime<Utc>) -> Result<&SigningKey> {
        self.entries
            .iter()
            .filter(|e| e.key.alg() == alg && e.may_sign_at(now))
            .max_by_key(|e| e.sign_from)
            .map(|e| &e.key)
            .ok_or_else(|| Error::Internal(format!("no {} signing key at {now}", alg.as_str())))
    }

    /// Whether some key can sign with `alg` at `now` (configuration checks).
    pub fn can_sign(&self, alg: SigningAlg, now: DateTime<Utc>) -> bool {
        self.signing_key(alg, now).is_ok()
    }

    /// A key that is published at `now`, by `kid`.
    pub fn published_key(&self, kid: &str, now: DateTime<Utc>) -> Option<&SigningKey> {
        self.entries
            .iter()
            .find(|e| e.key.kid() == kid && e.published_at(now))
            .map(|e| &e.key)
    }

    /// `/oauth2/jwks` at `now`: every published key, signing or not.
    pub fn jwks(&self, now: DateTime<Utc>) -> CoreJsonWebKeySet {
        CoreJsonWebKeySet::new(
            self.entries
                .iter()
                .filter(|e| e.published_at(now))
                .map(|e| e.key.public_jwk().clone())
                .collect(),
        )
    }

    /// The `kid`s of the published demo keys present in this set; `serve`
    /// refuses to start with any of them.
    pub fn demo_keys(&self) -> Vec<&str> {
        self.entries
            .iter()
            .map(|e| e.key.kid())
            .filter(|kid| is_demo_key(kid))
            .collect()
    }

    /// Checks one of our own JWTs: header `typ`, a `kid` we publish at
    /// `now`, the algorithm of that key, its signature, `iss`, and — when
    /// `check_exp` — `exp` (an `id_token_hint` may have expired, RP-Initiated
    /// Logout §2). The description is safe to show.
    pub fn verify<T: DeserializeOwned + RegisteredClaims>(
        &self,
        token: &str,
        expected_typ: &str,
        issuer: &str,
        now: DateTime<Utc>,
        check_exp: bool,
    ) -> Result<T, Description> {
        self.verify_checked(token, expected_typ, issuer, now, check_exp, false)
    }

    /// [`KeySet::verify`], except that the signature is not checked again
    /// when `signed_here` (the caller knows this process signed these very
    /// bytes); everything else is.
    pub(crate) fn verify_checked<T: DeserializeOwned + RegisteredClaims>(
        &self,
        token: &str,
        expected_typ: &str,
        issuer: &str,
        now: DateTime<Utc>,
        check_exp: bool,
        signed_here: bool,
    ) -> Result<T, Description> {
        let compact = Compact::parse(token)?;
        // An ID token has no `typ` (openidconnect writes none); "JWT"
        // accepts that, and nothing else accepts a token without one, so
        // an ID token never passes for an access or logout token.
        let typ_ok = match compact.header.typ.as_deref() {
            None => expected_typ.eq_ignore_ascii_case("JWT"),
            actual => typ_matches(actual, expected_typ),
        };
        if !typ_ok {
            return Err("wrong token type".into());
        }
        let kid = compact.header.kid.as_deref().ok_or("no kid")?;
        let key = self
            .published_key(kid, now)
            .ok_or("unknown or retired key")?;
        if !signed_here && !compact.verified_by(key.verifying_key()) {
            return Err("bad signature".into());
        }
        let claims: T = compact.claims()?;
        if claims.iss() != issuer {
            return Err("wrong issuer".into());
        }
        if check_exp && claims.exp() <= now.timestamp() {
            return Err("token expired".into());
        }
        Ok(claims)
    }
}

/// RFC 7638 thumbprints of the demo keys in `demo/` (published with the
/// source, so anybody can sign with them).
pub const DEMO_KEY_THUMBPRINTS: [&str; 2] = [
    // demo/op-rs256.pem
    "invY76f3sEtPzL2SmQ1eRATd_9xY6qA7HYFt-EZyzco",
    // demo/op-es256.pem
    "X6mLm2uSNXnu1fPdtLU-m_AuFP_NdKCqGL5wJd_YImE",
];

pub fn is_demo_key(kid: &str) -> bool {
    DEMO_KEY_THUMBPRINTS.contains(&kid)
}
