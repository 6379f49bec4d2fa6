use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Deserialize;

use super::*;
use crate::jws::SigningAlg;

const RS_A: &str = include_str!("../../tests/keys/rs256-a.pem");
const RS_B: &str = include_str!("../../tests/keys/rs256-b.pem");
const ES_A: &str = include_str!("../../tests/keys/es256-a.pem");

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, hour, 0, 0).unwrap()
}

fn inline(pem: &str, sign_from: Option<u32>, publish_until: Option<u32>) -> KeyConfig {
    KeyConfig {
        pem_file: None,
        pem: Some(pem.to_string()),
        sign_from: sign_from.map(at),
        publish_until: publish_until.map(at),
    }
}

fn kid(pem: &str) -> String {
    SigningKey::from_pem(pem, "k").unwrap().kid().to_string()
}

fn load(configs: &[KeyConfig]) -> crate::errors::Result<KeySet> {
    KeySet::load(configs, Path::new("."), Duration::hours(1))
}

#[test]
fn rotation_with_overlap_over_a_day() {
    // Old RS256 key A until B takes over at 10:00; A stays published until 12:00.
    let set = load(&[
        inline(RS_A, None, Some(12)),
        inline(RS_B, Some(10), None),
        inline(ES_A, None, None),
    ])
    .unwrap();
    let (a, b, e) = (kid(RS_A), kid(RS_B), kid(ES_A));
    // (hour, RS256 signer, published kids)
    let cases = [
        (8, &a, vec![&a, &b, &e]),
        (10, &b, vec![&a, &b, &e]),
        (11, &b, vec![&a, &b, &e]),
        (12, &b, vec![&b, &e]),
    ];
    for (hour, signer, published) in cases {
        let now = at(hour);
        assert_eq!(
            set.signing_key(SigningAlg::Rs256, now).unwrap().kid(),
            signer.as_str(),
            "{hour}h"
        );
        let jwks = serde_json::to_value(set.jwks(now)).unwrap();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = published.iter().map(|k| k.as_str()).collect();
        assert_eq!(kids, expected, "{hour}h");
    }
    assert_eq!(set.signing_key(SigningAlg::Es256, at(8)).unwrap().kid(), e);
}

#[test]
fn jwks_members_are_public_only() {
    let set = load(&[inline(RS_A, None, None), inline(ES_A, None, None)]).unwrap();
    let jwks = serde_json::to_value(set.jwks(at(8))).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["use"], "sig");
    assert_eq!(keys[1]["kty"], "EC");
    assert_eq!(keys[1]["crv"], "P-256");
    assert_eq!(keys[1]["alg"], "ES256");
    for key in keys {
        assert!(key.get("d").is_none() && key.get("p").is_none(), "{key}");
    }
}

#[test]
fn inconsistent_rotation_is_refused_at_load() {
    let cases: Vec<(Vec<KeyConfig>, &str)> = vec![
        // retiring with no successor
        (vec![inline(RS_A, None, Some(12))], "no newer"),
        // overlap shorter than the token lifetime (1 h)
        (
            vec![inline(RS_A, None, Some(10)), inline(RS_B, Some(10), None)],
            "at least 3600",
        ),
        // two keys signing from the same moment
        (
            vec![inline(RS_A, None, None), inline(RS_B, None, None)],
            "same sign_from",
        ),
        // the same key twice
        (
            vec![inline(RS_A, None, None), inline(RS_A, Some(9), None)],
            "twice",
        ),
        // publish_until before sign_from
        (vec![inline(RS_A, Some(10), Some(9))], "not after"),
        (
            vec![KeyConfig {
                pem_file: None,
                pem: None,
                sign_from: None,
                publish_until: None,
            }],
            "exactly one",
        ),
    ];
    for (configs, expected) in cases {
        let err = load(&configs).unwrap_err().to_string();
        assert!(err.contains(expected), "{expected}: {err}");
    }
}

