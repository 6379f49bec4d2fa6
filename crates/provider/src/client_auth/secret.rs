//! Client-secret checks: argon2 against the configured PHC string, with a
//! per-client memo of the last secret that passed.
//!
//! Why the memo: argon2 costs milliseconds by design, and a confidential
//! web app presents the same secret at every sign-in and refresh. The memo
//! keeps SHA-256 of the accepted secret per client (one entry per
//! configured client, so it cannot grow), compared in constant time. A
//! memory dump could brute-force a weak secret from SHA-256, so client
//! secrets must be random (the README's `openssl rand` recipe), which they
//! are anyway for the argon2 hash to mean anything.

use std::collections::HashMap;
use std::sync::RwLock;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Default)]
pub struct SecretCache {
    /// client id → (the PHC string it was checked against, SHA-256 of the
    /// secret); a changed PHC string in new configuration misses the memo.
    accepted: RwLock<HashMap<String, (String, [u8; 32])>>,
}

impl SecretCache {
    pub fn new() -> SecretCache {
        SecretCache::default()
    }

    /// Whether `secret` is the client's: the memo first, argon2 otherwise.
    pub fn verify(&self, client_id: &str, secret: &str, phc: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        if let Ok(accepted) = self.accepted.read() {
            if let Some((known_phc, known)) = accepted.get(client_id) {
                if known_phc == phc && bool::from(known.ct_eq(&digest)) {
                    return true;
                }
            }
        }
        let Ok(hash) = PasswordHash::new(phc) else {
            return false;
        };
        // The PHC string names the algorithm and costs; Argon2::default()
        // only supplies the implementation.
        let ok = Argon2::default()
            .verify_password(secret.as_bytes(), &hash)
            .is_ok();
        if ok {
            if let Ok(mut accepted) = self.accepted.write() {
                accepted.insert(client_id.to_string(), (phc.to_string(), digest));
            }
        }
        ok
    }
}
