//! The `sub` a client sees for an account (OpenID Connect Core §8).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;

use crate::clients::{Client, SubjectType};
use crate::errors::{Error, Result};

/// The secret behind pairwise subjects. Changing it changes every
/// pairwise `sub`, which to the apps looks like new people: it is
/// configured once and kept.
#[derive(Clone)]
pub struct SubjectKey(hmac::Key);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(redacted)")
    }
}

impl SubjectKey {
    pub fn new(secret: &[u8]) -> Result<SubjectKey> {
        if secret.len() < 32 {
            return Err(Error::Config(
                "provider.subject_key must be at least 32 bytes".into(),
            ));
        }
        Ok(SubjectKey(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }

    /// `sub` for `client`: the account id for public subjects, otherwise
    /// base64url(HMAC-SHA256(key, client_id ‖ 0x00 ‖ account_id)). The zero
    /// byte keeps ("ab", "c") and ("a", "bc") apart; client ids cannot
    /// contain it.
    pub fn subject(&self, client: &Client, account_id: &str) -> String {
        match client.subject {
            SubjectType::Public => account_id.to_string(),
            SubjectType::Pairwise => self.pairwise(&client.id, account_id),
        }
    }

    pub fn pairwise(&self, client_id: &str, account_id: &str) -> String {
        let mut context = hmac::Context::with_key(&self.0);
        context.update(client_id.as_bytes());
        context.update(&[0]);
        context.update(account_id.as_bytes());
        URL_SAFE_NO_PAD.encode(context.sign().as_ref())
    }
}
