//! GOST R 34.10-2012 (256-bit) signatures with the Streebog-256 hash (GOST R 34.11-2012), as
//! used by ESIA for JWTs with `alg: "GOST3410_2012_256"`. Pure Rust (`num-bigint` + `streebog`).
//! Verification is the production path; signing is for the mock IdP and tests only and is
//! **not constant-time**.
//!
//! # Byte-order conventions (all exercised by the tests at the bottom)
//!
//! * **Signature** (64 bytes): `s || r`, each 32 bytes **big-endian** — s first, despite the
//!   standard's abstract `ζ = (r̄ || s̄)` notation. This is the RFC 9215 signatureValue layout;
//!   confirmed in source: OpenSSL gost-engine `unpack_cp_signature` (s = first half), pygost
//!   `gost3410.verify`, gogost `PublicKey.VerifyDigest`. For ESIA JWTs, public clients hand the
//!   base64url-decoded JWT signature unchanged to OpenSSL's gost engine (fr05t1k/esia
//!   `OpenSslSignatureVerifier`, ekapusta/oauth2-esia `OpenSslCliJwtSigner`) and reverse all 64
//!   bytes only for CryptoPro CSP, whose native raw signature is the byte-reverse of this.
//! * **Digest → α**: the 32 bytes *as the `streebog` crate returns them* are read as a
//!   **little-endian** integer α; `e = α mod q` (`e = 1` if 0). Confirmed in source:
//!   gost-engine `hashsum2bn` ("Convert little-endian byte array into bignum"), pygost
//!   `test_x509.py` (`digest()[::-1]` into a big-endian reader), and `tc26_certificate_vector`
//!   below. (The crate's bytes for RFC 6986 M1 equal the RFC's printed hash hex as-is.)
//! * **Public key**: the 64-byte SubjectPublicKeyInfo OCTET STRING content is `X || Y`, each
//!   32 bytes **little-endian** (RFC 9215/4491; pygost `pub_unmarshal`, gogost `NewPublicKey`).
//! * End to end: `tc26_certificate_vector` verifies the TC26 X.509-profile example certificate
//!   (GOST 2012-256, CryptoPro-XchA = A parameters) with exactly these conventions.

use num_bigint::BigUint;
use num_traits::{One, Zero};
use rand::RngCore;
use streebog::{Digest, Streebog256};

/// Errors from key parsing, signing and verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GostError {
    /// Signature is not exactly 64 bytes.
    InvalidSignatureLength(usize),
    /// Encoded public key is not exactly 64 bytes.
    InvalidPublicKeyLength(usize),
    /// Public key coordinates are `≥ p` or the point is not on the curve.
    PointNotOnCurve,
    /// Private key `d` is not in `1..q`.
    InvalidPrivateKey,
    /// Nonce `k` is not in `1..q`, or it produced `r = 0` / `s = 0`.
    InvalidNonce,
    /// `r` or `s` is 0 or not below `q`.
    SignatureOutOfRange,
    /// The signature does not match the message and key.
    BadSignature,
}

impl std::fmt::Display for GostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidSignatureLength(n) => write!(f, "GOST signature is {n} bytes, not 64"),
            Self::InvalidPublicKeyLength(n) => write!(f, "GOST public key is {n} bytes, not 64"),
            Self::PointNotOnCurve => f.write_str("GOST public key is not on the curve"),
            Self::InvalidPrivateKey => f.write_str("GOST private key is out of range"),
            Self::InvalidNonce => f.write_str("GOST signing nonce is unusable"),
            Self::SignatureOutOfRange => f.write_str("GOST signature r or s is out of range"),
            Self::BadSignature => f.write_str("GOST signature verification failed"),
        }
    }
}

impl std::error::Error for GostError {}

