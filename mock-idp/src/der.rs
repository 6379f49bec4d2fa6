//! A tiny DER writer: just what the self-signed X.509 v3 certificates of the
//! ESIA profile need (SEQUENCE, SET, INTEGER, OID, NULL, BIT/OCTET STRING,
//! UTF8String, UTCTime, explicit context tags), plus PEM armour.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};

/// One TLV with a definite length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}

pub fn set(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &items.concat())
}

/// `[n] EXPLICIT`
pub fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xA0 | n, inner)
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn uint(be: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = be.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend(trimmed);
    tlv(0x02, &content)
}

/// OBJECT IDENTIFIER from dotted text (constants of this crate only).
pub fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').filter_map(|a| a.parse().ok()).collect();
    let mut content = Vec::new();
    if arcs.len() >= 2 {
        base128(&mut content, arcs[0] * 40 + arcs[1]);
    }
    for arc in arcs.iter().skip(2) {
        base128(&mut content, *arc);
    }
    tlv(0x06, &content)
}

fn base128(out: &mut Vec<u8>, mut value: u64) {
    let mut groups = vec![(value & 0x7f) as u8];
    value >>= 7;
    while value > 0 {
        groups.push(0x80 | (value & 0x7f) as u8);
        value >>= 7;
    }
    groups.reverse();
    out.extend(groups);
}

pub fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

pub fn boolean(value: bool) -> Vec<u8> {
    vec![0x01, 0x01, if value { 0xff } else { 0x00 }]
}

/// BIT STRING with no unused bits.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = vec![0u8];
    content.extend_from_slice(bytes);
    tlv(0x03, &content)
}

pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

pub fn utf8(text: &str) -> Vec<u8> {
    tlv(0x0C, text.as_bytes())
}

/// UTCTime `YYMMDDHHMMSSZ` (valid for years 1950–2049).
pub fn utc_time(at: DateTime<Utc>) -> Vec<u8> {
    tlv(0x17, at.format("%y%m%d%H%M%SZ").to_string().as_bytes())
}

/// `-----BEGIN {label}-----`, base64 in 64-character lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_known_der() {
        assert_eq!(
            oid("1.2.840.113549.1.1.11"),
            hex::decode("06092a864886f70d01010b").unwrap()
        );
        assert_eq!(
            oid("1.2.643.7.1.1.1.1"),
            hex::decode("06082a85030701010101").unwrap()
        );
        assert_eq!(uint(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(uint(&[0, 0, 5]), vec![0x02, 0x01, 0x05]);
        assert_eq!(uint(&[]), vec![0x02, 0x01, 0x00]);
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
