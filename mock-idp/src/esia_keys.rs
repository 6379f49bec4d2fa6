//! The ESIA profile's signing keys. ESIA publishes no JWKS: a relying party
//! is handed ESIA's signing certificate out of band. So each key here comes
//! with a self-signed X.509 v3 certificate, tokens carry no `kid`, and the
//! header is ESIA's `{"ver":1,"typ":"JWT","sbt":...,"alg":...}` with `alg`
//! `RS256` or `GOST3410_2012_256`. Also the client signature (`client_secret`)
//! check of both key kinds.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use esia_proto::gost::{Curve, PrivateKey, PublicKey};
use num_bigint::BigUint;
use rand::rngs::OsRng;
use rand::RngCore;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::der;
use crate::rsa_key::RsaKey;

const SHIPPED_RSA_KEY: &str = include_str!("../demo/idp-signing-key.pem");
const DEMO_GOST_CLIENT_KEY: &str = include_str!("../demo/client-gost-key.hex");

const OID_SHA256_RSA: &str = "1.2.840.113549.1.1.11";
/// id-tc26-gost3410-12-256
const OID_GOST_2012_256: &str = "1.2.643.7.1.1.1.1";
/// id-GostR3410-2001-CryptoPro-A-ParamSet
const OID_CRYPTOPRO_A: &str = "1.2.643.2.2.35.1";
/// id-tc26-gost3411-12-256 (Streebog-256)
const OID_STREEBOG_256: &str = "1.2.643.7.1.1.2.2";
/// id-tc26-signwithdigest-gost3410-12-256
const OID_GOST_SIGN_256: &str = "1.2.643.7.1.1.3.2";

/// The `alg` of ESIA's tokens, chosen per system on ESIA's technology portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum EsiaAlg {
    #[default]
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "GOST3410_2012_256")]
    Gost3410_2012_256,
}

impl EsiaAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            EsiaAlg::Rs256 => "RS256",
            EsiaAlg::Gost3410_2012_256 => "GOST3410_2012_256",
        }
    }

    /// `RS256`, `GOST3410_2012_256` (also `GOST`), any case.
    pub fn parse(text: &str) -> Option<EsiaAlg> {
        match text.to_ascii_uppercase().as_str() {
            "RS256" => Some(EsiaAlg::Rs256),
            "GOST3410_2012_256" | "GOST" => Some(EsiaAlg::Gost3410_2012_256),
            _ => None,
        }
    }
}

#[derive(Clone)]
enum Material {
    Rsa(RsaKey),
    Gost(Box<PrivateKey>),
}

/// A signing key and its self-signed certificate (DER).
#[derive(Clone)]
pub struct EsiaKey {
    material: Material,
    certificate: Vec<u8>,
}

/// A random GOST private key on the CryptoPro-A curve.
fn random_gost_key() -> PrivateKey {
    loop {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        if let Ok(key) = PrivateKey::new(Curve::cryptopro_a(), BigUint::from_bytes_be(&bytes)) {
            return key;
        }
    }
}

impl EsiaKey {
    pub fn generate(alg: EsiaAlg, now: DateTime<Utc>) -> anyhow::Result<EsiaKey> {
        let material = match alg {
            EsiaAlg::Rs256 => Material::Rsa(RsaKey::new(RsaPrivateKey::new(&mut OsRng, 2048)?)?),
            EsiaAlg::Gost3410_2012_256 => Material::Gost(Box::new(random_gost_key())),
        };
        EsiaKey::with_certificate(material, now)
    }

    /// The first key of a new mock: the shipped RSA key (instant start), or a
    /// fresh GOST key (cheap to make).
    pub fn initial(alg: EsiaAlg, now: DateTime<Utc>) -> anyhow::Result<EsiaKey> {
        match alg {
            EsiaAlg::Rs256 => EsiaKey::with_certificate(
                Material::Rsa(RsaKey::new(RsaPrivateKey::from_pkcs8_pem(
                    SHIPPED_RSA_KEY,
                )?)?),
                now,
            ),
            EsiaAlg::Gost3410_2012_256 => EsiaKey::generate(alg, now),
        }
    }