/// Parses the hex constants of this module (never caller input).
fn hex(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

type Res<T> = Result<T, GostError>;

/// Jacobian point `(X, Y, Z)` ~ affine `(X/Z², Y/Z³)`; `Z = 0` is the point at infinity.
type Jac = (BigUint, BigUint, BigUint);

fn infinity() -> Jac {
    (BigUint::one(), BigUint::one(), BigUint::zero())
}

/// Curve parameters (p, a, b, q, base point x/y) of `y² = x³ + ax + b (mod p)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Curve {
    p: BigUint,
    a: BigUint,
    b: BigUint,
    q: BigUint,
    x: BigUint,
    y: BigUint,
}

impl Curve {
    /// id-GostR3410-2001-CryptoPro-A-ParamSet (1.2.643.2.2.35.1), the usual ESIA curve
    /// (RFC 4357 §11.4; XchA, 1.2.643.2.2.36.0, has the same parameters).
    pub fn cryptopro_a() -> Curve {
        let p = hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97");
        Curve {
            a: &p - 3u32,
            p,
            b: BigUint::from(0xA6u32),
            q: hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893"),
            x: BigUint::one(),
            y: hex("8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14"),
        }
    }

    /// The test curve of the RFC 7091 §A.1 example (id-GostR3410-2001-TestParamSet).
    pub fn rfc7091_test() -> Curve {
        Curve {
            p: hex("8000000000000000000000000000000000000000000000000000000000000431"),
            a: BigUint::from(7u32),
            b: hex("5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E"),
            q: hex("8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3"),
            x: BigUint::from(2u32),
            y: hex("08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8"),
        }
    }

    fn contains(&self, x: &BigUint, y: &BigUint) -> bool {
        let p = &self.p;
        x < p && y < p && (y * y) % p == (x * x * x + &self.a * x + &self.b) % p
    }

    fn sub(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a + &self.p - b) % &self.p
    }

    fn double(&self, (x, y, z): &Jac) -> Jac {
        let p = &self.p;
        if z.is_zero() || y.is_zero() {
            return infinity();
        }
        let (yy, zz) = ((y * y) % p, (z * z) % p);
        let s = (x * &yy * 4u32) % p;
        let m = (x * x * 3u32 + &self.a * &zz % p * &zz) % p;
        let x3 = self.sub(&(&m * &m % p), &(&s * 2u32 % p));
        let y3 = self.sub(&(&m * self.sub(&s, &x3) % p), &(&yy * &yy * 8u32 % p));
        (x3, y3, (y * z * 2u32) % p)
    }

    fn add(&self, a: &Jac, b: &Jac) -> Jac {
        let p = &self.p;
        if a.2.is_zero() {
            return b.clone();
        }
        if b.2.is_zero() {
            return a.clone();
        }
        let (z1z1, z2z2) = ((&a.2 * &a.2) % p, (&b.2 * &b.2) % p);
        let (u1, u2) = ((&a.0 * &z2z2) % p, (&b.0 * &z1z1) % p);
        let s1 = (&a.1 * &b.2 % p * &z2z2) % p;
        let s2 = (&b.1 * &a.2 % p * &z1z1) % p;
        if u1 == u2 {
            return if s1 == s2 { self.double(a) } else { infinity() };
        }
        let (h, r) = (self.sub(&u2, &u1), self.sub(&s2, &s1));
        let hh = (&h * &h) % p;
        let (hhh, v) = ((&h * &hh) % p, (&u1 * &hh) % p);
        let x3 = self.sub(&self.sub(&(&r * &r % p), &hhh), &(&v * 2u32 % p));
        let y3 = self.sub(&(&r * self.sub(&v, &x3) % p), &(&s1 * &hhh % p));
        (x3, y3, (&a.2 * &b.2 % p * &h) % p)
    }

    /// `k·(x, y)` by left-to-right double-and-add (variable time).
    fn mul(&self, k: &BigUint, x: &BigUint, y: &BigUint) -> Jac {
        let base: Jac = (x.clone(), y.clone(), BigUint::one());
        let mut acc = infinity();
        for i in (0..k.bits()).rev() {
            acc = self.double(&acc);
            if k.bit(i) {
                acc = self.add(&acc, &base);
            }
        }
        acc
    }

    /// Affine coordinates, or `None` for the point at infinity.
    fn affine(&self, (x, y, z): &Jac) -> Option<(BigUint, BigUint)> {
        if z.is_zero() {
            return None;
        }
        let p = &self.p;
        let zi = z.modpow(&(p - 2u32), p); // p is prime
        let zi2 = (&zi * &zi) % p;
        Some(((x * &zi2) % p, (y * &zi2 % p * &zi) % p))
    }

    /// `e = α mod q`, replaced by 1 when zero (GOST R 34.10-2012 §6.1 step 2).
    fn e_from_alpha(&self, alpha: &BigUint) -> BigUint {
        let e = alpha % &self.q;
        if e.is_zero() {
            BigUint::one()
        } else {
            e
        }
    }
}

