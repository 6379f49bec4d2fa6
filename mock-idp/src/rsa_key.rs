//! The mock's RSA signing keys. The `rsa` crate makes and reads them (key
//! generation, PEM, the public parts for a JWK or certificate); ring signs
//! and checks with them, several times faster. `esia-link bench login`
//! runs this mock in the load generator's process, and with the `rsa`
//! crate's arithmetic its signatures took most of the machine's two cores
//! away from the service being measured.

use std::sync::Arc;

use ring::rand::SystemRandom;
use ring::signature::{
    RsaKeyPair, RsaPublicKeyComponents, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_SHA256,
};
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

/// An RSA private key, held both ways; cheap to clone (the token endpoint
/// clones the active key for every token).
#[derive(Clone)]
pub struct RsaKey {
    private: Arc<RsaPrivateKey>,
    signer: Arc<RsaKeyPair>,
}

impl RsaKey {
    pub fn new(private: RsaPrivateKey) -> anyhow::Result<RsaKey> {
        let der = private.to_pkcs8_der()?;
        let signer = RsaKeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| anyhow::anyhow!("ring refuses the RSA key: {e}"))?;
        Ok(RsaKey {
            private: Arc::new(private),
            signer: Arc::new(signer),
        })
    }

    pub fn public(&self) -> RsaPublicKey {
        RsaPublicKey::from(&*self.private)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256. ring fails only for a buffer of
    /// the wrong length (not the case) or a broken random source; then the
    /// signature is empty, and the relying party refuses the token as it
    /// would any badly signed one.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; self.signer.public().modulus_len()];
        match self.signer.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message,
            &mut signature,
        ) {
            Ok(()) => signature,
            Err(_) => {
                tracing::error!("the mock could not sign with its RSA key");
                Vec::new()
            }
        }
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, self.signer.public().as_ref())
            .verify(message, signature)
            .is_ok()
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256 under a public key read elsewhere (a
/// client's registered key); keys shorter than 2048 bits are refused.
pub fn verify(public: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
    RsaPublicKeyComponents {
        n: public.n().to_bytes_be(),
        e: public.e().to_bytes_be(),
    }
    .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
    .is_ok()
}

#[cfg(test)]
mod tests {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::Verifier;
    use sha2::Sha256;

    use super::*;

    const SHIPPED: &str = include_str!("../demo/idp-signing-key.pem");

    #[test]
    fn ring_signatures_check_out_with_the_rsa_crate_and_back() {
        let key = RsaKey::new(RsaPrivateKey::from_pkcs8_pem(SHIPPED).unwrap()).unwrap();
        let signature = key.sign(b"header.payload");
        let rsa_crate = VerifyingKey::<Sha256>::new(key.public());
        let parsed = Signature::try_from(signature.as_slice()).unwrap();
        assert!(rsa_crate.verify(b"header.payload", &parsed).is_ok());
        assert!(rsa_crate.verify(b"header.payloaD", &parsed).is_err());
        assert!(key.verify(b"header.payload", &signature));
        assert!(!key.verify(b"header.payloaD", &signature));
        let mut flipped = signature.clone();
        flipped[10] ^= 1;
        assert!(!key.verify(b"header.payload", &flipped));
        assert!(verify(&key.public(), b"header.payload", &signature));
        assert!(!verify(&key.public(), b"header.payload", &flipped));
    }
}
