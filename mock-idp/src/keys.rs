//! Signing keys, the JWKS, JWT signing and checking, and the client
//! signature check of the ESIA profile.

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::rngs::OsRng;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::rsa_key::RsaKey;

const SHIPPED_KEY: &str = include_str!("../demo/idp-signing-key.pem");

/// JWS algorithm of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Alg {
    #[default]
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "ES256")]
    Es256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    pub fn parse(text: &str) -> Option<Alg> {
        match text.to_ascii_uppercase().as_str() {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }
}

#[derive(Clone)]
enum Material {
    Rsa(RsaKey),
    Ec(p256::ecdsa::SigningKey),
}

#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    material: Material,
}

impl SigningKey {
    pub fn generate(alg: Alg) -> anyhow::Result<SigningKey> {
        let material = match alg {
            Alg::Rs256 => Material::Rsa(RsaKey::new(RsaPrivateKey::new(&mut OsRng, 2048)?)?),
            Alg::Es256 => Material::Ec(p256::ecdsa::SigningKey::random(&mut OsRng)),
        };
        Ok(SigningKey {
            kid: format!("mock-{}", uuid::Uuid::new_v4().simple()),
            material,
        })
    }

    /// The key shipped in `demo/`, so that a new mock starts instantly.
    pub fn shipped() -> anyhow::Result<SigningKey> {
        Ok(SigningKey {
            kid: "mock-initial".into(),
            material: Material::Rsa(RsaKey::new(RsaPrivateKey::from_pkcs8_pem(SHIPPED_KEY)?)?),
        })
    }

    pub fn alg(&self) -> Alg {
        match self.material {
            Material::Rsa(_) => Alg::Rs256,
            Material::Ec(_) => Alg::Es256,
        }
    }

    pub fn jwk(&self) -> Value {
        match &self.material {
            Material::Rsa(key) => {
                let public = key.public();
                json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                    "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                    "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
                })
            }
            Material::Ec(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                json!({
                    "kty": "EC", "use": "sig", "alg": "ES256", "kid": self.kid, "crv": "P-256",
                    "x": point.x().map(|x| URL_SAFE_NO_PAD.encode(x)).unwrap_or_default(),
                    "y": point.y().map(|y| URL_SAFE_NO_PAD.encode(y)).unwrap_or_default(),
                })
            }
        }
    }

    fn sign_bytes(&self, message: &[u8]) -> Vec<u8> {
        match &self.material {
            Material::Rsa(key) => key.sign(message),
            Material::Ec(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
        }
    }

    /// A compact JWS with `typ: JWT`, this key's `kid` and algorithm.
    pub fn sign_jwt(&self, claims: &Value) -> String {
        let header = json!({"alg": self.alg().as_str(), "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign_bytes(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The same without `kid` in the header (the `kidless_token` fault).
    pub fn sign_jwt_kidless(&self, claims: &Value) -> String {
        self.sign_with_header(&json!({"alg": self.alg().as_str(), "typ": "JWT"}), claims)
    }

    /// [`SigningKey::sign_jwt`] with `extra` header parameters added or
    /// replaced (another `typ`, a `crit`).
    pub fn sign_jwt_with(&self, claims: &Value, extra: &Map<String, Value>) -> String {
        let mut header = json!({"alg": self.alg().as_str(), "typ": "JWT", "kid": self.kid});
        if let Some(fields) = header.as_object_mut() {
            fields.extend(extra.clone());
        }
        self.sign_with_header(&header, claims)
    }

    fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign_bytes(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Rsa(key) => key.verify(message, signature),
            Material::Ec(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| key.verifying_key().verify(message, &s).is_ok()),
        }
    }
}

/// An unsigned token (`alg: none`), for the fault of that name.
pub fn unsigned_jwt(claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT"});
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Flips a bit of the signature: a token whose signature no longer verifies.
pub fn tamper(token: &str) -> String {
    let Some((input, signature)) = token.rsplit_once('.') else {
        return token.to_string();
    };
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    if let Some(first) = bytes.first_mut() {
        *first ^= 0x01;
    }
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The current key plus keys kept for a grace period after rotation.
#[derive(Clone)]
pub struct KeyRing {
    pub active: SigningKey,
    pub retired: Vec<SigningKey>,
}

impl KeyRing {
    pub fn new(alg: Alg) -> anyhow::Result<KeyRing> {
        let active = match alg {
            Alg::Rs256 => SigningKey::shipped()?,
            Alg::Es256 => SigningKey::generate(Alg::Es256)?,
        };
        Ok(KeyRing {
            active,
            retired: Vec::new(),
        })
    }

    pub fn rotate(&mut self, alg: Alg, keep_old: bool) -> anyhow::Result<String> {
        let fresh = SigningKey::generate(alg)?;
        let old = std::mem::replace(&mut self.active, fresh);
        if keep_old {
            self.retired.push(old);
        } else {
            self.retired.clear();
        }
        Ok(self.active.kid.clone())
    }

    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = std::iter::once(&self.active)
            .chain(self.retired.iter())
            .map(SigningKey::jwk)
            .collect();
        json!({ "keys": keys })
    }

    pub fn algs(&self) -> Vec<&'static str> {
        let mut algs: Vec<&'static str> = std::iter::once(&self.active)
            .chain(self.retired.iter())
            .map(|k| k.alg().as_str())
            .collect();
        algs.sort_unstable();
        algs.dedup();
        algs
    }

    /// Checks a token signed by one of our keys; returns its claims.
    pub fn verify(&self, token: &str) -> Option<Map<String, Value>> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        let kid = header.get("kid")?.as_str()?;
        let key = std::iter::once(&self.active)
            .chain(self.retired.iter())
            .find(|k| k.kid == kid)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let input = format!("{}.{}", token.split('.').next()?, payload);
        if !key.verify(input.as_bytes(), &signature) {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }
}

/// Verifies an ESIA `client_secret`: RSA PKCS#1 v1.5 SHA-256 over `message`,
/// base64url (padded or not) or standard base64.
pub fn verify_client_secret(public_key_pem: &str, message: &str, secret: &str) -> bool {
    let Ok(key) = RsaPublicKey::from_public_key_pem(public_key_pem) else {
        return false;
    };
    let decoded = URL_SAFE_NO_PAD
        .decode(secret.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(secret))
        .or_else(|_| STANDARD.decode(secret));
    let Ok(bytes) = decoded else {
        return false;
    };
    crate::rsa_key::verify(&key, message.as_bytes(), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_tampered_and_rotation_changes_the_ring() {
        let mut ring = KeyRing::new(Alg::Rs256).expect("ring");
        let token = ring.active.sign_jwt(&json!({"sub": "1"}));
        assert_eq!(
            ring.verify(&token).and_then(|c| c.get("sub").cloned()),
            Some(json!("1"))
        );
        assert!(ring.verify(&tamper(&token)).is_none());
        let old = ring.active.kid.clone();
        ring.rotate(Alg::Es256, true).expect("rotate");
        assert!(ring.verify(&token).is_some(), "kept for the grace period");
        let ec = ring.active.sign_jwt(&json!({"sub": "2"}));
        assert!(ring.verify(&ec).is_some());
        ring.rotate(Alg::Rs256, false).expect("rotate");
        assert!(ring.verify(&token).is_none(), "dropped");
        assert!(!ring.jwks().to_string().contains(&old));
    }
}