/// Streebog-256 of `message`, bytes exactly as the `streebog` crate (and OpenSSL's
/// `md_gost12_256`) emit them; for ASCII "0123…012" this is RFC 6986's printed H(M1) as-is.
pub fn streebog256(message: &[u8]) -> [u8; 32] {
    Streebog256::digest(message).into()
}

/// α from a digest: its 32 bytes read as a **little-endian** integer (see module docs).
fn digest_to_alpha(digest: &[u8; 32]) -> BigUint {
    BigUint::from_bytes_le(digest)
}

/// 32-byte big-endian, left-padded encoding of a value `< 2^256`.
fn be32(v: &BigUint) -> [u8; 32] {
    let bytes = v.to_bytes_be();
    let n = bytes.len().min(32);
    let mut out = [0u8; 32];
    out[32 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
    out
}

/// A GOST R 34.10-2012 public key (a point on `curve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    curve: Curve,
    x: BigUint,
    y: BigUint,
}

impl PublicKey {
    /// From affine coordinates; rejects coordinates `≥ p` and points not on the curve. Both
    /// supported curves have cofactor 1, so an on-curve point lies in the order-q group.
    pub fn new(curve: Curve, x: BigUint, y: BigUint) -> Result<PublicKey, GostError> {
        if !curve.contains(&x, &y) {
            return Err(GostError::PointNotOnCurve);
        }
        Ok(PublicKey { curve, x, y })
    }

    /// From the 64-byte X.509 SubjectPublicKeyInfo OCTET STRING content for GOST 2012-256:
    /// bytes 0..32 are x **little-endian**, bytes 32..64 are y **little-endian**.
    pub fn from_le_bytes(curve: Curve, xy: &[u8]) -> Result<PublicKey, GostError> {
        if xy.len() != 64 {
            return Err(GostError::InvalidPublicKeyLength(xy.len()));
        }
        let (x, y) = (
            BigUint::from_bytes_le(&xy[..32]),
            BigUint::from_bytes_le(&xy[32..]),
        );
        PublicKey::new(curve, x, y)
    }

    /// Inverse of [`PublicKey::from_le_bytes`]: x little-endian (32) || y little-endian (32).
    pub fn to_le_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&be32(&self.x));
        out[32..].copy_from_slice(&be32(&self.y));
        out[..32].reverse();
        out[32..].reverse();
        out
    }

    /// Verifies a 64-byte signature `s || r` (each 32 bytes **big-endian**, s first: the
    /// RFC 9215 / gost-engine / ESIA JWT layout) over a Streebog-256 `digest` given exactly as
    /// [`streebog256`] returns it (read **little-endian** as α).
    pub fn verify_digest(&self, digest: &[u8; 32], signature: &[u8]) -> Result<(), GostError> {
        if signature.len() != 64 {
            return Err(GostError::InvalidSignatureLength(signature.len()));
        }
        let s = BigUint::from_bytes_be(&signature[..32]);
        let r = BigUint::from_bytes_be(&signature[32..]);
        self.verify_e(&digest_to_alpha(digest), &r, &s)
    }

    /// Hashes `message` with Streebog-256 and verifies (see [`PublicKey::verify_digest`]).
    /// For a JWT: `message` = ASCII `header.payload`, `signature` = base64url-decoded 3rd part.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), GostError> {
        self.verify_digest(&streebog256(message), signature)
    }

    /// GOST R 34.10-2012 §6.2 on integers: `alpha` is the digest integer α (reduced here).
    pub(crate) fn verify_e(&self, alpha: &BigUint, r: &BigUint, s: &BigUint) -> Res<()> {
        let c = &self.curve;
        let q = &c.q;
        if r.is_zero() || s.is_zero() || r >= q || s >= q {
            return Err(GostError::SignatureOutOfRange);
        }
        let v = c.e_from_alpha(alpha).modpow(&(q - 2u32), q); // q is prime
        let z1 = (s * &v) % q;
        let z2 = (q - (r * &v) % q) % q;
        let point = c.add(&c.mul(&z1, &c.x, &c.y), &c.mul(&z2, &self.x, &self.y));
        match c.affine(&point) {
            Some((x, _)) if &(&x % q) == r => Ok(()),
            _ => Err(GostError::BadSignature),
        }
    }
}

