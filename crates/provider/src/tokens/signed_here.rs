//! Access tokens this process signed, remembered until they expire.
//!
//! An app redeems its code and calls `userinfo` with the new access token a
//! moment later, most often through the same instance: the instance then
//! already knows the signature is its own, and checking it again was a
//! tenth of an app sign-in's CPU (an ECDSA P-256 verification). The memo
//! keeps SHA-256 of each token it minted with the token's `exp`; a token
//! whose digest is there is that token, so only the signature check is
//! skipped — the header, the key (still published), `iss` and `exp` are
//! checked as for any other token, and revocation is the caller's lookup as
//! before. Another instance, or a token older than the memo, is verified.
//!
//! Bounded: at [`CAPACITY`] entries the expired ones go; if none has
//! expired the memo starts afresh (tokens minted before are then verified).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Entries kept at most: 32 bytes of digest and 8 of expiry each, a few
/// MiB at most, which is minutes of sign-ins at full speed.
pub const CAPACITY: usize = 65_536;

#[derive(Debug, Default)]
pub struct SignedHere {
    /// SHA-256 of a token → its `exp` (Unix seconds).
    minted: Mutex<HashMap<[u8; 32], i64>>,
}

impl SignedHere {
    /// Remembers `token`, which this process signed and which expires at `exp`.
    pub(crate) fn remember(&self, token: &str, exp: i64, now: i64) {
        let digest = digest(token);
        let Ok(mut minted) = self.minted.lock() else {
            return;
        };
        if minted.len() >= CAPACITY {
            minted.retain(|_, expires| *expires > now);
            if minted.len() >= CAPACITY {
                minted.clear();
            }
        }
        minted.insert(digest, exp);
    }

    /// Whether this process signed `token` and it has not expired.
    pub(crate) fn knows(&self, token: &str, now: i64) -> bool {
        let digest = digest(token);
        self.minted
            .lock()
            .ok()
            .and_then(|minted| minted.get(&digest).copied())
            .is_some_and(|exp| exp > now)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.minted.lock().map(|m| m.len()).unwrap_or_default()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_known_until_it_expires_and_only_that_token() {
        let memo = SignedHere::default();
        memo.remember("a.b.c", 100, 10);
        assert!(memo.knows("a.b.c", 99));
        assert!(!memo.knows("a.b.c", 100), "expired");
        assert!(!memo.knows("a.b.d", 50), "another token");
        assert!(!memo.knows("a.b.c ", 50), "not the same bytes");
    }

    #[test]
    fn a_full_memo_drops_the_expired_first_then_everything() {
        let memo = SignedHere::default();
        for i in 0..CAPACITY {
            // Half expire at 10, half at 1000.
            let exp = if i % 2 == 0 { 10 } else { 1000 };
            memo.remember(&format!("t{i}"), exp, 0);
        }
        assert_eq!(memo.len(), CAPACITY);
        memo.remember("new", 1000, 20);
        assert_eq!(memo.len(), CAPACITY / 2 + 1);
        assert!(memo.knows("t1", 20) && memo.knows("new", 20));
        assert!(!memo.knows("t0", 5), "dropped as expired at 20");

        let full = SignedHere::default();
        for i in 0..CAPACITY {
            full.remember(&format!("t{i}"), 1000, 0);
        }
        full.remember("last", 1000, 20);
        assert_eq!(full.len(), 1, "nothing had expired: started afresh");
        assert!(full.knows("last", 20) && !full.knows("t1", 20));
    }
}
