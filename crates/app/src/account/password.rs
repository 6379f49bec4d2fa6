//! Password hashing for diary accounts: argon2id with OWASP's parameters,
//! run on Tokio's blocking pool because one hash takes tens of milliseconds
//! of CPU and would stall every request sharing the async worker.
//!
//! Passwords are NFKC-normalised before hashing, so "é" typed as one code
//! point or as e + accent verifies the same (NIST SP 800-63B, 5.1.1.2).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

/// OWASP Password Storage Cheat Sheet, argon2id: m = 19 MiB, t = 2, p = 1.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// The parameters new hashes get; checked when this is compiled.
pub const PARAMS: Params = match Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None) {
    Ok(params) => params,
    Err(_) => panic!("invalid argon2 parameters"),
};

/// A fixed salt for [`verify_dummy`]; its output is thrown away.
const DUMMY_SALT: &[u8; 16] = b"esia-link-dummy!";

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 failed: {0}")]
    Argon2(argon2::password_hash::Error),
    #[error("the hashing task did not finish: {0}")]
    Task(#[from] tokio::task::JoinError),
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS)
}

fn normalized(password: &SecretString) -> SecretString {
    SecretString::from(password.expose_secret().nfkc().collect::<String>())
}

/// Hashes with a fresh random salt; returns the PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) to store.
pub async fn hash(password: SecretString) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || {
        let password = normalized(&password);
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        hasher()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(HashError::Argon2)
    })
    .await?
}

/// Whether `password` matches the stored PHC string, with the parameters
/// recorded in it. A stored value that does not parse never matches.
pub async fn verify(password: SecretString, phc: String) -> bool {
    let task = tokio::task::spawn_blocking(move || {
        let Ok(stored) = PasswordHash::new(&phc) else {
            // The value itself stays out of the log: it is a credential.
            tracing::warn!("a stored password hash is not a valid PHC string");
            return false;
        };
        let password = normalized(&password);
        hasher()
            .verify_password(password.expose_secret().as_bytes(), &stored)
            .is_ok()
    });
    task.await.unwrap_or(false)
}

/// Spends the time of one [`verify`] when there is no account to verify
/// against, so the response time does not tell whether a login exists.
pub async fn verify_dummy(password: SecretString) {
    let task = tokio::task::spawn_blocking(move || {
        let password = normalized(&password);
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        // The result is meaningless; only the work matters.
        let _ = hasher().hash_password_into(
            password.expose_secret().as_bytes(),
            DUMMY_SALT,
            &mut output,
        );
        std::hint::black_box(output);
    });
    let _ = task.await;
}

/// Whether a stored hash was made with other parameters (or another
/// algorithm) than new hashes get, so it should be replaced at the next
/// successful login.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(stored) = PasswordHash::new(phc) else {
        return true;
    };
    let current = (MEMORY_KIB, ITERATIONS, PARALLELISM);
    stored.hash.is_none()
        || stored.algorithm != Algorithm::Argon2id.ident()
        || stored.version != Some(Version::V0x13.into())
        || Params::try_from(&stored)
            .map(|p| (p.m_cost(), p.t_cost(), p.p_cost()) != current)
            .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_string())
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let phc = hash(secret("Зелёный-Трамвай-42")).await.expect("hashes");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!needs_rehash(&phc));
        let cases = [
            ("Зелёный-Трамвай-42", true),
            ("зелёный-трамвай-42", false),
            ("Зелёный-Трамвай-43", false),
            ("", false),
        ];
        for (typed, expected) in cases {
            assert_eq!(
                verify(secret(typed), phc.clone()).await,
                expected,
                "{typed}"
            );
        }
    }

    #[tokio::test]
    async fn salts_differ_and_bad_hashes_never_match() {
        let a = hash(secret("correct horse")).await.expect("hashes");
        let b = hash(secret("correct horse")).await.expect("hashes");
        assert_ne!(a, b);
        for stored in ["", "not a hash", "$argon2id$v=19$m=19456,t=2,p=1$AAAA"] {
            assert!(!verify(secret("correct horse"), stored.to_string()).await);
            assert!(needs_rehash(stored));
        }
    }

    #[tokio::test]
    async fn unicode_forms_verify_alike() {
        // "é" as one code point, then as "e" + combining acute accent.
        let phc = hash(secret("caf\u{e9}-au-lait-2024"))
            .await
            .expect("hashes");
        assert!(verify(secret("cafe\u{301}-au-lait-2024"), phc).await);
    }

    #[tokio::test]
    async fn old_parameters_still_verify_but_need_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).expect("valid"),
        );
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let phc = weak
            .hash_password(b"legacy password", &salt)
            .expect("hashes")
            .to_string();
        assert!(needs_rehash(&phc));
        assert!(verify(secret("legacy password"), phc).await);
    }

    #[tokio::test]
    async fn dummy_verification_does_the_same_work() {
        verify_dummy(secret("anything at all")).await;
        // Same algorithm and parameters as a real hash, so the same cost.
        let h = hasher();
        assert_eq!(h.params().m_cost(), MEMORY_KIB);
        assert_eq!(h.params().t_cost(), ITERATIONS);
        assert_eq!(h.params().p_cost(), PARALLELISM);
        assert_eq!(PARAMS, Params::DEFAULT);
    }
}

/// Why a chosen password was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRefusal {
    /// The two fields differ.
    Differ,
    /// The password breaks the rules (too short, contains the name, ...).
    Weak(Vec<domain::password::PasswordProblem>),
}

/// Choosing a password, as activation and recovery both ask for it: the
/// two fields agree, the password passes the rules against the account's
/// own data, and it is hashed (argon2id, off the async threads).
pub async fn choose(
    account: &store::Account,
    password: SecretString,
    repeat: SecretString,
) -> Result<Result<String, PasswordRefusal>, crate::AppError> {
    if password.expose_secret() != repeat.expose_secret() {
        return Ok(Err(PasswordRefusal::Differ));
    }
    let context = domain::password::PasswordContext {
        login: account.login.as_deref(),
        surname: Some(&account.surname),
        given_name: Some(&account.given_name),
        patronymic: account.patronymic.as_deref(),
        birth_date: account.birth_date,
    };
    if let Err(problems) = domain::password::check(password.expose_secret(), &context) {
        return Ok(Err(PasswordRefusal::Weak(problems)));
    }
    let hash = hash(password)
        .await
        .map_err(|e| crate::AppError::Internal(e.to_string()))?;
    Ok(Ok(hash))
}