/// A GOST R 34.10-2012 private key — for the mock IdP and tests only (variable-time code).
#[derive(Clone)]
pub struct PrivateKey {
    curve: Curve,
    d: BigUint,
}

impl PrivateKey {
    /// `d` must be in `1..q`.
    pub fn new(curve: Curve, d: BigUint) -> Result<PrivateKey, GostError> {
        if d.is_zero() || d >= curve.q {
            return Err(GostError::InvalidPrivateKey);
        }
        Ok(PrivateKey { curve, d })
    }

    /// `Q = d·P`.
    pub fn public_key(&self) -> PublicKey {
        let c = &self.curve;
        // d ∈ 1..q and P has prime order q, so d·P is never the point at infinity.
        let (x, y) = c.affine(&c.mul(&self.d, &c.x, &c.y)).unwrap_or_default();
        let curve = c.clone();
        PublicKey { curve, x, y }
    }

    /// Signs with a caller-supplied `k` (for test vectors). `digest` is read little-endian as
    /// α; the output is `s || r`, 32 bytes big-endian each (what `verify_digest` expects).
    pub fn sign_digest_with_k(&self, digest: &[u8; 32], k: &BigUint) -> Result<Vec<u8>, GostError> {
        let (r, s) = self.sign_e_with_k(&digest_to_alpha(digest), k)?;
        Ok([be32(&s), be32(&r)].concat())
    }

    /// GOST R 34.10-2012 §6.1 on integers; returns `(r, s)`.
    pub(crate) fn sign_e_with_k(&self, alpha: &BigUint, k: &BigUint) -> Res<(BigUint, BigUint)> {
        let c = &self.curve;
        let q = &c.q;
        if k.is_zero() || k >= q {
            return Err(GostError::InvalidNonce);
        }
        let (x, _) = c
            .affine(&c.mul(k, &c.x, &c.y))
            .ok_or(GostError::InvalidNonce)?;
        let r = x % q;
        let s = (&r * &self.d + k * c.e_from_alpha(alpha)) % q;
        if r.is_zero() || s.is_zero() {
            return Err(GostError::InvalidNonce);
        }
        Ok((r, s))
    }