    fn with_certificate(material: Material, now: DateTime<Utc>) -> anyhow::Result<EsiaKey> {
        let mut key = EsiaKey {
            material,
            certificate: Vec::new(),
        };
        key.certificate = key.self_signed_certificate(now)?;
        Ok(key)
    }

    pub fn alg(&self) -> EsiaAlg {
        match self.material {
            Material::Rsa(_) => EsiaAlg::Rs256,
            Material::Gost(_) => EsiaAlg::Gost3410_2012_256,
        }
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }

    pub fn certificate_pem(&self) -> String {
        der::pem("CERTIFICATE", &self.certificate)
    }

    /// RSA: PKCS#1 v1.5 SHA-256. GOST: Streebog-256, `s || r` big-endian
    /// (the JWT and RFC 9215 layout; see `esia_proto::gost`).
    fn sign_bytes(&self, message: &[u8]) -> Vec<u8> {
        match &self.material {
            Material::Rsa(key) => key.sign(message),
            Material::Gost(key) => key.sign(message),
        }
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Rsa(key) => key.verify(message, signature),
            Material::Gost(key) => key.public_key().verify(message, signature).is_ok(),
        }
    }

    /// An ESIA JWT: header `{"ver":1,"typ":"JWT","sbt":<sbt>,"alg":<alg>}`,
    /// no `kid`; `sbt` is `id` or `access`.
    pub fn sign_jwt(&self, sbt: &str, claims: &Value) -> String {
        self.sign_with_header(&esia_header(sbt, self.alg().as_str()), claims)
    }

    /// The same with `extra` header parameters added or replaced (a `kid`,
    /// a `crit`, another `typ` or `sbt`): what a provider that bends the
    /// profile sends.
    pub fn sign_jwt_with(&self, sbt: &str, claims: &Value, extra: &Map<String, Value>) -> String {
        let mut header: Map<String, Value> =
            serde_json::from_str(&esia_header(sbt, self.alg().as_str())).unwrap_or_default();
        header.extend(extra.clone());
        self.sign_with_header(&Value::Object(header).to_string(), claims)
    }

    fn sign_with_header(&self, header: &str, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign_bytes(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn self_signed_certificate(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<u8>> {
        let (spki, signature_algorithm) = match &self.material {
            Material::Rsa(key) => (
                key.public().to_public_key_der()?.as_bytes().to_vec(),
                der::seq(&[der::oid(OID_SHA256_RSA), der::null()]),
            ),
            Material::Gost(key) => (
                der::seq(&[
                    der::seq(&[
                        der::oid(OID_GOST_2012_256),
                        der::seq(&[der::oid(OID_CRYPTOPRO_A), der::oid(OID_STREEBOG_256)]),
                    ]),
                    der::bit_string(&der::octet_string(&key.public_key().to_le_bytes())),
                ]),
                // RFC 9215: the parameters are absent.
                der::seq(&[der::oid(OID_GOST_SIGN_256)]),
            ),
        };
        let name = der::seq(&[
            der::set(&[der::seq(&[
                der::oid("2.5.4.10"),
                der::utf8("mock-idp (TEST, not ESIA)"),
            ])]),
            der::set(&[der::seq(&[
                der::oid("2.5.4.3"),
                der::utf8(&format!("mock ESIA token signing {}", self.alg().as_str())),
            ])]),
        ]);
        let mut serial = [0u8; 16];
        OsRng.fill_bytes(&mut serial);
        serial[0] = (serial[0] & 0x7f) | 0x01;
        let extensions = der::explicit(
            3,
            &der::seq(&[
                // basicConstraints, critical: not a CA.
                der::seq(&[
                    der::oid("2.5.29.19"),
                    der::boolean(true),
                    der::octet_string(&der::seq(&[])),
                ]),
                // keyUsage, critical: digitalSignature.
                der::seq(&[
                    der::oid("2.5.29.15"),
                    der::boolean(true),
                    der::octet_string(&[0x03, 0x02, 0x07, 0x80]),
                ]),
            ]),
        );
        let tbs = der::seq(&[
            der::explicit(0, &der::uint(&[2])),
            der::uint(&serial),
            signature_algorithm.clone(),
            name.clone(),
            der::seq(&[
                der::utc_time(now - Duration::days(1)),
                der::utc_time(now + Duration::days(365)),
            ]),
            name,
            spki,
            extensions,
        ]);
        // GOST: RFC 9215 §3 signatureValue is s || r, 32 bytes big-endian
        // each, exactly what `sign_bytes` makes (no byte reversal here).
        let signature = self.sign_bytes(&tbs);
        Ok(der::seq(&[
            tbs,
            signature_algorithm,
            der::bit_string(&signature),
        ]))
    }
}

fn esia_header(sbt: &str, alg: &str) -> String {
    format!(r#"{{"ver":1,"typ":"JWT","sbt":"{sbt}","alg":"{alg}"}}"#)
}

/// An unsigned ESIA-shaped token (`alg: none`), for the fault of that name.
pub fn unsigned_esia_jwt(sbt: &str, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(esia_header(sbt, "none")),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// The current ESIA key plus keys kept for a grace period after rotation.
#[derive(Clone)]
pub struct EsiaKeyRing {
    pub active: EsiaKey,
    pub retired: Vec<EsiaKey>,
}

impl EsiaKeyRing {
    pub fn new(alg: EsiaAlg, now: DateTime<Utc>) -> anyhow::Result<EsiaKeyRing> {
        Ok(EsiaKeyRing {
            active: EsiaKey::initial(alg, now)?,
            retired: Vec::new(),
        })
    }

    pub fn rotate(
        &mut self,
        alg: EsiaAlg,
        keep_old: bool,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let fresh = EsiaKey::generate(alg, now)?;
        let old = std::mem::replace(&mut self.active, fresh);
        if keep_old {
            self.retired.insert(0, old);
        } else {
            self.retired.clear();
        }
        Ok(())
    }

    fn keys(&self) -> impl Iterator<Item = &EsiaKey> {
        std::iter::once(&self.active).chain(self.retired.iter())
    }

    /// Every current certificate, active first, concatenated PEM.
    pub fn certificates_pem(&self) -> String {
        self.keys().map(EsiaKey::certificate_pem).collect()
    }

    /// Checks a token signed by one of our keys (any key of the header's
    /// `alg`: there is no `kid`); returns its claims.
    pub fn verify(&self, token: &str) -> Option<Map<String, Value>> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        let parsed: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        let alg = EsiaAlg::parse(parsed.get("alg")?.as_str()?)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let input = format!("{header}.{payload}");
        self.keys()
            .filter(|k| k.alg() == alg)
            .any(|k| k.verify(input.as_bytes(), &signature))
            .then_some(())?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }
}

/// base64url, padded or not.
fn base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

/// Verifies a GOST `client_secret` as real ESIA wants it: base64url of the
/// 64-byte raw signature `s || r` big-endian over the Streebog-256 hash of
/// `message` — what OpenSSL's GOST engine emits, and CryptoPro's `csptest`
/// output reversed byte by byte (public clients: ilimurzin/esia
/// `OpenSSLSigner` sends OpenSSL's signature as is, `CliCryptoProSigner`
/// applies `strrev` to csptest's). Anything else — csptest's order not
/// reversed, a CMS/PKCS#7 envelope — is refused.
pub fn verify_gost_client_secret(public_key: &[u8], message: &str, secret: &str) -> bool {
    let Some(signature) = base64url(secret) else {
        return false;
    };
    if signature.len() != 64 {
        return false;
    }
    PublicKey::from_le_bytes(Curve::cryptopro_a(), public_key)
        .is_ok_and(|key| key.verify(message.as_bytes(), &signature).is_ok())
}

/// What a signer hands to ESIA: base64url (no padding) of the `s || r`
/// big-endian signature over Streebog-256 of `message`.
pub fn gost_client_secret(key: &PrivateKey, message: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.sign(message.as_bytes()))
}

/// The published demo GOST client key (`demo/client-gost-key.hex`).
pub fn demo_gost_client_private_key() -> PrivateKey {
    let hex_text: String = DEMO_GOST_CLIENT_KEY
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let d = BigUint::parse_bytes(hex_text.as_bytes(), 16).unwrap_or_default();
    // The shipped file holds a valid scalar (a unit test checks it).
    PrivateKey::new(Curve::cryptopro_a(), d).unwrap_or_else(|_| random_gost_key())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn esia_tokens_verify_by_alg_until_tampered_or_rotated_away() {
        let now = Utc::now();
        let mut ring = EsiaKeyRing::new(EsiaAlg::Rs256, now).expect("ring");
        let token = ring.active.sign_jwt("id", &json!({"sub": 1}));
        assert!(ring.verify(&token).is_some());
        assert!(ring.verify(&crate::keys::tamper(&token)).is_none());
        ring.rotate(EsiaAlg::Gost3410_2012_256, true, now)
            .expect("rotate");
        let gost = ring.active.sign_jwt("id", &json!({"sub": 2}));
        assert!(ring.verify(&gost).is_some());
        assert!(ring.verify(&token).is_some(), "kept for the grace period");
        assert!(ring.verify(&crate::keys::tamper(&gost)).is_none());
        assert_eq!(
            ring.certificates_pem().matches("BEGIN CERTIFICATE").count(),
            2
        );
        ring.rotate(EsiaAlg::Gost3410_2012_256, false, now)
            .expect("rotate");
        assert!(ring.verify(&gost).is_none(), "dropped");
    }

    /// (header length, content length) of the TLV at the start of `bytes`.
    fn tlv_lengths(bytes: &[u8]) -> (usize, usize) {
        if bytes[1] & 0x80 == 0 {
            return (2, bytes[1] as usize);
        }
        let n = (bytes[1] & 0x7f) as usize;
        let len = bytes[2..2 + n].iter().fold(0, |a, b| a * 256 + *b as usize);
        (2 + n, len)
    }

    #[test]
    fn the_gost_certificate_signature_verifies_over_its_tbs() {
        let key = EsiaKey::generate(EsiaAlg::Gost3410_2012_256, Utc::now()).expect("key");
        let cert = key.certificate_der();
        // Certificate = SEQUENCE { tbs, algorithm, BIT STRING(0x00 || 64 bytes) }.
        let (outer_header, _) = tlv_lengths(cert);
        let (tbs_header, tbs_content) = tlv_lengths(&cert[outer_header..]);
        let tbs = &cert[outer_header..outer_header + tbs_header + tbs_content];
        let signature = &cert[cert.len() - 64..];
        let Material::Gost(private) = &key.material else {
            panic!("GOST key");
        };
        assert_eq!(private.public_key().verify(tbs, signature), Ok(()));
    }

    #[test]
    fn the_demo_gost_client_key_parses_and_signs_in_cryptopro_order() {
        let text: String = DEMO_GOST_CLIENT_KEY
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<String>()
            .trim()
            .to_string();
        assert_eq!(text.len(), 64, "64 hex characters");
        let d = BigUint::parse_bytes(text.as_bytes(), 16).expect("hex");
        let key = PrivateKey::new(Curve::cryptopro_a(), d).expect("in range");
        let public = key.public_key().to_le_bytes();
        let secret = gost_client_secret(&key, "message");
        assert!(verify_gost_client_secret(&public, "message", &secret));
        assert!(verify_gost_client_secret(
            &public,
            "message",
            &format!("{secret}==")
        ));
        assert!(!verify_gost_client_secret(&public, "other", &secret));
        // CryptoPro's own byte order, not reversed by the signer, is refused.
        let mut cryptopro_order = key.sign(b"message");
        cryptopro_order.reverse();
        let unreversed = URL_SAFE_NO_PAD.encode(cryptopro_order);
        assert!(!verify_gost_client_secret(&public, "message", &unreversed));
    }
}
