//! Prints the argon2id PHC string of a client secret read from standard
//! input, for `secret_hash` in `[[clients]]`:
//!
//! ```text
//! openssl rand -base64 32 | tee secret.txt | cargo run --example hash_secret
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use ring::rand::{SecureRandom, SystemRandom};

fn main() {
    let mut secret = String::new();
    std::io::stdin()
        .read_to_string(&mut secret)
        .expect("read stdin");
    let secret = secret.trim_end_matches(['\n', '\r']);
    let mut salt = [0u8; 16];
    SystemRandom::new().fill(&mut salt).expect("random salt");
    let salt = SaltString::encode_b64(&salt).expect("salt");
    let hash = Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2");
    println!("{hash}");
}
