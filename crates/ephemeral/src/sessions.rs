//! Browser sessions in the ephemeral store: a random 256-bit id in an
//! HttpOnly cookie, only its SHA-256 used as the key, an idle timeout
//! refreshed on use and an absolute timeout that is not.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::typed::{get_json, put_json};
use super::{EphemeralError, SharedEphemeral};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionData {
    pub account_id: Uuid,
    pub provider: String,
    pub subject: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Token that every form of this session must carry.
    pub csrf: String,
    /// The account's session generation when this session began; "log out
    /// everywhere" raises the generation and ends every older session.
    #[serde(default)]
    pub generation: u64,
    /// This login linked the identity just now: the next page says so, once.
    #[serde(default)]
    pub just_linked: bool,
    /// The State Services account tier this login came with (`simplified`,
    /// `standard`, `verified`); `None` for a diary-password login. The
    /// diary's apps read it as `acr`.
    #[serde(default)]
    pub tier: Option<String>,
}

#[derive(Clone)]
pub struct Sessions {
    store: SharedEphemeral,
    idle: Duration,
    absolute: Duration,
}

impl Sessions {
    pub fn new(store: SharedEphemeral, idle: Duration, absolute: Duration) -> Sessions {
        Sessions {
            store,
            idle,
            absolute,
        }
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// Starts a session; returns the cookie value (never stored as such).
    pub async fn create(
        &self,
        account_id: Uuid,
        provider: &str,
        subject: &str,
        just_linked: bool,
        tier: Option<&str>,
    ) -> Result<String, EphemeralError> {
        let id = random_token();
        let data = SessionData {
            account_id,
            provider: provider.to_string(),
            subject: subject.to_string(),
            created_at: Utc::now().timestamp(),
            csrf: random_token(),
            generation: self.generation(account_id).await?,
            just_linked,
            tier: tier.map(str::to_string),
        };
        put_json(self.store.as_ref(), &key(&id), &data, self.idle).await?;
        Ok(id)
    }

    /// The live session for a cookie value; refreshes the idle timeout.
    pub async fn get(&self, id: &str) -> Result<Option<SessionData>, EphemeralError> {
        if id.len() > 128 {
            return Ok(None);
        }
        let key = key(id);
        let Some(data) = get_json::<SessionData>(self.store.as_ref(), &key).await? else {
            return Ok(None);
        };
        let age = Utc::now().timestamp() - data.created_at;
        if age < 0
            || age as u64 > self.absolute.as_secs()
            || data.generation < self.generation(data.account_id).await?
        {
            self.store.delete(&key).await?;
            return Ok(None);
        }
        self.store.expire(&key, self.idle).await?;
        Ok(Some(data))
    }

    /// Clears the one-time "just linked" notice of a session.
    pub async fn clear_notice(&self, id: &str, data: &SessionData) -> Result<(), EphemeralError> {
        let cleared = SessionData {
            just_linked: false,
            ..data.clone()
        };
        put_json(self.store.as_ref(), &key(id), &cleared, self.idle).await
    }

    pub async fn destroy(&self, id: &str) -> Result<(), EphemeralError> {
        self.store.delete(&key(id)).await
    }

    /// Ends every session of the account, on every instance: raises the
    /// account's generation, which sessions compare on each use. The
    /// counter lives as long as a session can, so it outlives every
    /// session it ends.
    pub async fn end_all(&self, account_id: Uuid) -> Result<(), EphemeralError> {
        self.store
            .incr(&generation_key(account_id), self.absolute)
            .await
            .map(|_| ())
    }

    async fn generation(&self, account_id: Uuid) -> Result<u64, EphemeralError> {
        super::typed::get_counter(self.store.as_ref(), &generation_key(account_id)).await
    }
}

/// The session's public identifier (`sid` in the diary apps' tokens and
/// logout tokens): derived from the cookie value, so nothing more is
/// stored, and revealing nothing about it.
pub fn session_sid(id: &str) -> String {
    let digest = Sha256::digest(format!("sid:{id}").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// A counter: the `rate:` kind keeps it in its own share of the in-process
/// store.
fn generation_key(account_id: Uuid) -> String {
    format!("rate:session-generation:{account_id}")
}

fn key(id: &str) -> String {
    format!("session:{}", hex::encode(Sha256::digest(id.as_bytes())))
}

/// 256 random bits, base64url, from the thread's CSPRNG (ChaCha12 seeded
/// and regularly reseeded from the OS): the same strength as asking the
/// kernel, without a system call for each of the three tokens of a login.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 hex of a token, for storing bindings without the token itself.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality for tokens.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
