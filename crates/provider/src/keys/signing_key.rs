//! One signing key of ours, loaded from PEM with ring: RSA → RS256,
//! EC P-256 → ES256. Its `kid` is its RFC 7638 thumbprint. It also
//! implements openidconnect's `PrivateSigningKey`, so ID tokens are built
//! by openidconnect's own `IdToken::new` with ring doing the signing.

use std::fmt;
use std::path::Path;

use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{PrivateSigningKey, SigningError};
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;

use crate::errors::{Description, Error, Result};
use crate::jws::{self, Header, SigningAlg, VerifyingKey};

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

pub struct SigningKey {
    kid: String,
    pair: Pair,
    verifying: VerifyingKey,
    jwk: CoreJsonWebKey,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    // Never the private half, even in a debug print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// `what` names the key in error messages (a file name or a config
    /// entry), since the operator must find which one is wrong.
    pub fn from_pem(pem: &str, what: &str) -> Result<SigningKey> {
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|_| Error::Config(format!("{what}: no PEM private key found")))?;
        let rng = SystemRandom::new();
        let pair = match &der {
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der())
                .map(Pair::Rsa)
                .map_err(|e| Error::Config(format!("{what}: RSA key refused ({e})")))?,
            PrivateKeyDer::Pkcs8(der) => {
                let bytes = der.secret_pkcs8_der();
                match RsaKeyPair::from_pkcs8(bytes) {
                    Ok(pair) => Pair::Rsa(pair),
                    Err(_) => EcdsaKeyPair::from_pkcs8(
                        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                        bytes,
                        &rng,
                    )
                    .map(Pair::Ec)
                    .map_err(|_| {
                        Error::Config(format!(
                            "{what}: neither an RSA key (2048 bits or more) nor an EC P-256 key"
                        ))
                    })?,
                }
            }
            PrivateKeyDer::Sec1(_) => {
                return Err(Error::Config(format!(
                "{what}: an EC key in SEC1 form; convert it with `openssl pkcs8 -topk8 -nocrypt`"
            )))
            }
            _ => return Err(Error::Config(format!("{what}: unsupported key format"))),
        };
        let verifying = match &pair {
            Pair::Rsa(pair) => {
                VerifyingKey::Rs256(PublicKeyComponents::<Vec<u8>>::from(pair.public()))
            }
            Pair::Ec(pair) => VerifyingKey::Es256(pair.public_key().as_ref().to_vec()),
        };
        let kid = verifying.thumbprint();
        let jwk = public_jwk(&verifying, &kid)
            .map_err(|e| Error::Config(format!("{what}: public JWK ({e})")))?;
        Ok(SigningKey {
            kid,
            pair,
            verifying,
            jwk,
            rng,
        })
    }

    pub fn from_pem_file(path: &Path) -> Result<SigningKey> {
        let what = path.display().to_string();
        let pem = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{what}: cannot read ({e})")))?;
        SigningKey::from_pem(&pem, &what)
    }

    pub fn alg(&self) -> SigningAlg {
        self.verifying.alg()
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// The public half as openidconnect's JWK (with `kid`, `use`, `alg`).
    pub fn public_jwk(&self) -> &CoreJsonWebKey {
        &self.jwk
    }

    /// A JWS signature over `message` (for ES256 the fixed `r ‖ s` form
    /// JWS wants, not DER).
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, Description> {
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &self.rng,
                    message,
                    &mut signature,
                )
                .map_err(|_| Description::from("RSA signing failed"))?;
                Ok(signature)
            }
            Pair::Ec(pair) => pair
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Description::from("ECDSA signing failed")),
        }
    }

    /// Our own compact JWT with `typ` in the header.
    pub fn sign_jwt<C: serde::Serialize>(&self, typ: &str, claims: &C) -> Result<String> {
        let header = Header {
            alg: self.alg().as_str().to_string(),
            kid: Some(self.kid.clone()),
            typ: Some(typ.to_string()),
        };
        jws::encode(&header, claims, |input| self.sign_bytes(input))
            .map_err(|e| Error::Internal(format!("signing a {typ} with {}: {e}", self.kid)))
    }
}

fn public_jwk(key: &VerifyingKey, kid: &str) -> std::result::Result<CoreJsonWebKey, String> {
    // Built through serde because openidconnect offers no setter for `alg`,
    // and clients that pick keys by `alg` need it published.
    let mut members = key.jwk_members();
    members.insert("use".into(), "sig".into());
    members.insert("alg".into(), key.alg().as_str().into());
    members.insert("kid".into(), kid.into());
    serde_json::from_value(serde_json::Value::Object(members)).map_err(|e| e.to_string())
}

impl PrivateSigningKey for SigningKey {
    type VerificationKey = CoreJsonWebKey;

    fn sign(
        &self,
        signature_alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
    ) -> std::result::Result<Vec<u8>, SigningError> {
        if *signature_alg != self.alg().to_core() {
            return Err(SigningError::UnsupportedAlg(format!(
                "key {} signs {} only",
                self.kid,
                self.alg().as_str()
            )));
        }
        self.sign_bytes(message)
            .map_err(|_| SigningError::CryptoError)
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        self.jwk.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::JsonWebKey;

    const RS: &str = include_str!("../../tests/keys/rs256-a.pem");
    const ES: &str = include_str!("../../tests/keys/es256-a.pem");
    const PKCS1: &str = include_str!("../../tests/keys/pkcs1-rs256.pem");
    const SEC1: &str = include_str!("../../tests/keys/sec1-ec.pem");

    #[test]
    fn pem_forms_and_their_algorithms() {
        let cases = [
            (RS, Some(SigningAlg::Rs256)),
            (ES, Some(SigningAlg::Es256)),
            (PKCS1, Some(SigningAlg::Rs256)),
            (SEC1, None),
            ("not a key", None),
        ];
        for (pem, alg) in cases {
            let loaded = SigningKey::from_pem(pem, "test key");
            assert_eq!(loaded.as_ref().ok().map(|k| k.alg()), alg, "{pem:.30}");
        }
        let err = SigningKey::from_pem(SEC1, "old.pem")
            .unwrap_err()
            .to_string();
        assert!(err.contains("old.pem") && err.contains("pkcs8"), "{err}");
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint_and_signatures_verify_with_the_jwk() {
        for pem in [RS, ES] {
            let key = SigningKey::from_pem(pem, "k").unwrap();
            assert_eq!(key.kid().len(), 43);
            assert_eq!(
                key.public_jwk().key_id().map(|k| k.as_str()),
                Some(key.kid())
            );
            let message = b"header.payload";
            let signature = key.sign_bytes(message).unwrap();
            // openidconnect's own verifier (RustCrypto) accepts ring's signature.
            key.public_jwk()
                .verify_signature(&key.alg().to_core(), message, &signature)
                .unwrap();
            assert!(key.verifying_key().verify(message, &signature));
            assert!(!key.verifying_key().verify(b"other", &signature));
        }
    }

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1: the example RSA key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk = serde_json::json!({"kty": "RSA", "n": n, "e": "AQAB"});
        let (_, key) = jws::key_from_jwk(&jwk).unwrap();
        assert_eq!(
            key.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn wrong_algorithm_is_refused_by_the_openidconnect_signer() {
        let key = SigningKey::from_pem(ES, "k").unwrap();
        let refused = PrivateSigningKey::sign(&key, &SigningAlg::Rs256.to_core(), b"m");
        assert!(matches!(refused, Err(SigningError::UnsupportedAlg(_))));
        assert!(!format!("{key:?}").contains("BEGIN"));
    }
}
