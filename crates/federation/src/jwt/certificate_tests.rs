//! ESIA certificates as key source, with real X.509 certificates from the
//! mock IdP's key ring: lenient PEM, a `kid` that names no certificate,
//! expired and not-yet-valid certificates, and the expiry gauges.

use chrono::{Duration as Days, Utc};
use mock_idp::esia_keys::EsiaKey;
use mock_idp::EsiaAlg;
use serde_json::json;

use super::*;
use crate::certificates::report_expiry;

fn esia_key(issued_days_ago: i64) -> EsiaKey {
    EsiaKey::generate(
        EsiaAlg::Gost3410_2012_256,
        Utc::now() - Days::days(issued_days_ago),
    )
    .expect("GOST key")
}

fn esia_claims() -> Value {
    let now = Utc::now().timestamp();
    json!({"iss":"https://idp","aud":"me","sub":1000299353u64,"iat":now,"exp":now+600,
        "urn:esia:sbj":{"urn:esia:sbj:oid":1000299353u64}})
}

fn esia_expectations() -> Expectations<'static> {
    Expectations {
        issuer: "https://idp",
        client_id: "me",
        trusted_audiences: &[],
        nonce: None,
        now: Utc::now().timestamp(),
        max_age_secs: 600,
        profile: ClaimProfile::Esia,
    }
}

/// A certificate cache over `pem` written to a file of its own.
fn cache_over(pem: &str) -> (KeyCache, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "esia-link-cert-test-{}.pem",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, pem).expect("write PEM");
    let cache = KeyCache::new(
        KeySource::Certificates {
            files: vec![path.clone()],
            inline: None,
        },
        &[JwsAlg::Gost256],
        reqwest::Client::new(),
        1024,
    );
    (cache, path)
}

/// `pem` re-wrapped at `width` columns with CRLF line ends.
fn rewrapped(pem: &str, width: usize) -> String {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let lines: Vec<String> = body
        .as_bytes()
        .chunks(width)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect();
    format!(
        "\r\n  -----BEGIN CERTIFICATE-----\r\n{}\r\n-----END CERTIFICATE-----  \r\n\r\n",
        lines.join("\r\n")
    )
}

#[tokio::test]
async fn a_76_column_crlf_certificate_loads_at_startup_and_verifies() {
    let key = esia_key(0);
    let pem = rewrapped(&key.certificate_pem(), 76);
    assert!(
        pem.lines().any(|line| line.trim_end().len() == 76),
        "76-column lines"
    );
    assert!(
        x509_cert::Certificate::load_pem_chain(pem.as_bytes()).is_err(),
        "the strict parser (the one startup used) refuses this file"
    );
    let (cache, path) = cache_over(&pem);
    assert_eq!(cache.preload(), Ok(1));
    let verified = cache
        .verify(&key.sign_jwt("id", &esia_claims()), &esia_expectations())
        .await;
    let _ = std::fs::remove_file(path);
    assert_eq!(verified.map(|v| v.subject).as_deref(), Ok("1000299353"));
}