#[test]
fn keys_from_files_resolve_against_the_config_directory() {
    let config: KeyConfig = toml::from_str("pem_file = \"keys/es256-a.pem\"").unwrap();
    let set = KeySet::load(
        &[config],
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
        Duration::hours(1),
    )
    .unwrap();
    assert!(set.can_sign(SigningAlg::Es256, at(8)));
    assert!(!set.can_sign(SigningAlg::Rs256, at(8)));
    let unknown = toml::from_str::<KeyConfig>("pem_file = \"a\"\nkid = \"x\"");
    assert!(unknown.is_err(), "unknown fields are refused");
}

#[test]
fn the_demo_keys_are_recognised() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["demo/op-rs256.pem", "demo/op-es256.pem"] {
        let key = SigningKey::from_pem_file(&dir.join(file)).unwrap();
        assert!(is_demo_key(key.kid()), "{file}: {}", key.kid());
    }
    let set = load(&[inline(RS_A, None, None)]).unwrap();
    assert!(set.demo_keys().is_empty());
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    exp: i64,
    n: u32,
}

impl RegisteredClaims for Claims {
    fn iss(&self) -> &str {
        &self.iss
    }
    fn exp(&self) -> i64 {
        self.exp
    }
}

#[test]
fn own_jwts_verify_only_with_every_check_passing() {
    let set = load(&[
        inline(RS_A, None, Some(12)),
        inline(RS_B, Some(10), None),
        inline(ES_A, None, None),
    ])
    .unwrap();
    let now = at(9);
    let exp = (now + Duration::minutes(5)).timestamp();
    let claims = serde_json::json!({"iss": "https://id.example", "exp": exp, "n": 7});
    let by_a = set
        .signing_key(SigningAlg::Rs256, now)
        .unwrap()
        .sign_jwt("at+jwt", &claims)
        .unwrap();
    let by_e = set
        .signing_key(SigningAlg::Es256, now)
        .unwrap()
        .sign_jwt("at+jwt", &claims)
        .unwrap();
    let outsider = SigningKey::from_pem(include_str!("../../tests/keys/client-es256.pem"), "x")
        .unwrap()
        .sign_jwt("at+jwt", &claims)
        .unwrap();
    let mut tampered = by_e.clone();
    tampered.insert(by_e.find('.').unwrap() + 2, 'A');
    // (token, typ, issuer, now, check_exp, outcome)
    let cases: Vec<(&str, &str, &str, DateTime<Utc>, bool, Result<u32, &str>)> = vec![
        (&by_a, "at+jwt", "https://id.example", now, true, Ok(7)),
        (&by_e, "at+jwt", "https://id.example", now, true, Ok(7)),
        (
            &by_a,
            "logout+jwt",
            "https://id.example",
            now,
            true,
            Err("wrong token type"),
        ),
        (
            &by_a,
            "at+jwt",
            "https://other.example",
            now,
            true,
            Err("wrong issuer"),
        ),
        (
            &by_a,
            "at+jwt",
            "https://id.example",
            now + Duration::minutes(5),
            true,
            Err("token expired"),
        ),
        (
            &by_a,
            "at+jwt",
            "https://id.example",
            now + Duration::minutes(5),
            false,
            Ok(7),
        ),
        // key A is no longer published at 12:00
        (
            &by_a,
            "at+jwt",
            "https://id.example",
            at(12),
            false,
            Err("unknown or retired key"),
        ),
        (
            &outsider,
            "at+jwt",
            "https://id.example",
            now,
            true,
            Err("unknown or retired key"),
        ),
        (
            &tampered,
            "at+jwt",
            "https://id.example",
            now,
            true,
            Err("bad signature"),
        ),
    ];
    for (i, (token, typ, iss, when, check_exp, outcome)) in cases.into_iter().enumerate() {
        let got = set
            .verify::<Claims>(token, typ, iss, when, check_exp)
            .map(|c| c.n);
        let got = got.map_err(|e| e.to_string());
        assert_eq!(got, outcome.map_err(str::to_string), "case {i}");
    }
}

#[test]
fn an_inline_key_never_prints() {
    let config = KeyConfig {
        pem_file: None,
        pem: Some("-----BEGIN PRIVATE KEY-----\nSECRETMATERIAL\n-----END PRIVATE KEY-----".into()),
        sign_from: None,
        publish_until: None,
    };
    let shown = format!("{config:?}");
    assert!(!shown.contains("SECRETMATERIAL"), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
}