    /// Hashes with Streebog-256 and signs with a random `k` from `OsRng`; output `s || r`,
    /// 32 bytes big-endian each.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let digest = streebog256(message);
        loop {
            let mut buf = [0u8; 64];
            rand::rngs::OsRng.fill_bytes(&mut buf);
            let k = BigUint::from_bytes_be(&buf) % &self.curve.q;
            if let Ok(sig) = self.sign_digest_with_k(&digest, &k) {
                return sig;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GostError::*;
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let byte = |i| u8::from_str_radix(&s[i..i + 2], 16).unwrap();
        (0..s.len()).step_by(2).map(byte).collect()
    }

    /// RFC 7091 §A.1 (= GOST R 34.10-2012 Appendix A.1): keys, r, s, and bit-flip rejection.
    #[test]
    fn rfc7091_example() {
        let curve = Curve::rfc7091_test();
        assert!(curve.contains(&curve.x, &curve.y));
        let alpha = "20798893674476452017134061561508270130637142515379653289952617252661468872421";
        let alpha = BigUint::parse_bytes(alpha.as_bytes(), 10).unwrap();
        let d = hex("7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28");
        let k = hex("77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3");
        let prv = PrivateKey::new(curve, d).unwrap();
        let pubk = prv.public_key();
        let (r, s) = prv.sign_e_with_k(&alpha, &k).unwrap();
        let want = [
            "2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5", // α = e
            "7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B", // Q.x
            "26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA", // Q.y
            "41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493", // r
            "01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40", // s
        ]
        .map(hex);
        assert_eq!([&alpha, &pubk.x, &pubk.y, &r, &s], want.each_ref());
        assert_eq!(pubk.verify_e(&alpha, &r, &s), Ok(()));

        // Byte level: α as little-endian digest bytes, signature as s || r big-endian.
        let mut digest = be32(&alpha);
        digest.reverse();
        let sig = prv.sign_digest_with_k(&digest, &k).unwrap();
        assert_eq!(sig, [be32(&s), be32(&r)].concat());
        assert_eq!(pubk.verify_digest(&digest, &sig), Ok(()));

        let bad = |a: &BigUint, r: &BigUint, s: &BigUint| pubk.verify_e(a, r, s).is_err();
        for bit in [0u64, 1, 7, 64, 128, 200, 254] {
            let f = BigUint::one() << bit;
            assert!(bad(&alpha, &(&r ^ &f), &s), "r bit {bit}");
            assert!(bad(&alpha, &r, &(&s ^ &f)), "s bit {bit}");
            assert!(bad(&(&alpha ^ &f), &r, &s), "e bit {bit}");
        }
    }

    /// RFC 6986 §10.2.1: M1 (printed there byte-reversed as 0x3231…30, i.e. this ASCII string)
    /// → H256; the crate's output bytes equal the RFC's printed hex in the same order.
    #[test]
    fn streebog_rfc6986_m1() {
        let m1 = b"012345678901234567890123456789012345678901234567890123456789012";
        let rfc = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500";
        assert_eq!(streebog256(m1).to_vec(), unhex(rfc));
    }

    /// GOST 2012-256 example certificate of the TC26 X.509 profile (also in pygost
    /// `test_x509.py`): an independently made signature checks key derivation, public-key
    /// encoding, digest order and signature layout at once.
    #[test]
    fn tc26_certificate_vector() {
        let tbs = unhex(concat!(
            "3082020fa003020102020101300a06082a8503070101030230563129302706092a864886f70d01090116",
            "1a476f737452333431302d32303132406578616d706c652e636f6d3129302706035504031320476f7374",
            "52333431302d3230313220283235362062697429206578616d706c65301e170d31333131303531343032",
            "33375a170d3330313130313134303233375a30563129302706092a864886f70d010901161a476f737452",
            "333431302d32303132406578616d706c652e636f6d3129302706035504031320476f737452333431302d",
            "3230313220283235362062697429206578616d706c653066301f06082a85030701010101301306072a85",
            "030202240006082a850307010102020343000440badfd0c35314abd28faa47470b6c401772bb4ee8077e",
            "8f67e76e43dace66159743e69c1ff74fe2e2f1749859abf677d1c0c60fe28d0f83598e9f9465697358ad",
            "a381c03081bd301d0603551d0e04160414d5f21e3751da3dbc3e5d65336e427e9072544f40300b060355",
            "1d0f0404030201c6300f0603551d13040830060101ff020101307e0603551d01047730758014d5f21e37",
            "51da3dbc3e5d65336e427e9072544f40a15aa45830563129302706092a864886f70d010901161a476f73",
            "7452333431302d32303132406578616d706c652e636f6d3129302706035504031320476f737452333431",
            "302d3230313220283235362062697429206578616d706c65820101",
        ));
        let spk = &tbs[0x110..0x150]; // subjectPublicKey OCTET STRING content
        let sig = unhex(concat!(
            "5e5b9b805b01147a8492c4a162643ac615dc777b9174108f3dc276a41f987af3",
            "e9323a5e88dd87fb7c724383bffe7cecd4b9ffa2ac33beef73a5a1f743404f6b",
        ));
        let pubk = PublicKey::from_le_bytes(Curve::cryptopro_a(), spk).unwrap();
        assert_eq!(pubk.to_le_bytes().as_slice(), spk);
        let d = hex("BFCF1D623E5CDD3032A7C6EABB4A923C46E43D640FFEAAF2C3ED39A8FA399924");
        let prv = PrivateKey::new(Curve::cryptopro_a(), d).unwrap();
        assert_eq!(prv.public_key(), pubk);
        assert_eq!(pubk.verify(&tbs, &sig), Ok(()));
        let r_first = [&sig[32..], &sig[..32]].concat();
        assert_eq!(pubk.verify(&tbs, &r_first), Err(BadSignature));
        let mut be_digest = streebog256(&tbs);
        be_digest.reverse(); // i.e. reading the crate's digest big-endian: must fail
        assert_eq!(pubk.verify_digest(&be_digest, &sig), Err(BadSignature));
    }

    #[test]
    fn cryptopro_a_round_trip_and_rejections() {
        let curve = Curve::cryptopro_a();
        assert!(curve.contains(&curve.x, &curve.y));
        let mut d = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut d);
        let d = BigUint::from_bytes_be(&d) % &curve.q + 1u32;
        let prv = PrivateKey::new(curve.clone(), d).unwrap();
        let pubk = prv.public_key();
        let msg = b"eyJhbGciOiJHT1NUMzQxMF8yMDEyXzI1NiJ9.eyJzdWIiOjF9";
        let sig = prv.sign(msg);
        let v = |m: &[u8], s: &[u8]| pubk.verify(m, s);
        assert_eq!(v(msg, &sig), Ok(()));
        let other = b"eyJhbGciOiJHT1NUMzQxMF8yMDEyXzI1NiJ9.eyJzdWIiOjJ9";
        assert_eq!(v(other, &sig), Err(BadSignature));
        assert_eq!(v(msg, &sig[..63]), Err(InvalidSignatureLength(63)));
        assert_eq!(v(msg, &[]), Err(InvalidSignatureLength(0)));
        assert_eq!(v(msg, &[0xff; 65]), Err(InvalidSignatureLength(65)));

        let (q, zero) = (be32(&curve.q), [0u8; 32]);
        let (s0, r0): (&[u8], &[u8]) = (&sig[..32], &sig[32..]);
        for (s, r) in [(&zero[..], r0), (s0, &zero[..]), (&q[..], r0), (s0, &q[..])] {
            assert_eq!(v(msg, &[s, r].concat()), Err(SignatureOutOfRange));
        }
        assert_eq!(v(msg, &[0xff; 64]), Err(SignatureOutOfRange));

        let off_curve = PublicKey::new(curve.clone(), pubk.x.clone(), &pubk.y + 1u32);
        assert_eq!(off_curve, Err(PointNotOnCurve));
        let pk = |b: &[u8]| PublicKey::from_le_bytes(Curve::cryptopro_a(), b);
        let mut enc = pubk.to_le_bytes();
        enc[40] ^= 1;
        assert_eq!(pk(&enc), Err(PointNotOnCurve));
        assert_eq!(pk(&enc[..10]), Err(InvalidPublicKeyLength(10)));
        assert_eq!(pk(&[0xff; 64]), Err(PointNotOnCurve));
        let sk = |d: BigUint| PrivateKey::new(Curve::cryptopro_a(), d).err();
        assert_eq!(sk(BigUint::zero()), Some(InvalidPrivateKey));
        assert_eq!(sk(curve.q.clone()), Some(InvalidPrivateKey));
        let zero_k = prv.sign_digest_with_k(&[0; 32], &BigUint::zero());
        assert_eq!(zero_k, Err(InvalidNonce));
    }
}