#[tokio::test]
async fn a_kid_that_names_no_certificate_is_tried_against_each() {
    let (old, new) = (esia_key(200), esia_key(0));
    let pem = format!("{}{}", old.certificate_pem(), new.certificate_pem());
    let (cache, path) = cache_over(&pem);
    assert_eq!(cache.preload(), Ok(2));
    let kid = json!({"kid": "esia-2025"});
    let kid = kid.as_object().expect("header");
    for key in [&old, &new] {
        let token = key.sign_jwt_with("id", &esia_claims(), kid);
        let verified = cache.verify(&token, &esia_expectations()).await;
        assert!(verified.is_ok(), "{verified:?}");
    }
    // Refused side: a kid and a key that no certificate holds.
    let stranger = esia_key(0).sign_jwt_with("id", &esia_claims(), kid);
    let refused = cache.verify(&stranger, &esia_expectations()).await;
    let _ = std::fs::remove_file(path);
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.code()),
        Err("token.unknown_key")
    );
}

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_have_their_own_codes() {
    // Valid from a day before "issued" to a year after it.
    let expired = esia_key(400);
    let future = esia_key(-10);
    let pem = format!("{}{}", expired.certificate_pem(), future.certificate_pem());
    let (cache, path) = cache_over(&pem);
    assert_eq!(cache.preload(), Ok(2));
    let expect = esia_expectations();
    for (key, code) in [
        (&expired, "token.certificate_expired"),
        (&future, "token.certificate_not_yet_valid"),
    ] {
        let problem = cache
            .verify(&key.sign_jwt("id", &esia_claims()), &expect)
            .await
            .map(|_| ())
            .expect_err(code);
        assert_eq!(problem.code(), code, "{problem}");
        let text = problem.to_string();
        let loaded = cache.loaded();
        let certificate = loaded
            .iter()
            .filter_map(|k| k.certificate.as_ref())
            .find(|c| text.contains(&c.serial))
            .expect("the message names the serial");
        assert!(
            text.contains("CN=mock ESIA token signing GOST3410_2012_256"),
            "{text}"
        );
        for date in [certificate.not_before, certificate.not_after] {
            assert!(
                text.contains(&crate::certificates::utc_text(date)),
                "{text}"
            );
        }
    }
    // A wrong signature is still a wrong signature, dates or not.
    let tampered = mock_idp::keys::tamper(&expired.sign_jwt("id", &esia_claims()));
    let refused = cache.verify(&tampered, &expect).await;
    let _ = std::fs::remove_file(path);
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.code()),
        Err("token.bad_signature")
    );
}

/// ESIA's GOST id_token signature is 64 bytes `s || r`, each big-endian
/// (`esia_proto::gost`): CryptoPro's native order (all 64 bytes reversed)
/// or `r || s` does not verify.
#[tokio::test]
async fn gost_id_token_signatures_are_s_then_r_big_endian() {
    let key = esia_key(0);
    let (cache, path) = cache_over(&key.certificate_pem());
    assert_eq!(cache.preload(), Ok(1));
    let token = key.sign_jwt("id", &esia_claims());
    let accepted = cache.verify(&token, &esia_expectations()).await;
    let (input, signature) = token.rsplit_once('.').expect("three parts");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    assert_eq!(signature.len(), 64);
    let mut cryptopro = signature.clone();
    cryptopro.reverse();
    let r_first = [&signature[32..], &signature[..32]].concat();
    let mut refusals = Vec::new();
    for bytes in [cryptopro, r_first] {
        let reordered = format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes));
        let refused = cache.verify(&reordered, &esia_expectations()).await;
        refusals.push(refused.map(|_| ()).map_err(|e| e.code()));
    }
    let _ = std::fs::remove_file(path);
    assert!(accepted.is_ok(), "{accepted:?}");
    assert_eq!(
        refusals,
        vec![Err("token.bad_signature"), Err("token.bad_signature")]
    );
}

#[test]
fn expiry_gauges_count_down_and_flag_the_warning_period() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let soon = esia_key(355);
    let fresh = esia_key(0);
    let pem = format!("{}{}", soon.certificate_pem(), fresh.certificate_pem());
    let keys = VerifyingKey::from_pem_certificates(&pem, "esia.pem").expect("certificates");
    let now = Utc::now().timestamp();
    metrics::with_local_recorder(&recorder, || report_expiry("esia", &keys, now, 30, true));
    let text = handle.render();
    let value = |name: &str, key: &VerifyingKey| -> f64 {
        let serial = &key.certificate.as_ref().expect("certificate").serial;
        let prefix = format!("{name}{{provider=\"esia\",certificate=\"{serial}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{prefix} in {text}"))
    };
    let days = value("esia_link_certificate_expiry_days", &keys[0]);
    assert!((9.0..=10.0).contains(&days), "{days}");
    assert_eq!(value("esia_link_certificate_expiring", &keys[0]), 1.0);
    let days = value("esia_link_certificate_expiry_days", &keys[1]);
    assert!((364.0..=365.0).contains(&days), "{days}");
    assert_eq!(value("esia_link_certificate_expiring", &keys[1]), 0.0);
}
