use std::sync::Mutex as StdMutex;

use proptest::prelude::*;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;

use super::*;

const NOW: i64 = 1_800_000_000;

fn claims(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("object")
}

fn expectations(trusted: &[String]) -> Expectations<'_> {
    Expectations {
        issuer: "https://idp",
        client_id: "me",
        trusted_audiences: trusted,
        nonce: Some("n1"),
        now: NOW,
        max_age_secs: 600,
        profile: ClaimProfile::Oidc,
    }
}

fn good_claims() -> Value {
    json!({"iss":"https://idp","aud":"me","sub":"42","iat":NOW,"exp":NOW+3600,"nonce":"n1"})
}

#[test]
fn claim_checks_table() {
    let expect = expectations(&[]);
    let good = good_claims();
    assert_eq!(
        check_claims(&claims(good.clone()), &expect).as_deref(),
        Ok("42")
    );

    let mut cases: Vec<(Value, TokenProblem, &str)> = Vec::new();
    let mut with = |key: &str, value: Value, problem: TokenProblem, why: &'static str| {
        let mut c = good.clone();
        c[key] = value;
        cases.push((c, problem, why));
    };
    use TokenProblem as P;
    let malformed = || P::Malformed(String::new());
    with(
        "iss",
        json!("https://idp/"),
        P::WrongIssuer(String::new()),
        "wrong issuer",
    );
    with(
        "aud",
        json!("someone-else"),
        P::WrongAudience,
        "wrong audience",
    );
    with(
        "aud",
        json!(["a", "b"]),
        P::WrongAudience,
        "audience list without us",
    );
    with(
        "aud",
        json!(["me", 5]),
        P::WrongAudience,
        "a non-string audience",
    );
    with(
        "aud",
        json!(["me", "other"]),
        P::UntrustedAudience,
        "an untrusted extra audience",
    );
    with(
        "azp",
        json!("other"),
        P::WrongAzp,
        "azp names another client",
    );
    with("azp", json!(7), P::WrongAzp, "azp not a string");
    with("exp", json!(NOW - 120), P::Expired, "expired");
    with("exp", json!("soon"), malformed(), "exp not a number");
    with(
        "iat",
        json!(NOW + 600),
        P::IssuedInFuture,
        "issued in the future",
    );
    with("iat", json!(NOW - 661), P::TooOld, "issued 11 minutes ago");
    with(
        "iat",
        json!(i64::MIN),
        P::TooOld,
        "iat at the bottom of the range",
    );
    with("nbf", json!(NOW + 600), P::IssuedInFuture, "not yet valid");
    with("nbf", json!("now"), malformed(), "nbf not a number");
    with("nonce", json!("other"), P::NonceMismatch, "nonce mismatch");
    with("sub", json!(""), malformed(), "empty subject");
    with("sub", json!(-5), malformed(), "negative subject");
    with("sub", json!({"a": 1}), malformed(), "subject object");
    with(
        "sub",
        json!(1000299353u64),
        malformed(),
        "an integer subject under OIDC (OIDC Core §2: a string)",
    );
    with(
        "exp",
        json!(NOW as f64 - 60.5),
        P::Expired,
        "a fractional exp half a second past the leeway",
    );
    with(
        "nbf",
        json!(NOW as f64 + 60.5),
        P::IssuedInFuture,
        "a fractional nbf half a second before the leeway",
    );
    with(
        "iat",
        json!(NOW as f64 + 60.5),
        P::IssuedInFuture,
        "a fractional iat half a second before the leeway",
    );
    with("exp", json!([NOW]), malformed(), "exp in a list");
    for (c, problem, why) in cases {
        let got = check_claims(&claims(c), &expect).expect_err(why);
        assert_eq!(got.code(), problem.code(), "{why}: {got}");
    }

    let ok = |c: Value, trusted: &[String]| check_claims(&claims(c), &expectations(trusted));
    let mut listed = good.clone();
    listed["aud"] = json!(["x", "me"]);
    assert!(ok(listed.clone(), &[]).is_err(), "x is not trusted");
    assert!(ok(listed, &["x".into()]).is_ok(), "x is trusted");
    let mut azp = good.clone();
    azp["azp"] = json!("me");
    assert!(ok(azp, &[]).is_ok(), "azp is us");
    let mut aged = good.clone();
    aged["iat"] = json!(NOW - 600 - LEEWAY_SECS);
    assert!(ok(aged, &[]).is_ok(), "exactly the maximum age plus leeway");
    let mut fractions = good.clone();
    fractions["exp"] = json!(NOW as f64 - 59.5);
    fractions["nbf"] = json!(NOW as f64 + 59.5);
    fractions["iat"] = json!(NOW as f64 + 59.5);
    assert!(
        ok(fractions, &[]).is_ok(),
        "fractional dates just inside the leeway"
    );
    let mut numeric = good;
    numeric["sub"] = json!(1000299353u64);
    let esia = Expectations {
        profile: ClaimProfile::Esia,
        ..expectations(&[])
    };
    assert_eq!(
        check_claims(&claims(numeric), &esia).as_deref(),
        Ok("1000299353"),
        "ESIA's numeric OID becomes its decimal string"
    );
}

/// RFC 8725 §3.10: keys and key URLs named in the token (`jwk`, `jku`,
/// `x5u`, `x5c`) are never used; the `kid` only picks among our own keys.
#[tokio::test]
async fn keys_named_in_the_token_are_never_used() {
    let ours = TestKey::new(Some("k"));
    let stranger = TestKey::new(Some("k"));
    let cache = fixed_cache(&ours);
    let with_key_references = |key: &TestKey| {
        let header = json!({"alg": "EdDSA", "kid": "k", "jwk": stranger.jwk(),
            "jku": "http://127.0.0.1:1/jwks", "x5u": "http://127.0.0.1:1/cert.pem", "x5c": ["AAAA"]});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(fresh_claims().to_string())
        );
        let signature = key.pair.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    };
    let accepted = cache
        .verify(&with_key_references(&ours), &live_expectations())
        .await;
    assert!(accepted.is_ok(), "the references are ignored: {accepted:?}");
    let refused = cache
        .verify(&with_key_references(&stranger), &live_expectations())
        .await;
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.code()),
        Err("token.bad_signature"),
        "the token's own jwk does not verify it"
    );
}

/// RFC 7515 §5.2 and RFC 7519 §4: a JSON object with a member name twice is
/// either refused or read with "the lexically last duplicate member name";
/// serde_json keeps the last, so a repeated `exp` counts with its last value.
#[test]
fn a_duplicated_claim_counts_with_its_last_value() {
    let expect = expectations(&[]);
    let claims_with = |first: i64, last: i64| {
        let json = format!(
            r#"{{"iss":"https://idp","aud":"me","sub":"42","iat":{NOW},"nonce":"n1","exp":{first},"exp":{last}}}"#
        );
        decode_json(&URL_SAFE_NO_PAD.encode(json)).expect("a JSON object")
    };
    let accepted = check_claims(&claims_with(NOW - 3600, NOW + 3600), &expect);
    assert_eq!(accepted.as_deref(), Ok("42"));
    let refused = check_claims(&claims_with(NOW + 3600, NOW - 3600), &expect);
    assert_eq!(refused, Err(TokenProblem::Expired));
}

/// RFC 7519 §2: a NumericDate "can represent any time", fractions included
/// — the issue's `"exp": 1796000000.5` is an expiry, not a malformed token.
#[test]
fn the_issues_fractional_exp_is_accepted() {
    let before = 1_796_000_000 - 1000;
    let expect = Expectations {
        now: before,
        ..expectations(&[])
    };
    let token = json!({"iss":"https://idp","aud":"me","sub":"42","iat":before as f64 - 0.25,
        "exp":1796000000.5,"nbf":before as f64 - 0.75,"nonce":"n1"});
    assert_eq!(
        check_claims(&claims(token.clone()), &expect).as_deref(),
        Ok("42")
    );
    let after = Expectations {
        now: 1_796_000_000 + LEEWAY_SECS + 1,
        ..expectations(&[])
    };
    let mut late = token;
    late["iat"] = json!(after.now);
    assert_eq!(
        check_claims(&claims(late), &after),
        Err(TokenProblem::Expired)
    );
}

/// An Ed25519 key, its JWK (with or without `kid`) and tokens signed by it.
struct TestKey {
    pair: Ed25519KeyPair,
    kid: Option<String>,
}

impl TestKey {
    fn new(kid: Option<&str>) -> TestKey {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("key");
        TestKey {
            pair: Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key"),
            kid: kid.map(str::to_string),
        }
    }

    fn jwk(&self) -> Value {
        let mut jwk = json!({
            "kty": "OKP", "crv": "Ed25519", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref()),
        });
        if let Some(kid) = &self.kid {
            jwk["kid"] = json!(kid);
        }
        jwk
    }

    fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": "EdDSA", "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.pair.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    /// A token naming its own kid (if it has one).
    fn token(&self) -> String {
        self.sign(self.kid.as_deref(), &fresh_claims())
    }

    fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey::from_jwk(self.jwk().as_object().expect("object")).expect("jwk")
    }
}

fn fresh_claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss":"https://idp","aud":"me","sub":"42","iat":now,"exp":now+600})
}

fn live_expectations() -> Expectations<'static> {
    Expectations {
        issuer: "https://idp",
        client_id: "me",
        trusted_audiences: &[],
        nonce: None,
        now: chrono::Utc::now().timestamp(),
        max_age_secs: 600,
        profile: ClaimProfile::Oidc,
    }
}

/// A JWKS endpoint whose keys the test swaps, and the cache in front of it.
async fn jwks_server(keys: &[&TestKey]) -> (Arc<StdMutex<Value>>, KeyCache) {
    let published = Arc::new(StdMutex::new(json!({"keys": []})));
    publish(&published, keys);
    let served = published.clone();
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let body = served.lock().expect("jwks").clone();
            async move { axum::Json(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let http = super::super::http_client(Duration::from_secs(5)).expect("client");
    let cache = KeyCache::new(KeySource::Jwks(url), &[JwsAlg::EdDsa], http, 64 * 1024);
    (published, cache)
}

fn publish(slot: &StdMutex<Value>, keys: &[&TestKey]) {
    let keys: Vec<Value> = keys.iter().map(|k| k.jwk()).collect();
    *slot.lock().expect("jwks") = json!({ "keys": keys });
}

#[tokio::test]
async fn two_rotations_inside_a_second_do_not_fail_a_verification() {
    let k1 = TestKey::new(Some("k1"));
    let (jwks, cache) = jwks_server(&[&k1]).await;
    let started = Instant::now();
    assert!(cache
        .verify(&k1.token(), &live_expectations())
        .await
        .is_ok());
    assert_eq!(cache.load_count(), 1);

    // Rotated twice within a few milliseconds of the last load: each token
    // waits out the refetch interval instead of being refused.
    for kid in ["k2", "k3"] {
        let key = TestKey::new(Some(kid));
        publish(&jwks, &[&key]);
        let verified = cache.verify(&key.token(), &live_expectations()).await;
        assert!(verified.is_ok(), "{kid}: {verified:?}");
    }
    assert_eq!(cache.load_count(), 3);

    // A kid-less token by a key published since the last load: one refetch.
    let kidless = TestKey::new(None);
    publish(&jwks, &[&kidless]);
    let token = kidless.sign(None, &fresh_claims());
    assert!(cache.verify(&token, &live_expectations()).await.is_ok());
    assert_eq!(cache.load_count(), 4);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "inside a second"
    );
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_refetch() {
    let k1 = TestKey::new(Some("k1"));
    let (jwks, cache) = jwks_server(&[&k1]).await;
    assert!(cache
        .verify(&k1.token(), &live_expectations())
        .await
        .is_ok());
    let k2 = TestKey::new(Some("k2"));
    publish(&jwks, &[&k1, &k2]);
    let cache = Arc::new(cache);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let cache = cache.clone();
        // Half are the new key, half name kids nobody has.
        let token = if i % 2 == 0 {
            k2.token()
        } else {
            k1.sign(Some(&format!("bogus-{i}")), &fresh_claims())
        };
        tasks.push(tokio::spawn(async move {
            (i, cache.verify(&token, &live_expectations()).await)
        }));
    }
    for task in tasks {
        let (i, result) = task.await.expect("task");
        if i % 2 == 0 {
            assert!(result.is_ok(), "{i}: {result:?}");
        } else {
            assert_eq!(
                result.map(|_| ()).expect_err("bogus").code(),
                "token.unknown_key"
            );
        }
    }
    assert!(
        cache.load_count() <= 3,
        "single-flight: {} loads for 40 tokens",
        cache.load_count()
    );
}

/// Decision (see the module doc): against a JWKS, a kid-less token needs
/// exactly one candidate key of its algorithm; against certificates every
/// candidate is tried.
#[tokio::test]
async fn kidless_tokens_need_a_single_candidate_in_a_jwks() {
    let a = TestKey::new(Some("a"));
    let b = TestKey::new(Some("b"));
    let (jwks, cache) = jwks_server(&[&a]).await;
    let from_a = a.sign(None, &fresh_claims());
    assert!(cache.verify(&from_a, &live_expectations()).await.is_ok());
    publish(&jwks, &[&a, &b]);
    tokio::time::sleep(MIN_REFETCH_INTERVAL).await;
    cache.reload().await.expect("reload");
    let refused = cache.verify(&from_a, &live_expectations()).await;
    assert_eq!(
        refused.map(|_| ()).expect_err("ambiguous").code(),
        "token.kid_required"
    );
    // Naming the kid settles it.
    assert!(cache.verify(&a.token(), &live_expectations()).await.is_ok());

    // Certificates (ESIA never sends a kid): both keys of a rotation work.
    let certificates = KeyCache::new(
        KeySource::Certificates {
            files: Vec::new(),
            inline: None,
        },
        &[JwsAlg::EdDsa],
        reqwest::Client::new(),
        1024,
    );
    let mut kidless_a = a.verifying_key();
    kidless_a.kid = None;
    let mut kidless_b = b.verifying_key();
    kidless_b.kid = None;
    certificates.install(vec![kidless_a, kidless_b], Instant::now());
    for key in [&a, &b] {
        let token = key.sign(None, &fresh_claims());
        assert!(certificates
            .verify(&token, &live_expectations())
            .await
            .is_ok());
    }
}

/// A cache with a fixed key set and no network (a reload finds no keys).
fn fixed_cache(key: &TestKey) -> KeyCache {
    let cache = KeyCache::new(
        KeySource::Certificates {
            files: Vec::new(),
            inline: None,
        },
        &[JwsAlg::EdDsa, JwsAlg::Rs256],
        reqwest::Client::new(),
        1024,
    );
    // Loaded "a while ago", so that a reload does not wait for the interval.
    let earlier = Instant::now()
        .checked_sub(Duration::from_secs(1))
        .unwrap_or_else(Instant::now);
    cache.install(vec![key.verifying_key()], earlier);
    cache
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::from),
        prop_oneof![Just("https://idp"), Just("me"), Just("n1"), Just("42")].prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Claims built from the names that matter, with values of any shape.
fn claim_sets() -> impl Strategy<Value = Map<String, Value>> {
    let names = ["iss", "aud", "azp", "sub", "iat", "exp", "nbf", "nonce"];
    let near = (NOW - 2000..NOW + 2000).prop_map(Value::from);
    prop::collection::vec(
        (
            prop::sample::select(names.to_vec()),
            prop_oneof![any_json(), near],
        ),
        0..10,
    )
    .prop_map(|pairs| pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the claims, an accepted token satisfies every rule.
    #[test]
    fn accepted_claims_satisfy_every_rule(c in claim_sets()) {
        let expect = expectations(&[]);
        if let Ok(subject) = check_claims(&c, &expect) {
            prop_assert_eq!(c.get("iss"), Some(&json!("https://idp")));
            let aud_ok = match c.get("aud") {
                Some(Value::String(aud)) => aud == "me",
                Some(Value::Array(list)) => !list.is_empty() && list.iter().all(|a| a == "me"),
                _ => false,
            };
            prop_assert!(aud_ok, "aud {:?}", c.get("aud"));
            prop_assert!(c.get("azp").is_none_or(|a| a == "me"));
            let date = |name: &str| NumericDate::from_json(&c[name]);
            let (exp, iat) = (date("exp"), date("iat"));
            prop_assert!(exp.is_some_and(|exp| exp.floor().saturating_add(LEEWAY_SECS) >= NOW));
            prop_assert!(iat.is_some_and(|iat| iat.ceil().saturating_sub(LEEWAY_SECS) <= NOW
                && iat.floor().saturating_add(600 + LEEWAY_SECS) >= NOW));
            prop_assert!(c.get("nbf").is_none_or(|nbf| NumericDate::from_json(nbf)
                .is_some_and(|nbf| nbf.ceil().saturating_sub(LEEWAY_SECS) <= NOW)));
            prop_assert_eq!(c.get("nonce"), Some(&json!("n1")));
            prop_assert!(matches!(c.get("sub"), Some(Value::String(_))), "OIDC: a string sub");
            prop_assert_eq!(Some(subject), ClaimProfile::Oidc.subject(c.get("sub")));
        }
    }

    /// Arbitrary text, and three base64url parts of arbitrary bytes or
    /// JSON, never panic the verifier; nothing unsigned verifies.
    #[test]
    fn the_verifier_refuses_garbage_without_panicking(
        text in ".{0,200}",
        header in prop_oneof![any_json().prop_map(|v| v.to_string().into_bytes()), prop::collection::vec(any::<u8>(), 0..64)],
        payload in prop_oneof![claim_sets().prop_map(|c| Value::Object(c).to_string().into_bytes()), prop::collection::vec(any::<u8>(), 0..64)],
        signature in prop::collection::vec(any::<u8>(), 0..80),
        alg in prop::sample::select(vec!["EdDSA", "RS256", "none", "HS256", ""]),
    ) {
        let key = TestKey::new(Some("k"));
        let rt = runtime();
        let expect = live_expectations();
        // A fresh cache each time: a failed lookup reloads (to nothing).
        let verify = |token: &str| rt.block_on(fixed_cache(&key).verify(token, &expect));
        prop_assert!(verify(&text).is_err());
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let token = format!("{}.{}.{}", b64(&header), b64(&payload), b64(&signature));
        prop_assert!(verify(&token).is_err());
        let shaped = format!(
            "{}.{}.{}",
            b64(json!({"alg": alg, "kid": "k"}).to_string().as_bytes()),
            b64(&payload),
            b64(&signature)
        );
        prop_assert!(verify(&shaped).is_err());
        // Signed by the key: the verdict is exactly the claim checks'.
        if let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(&payload) {
            let signed = key.sign(Some("k"), &Value::Object(claims.clone()));
            let verdict = verify(&signed).map(|v| v.subject);
            prop_assert_eq!(verdict, check_claims(&claims, &expect));
        }
    }

    /// OIDC: a subject is exactly a non-empty string of at most 255 bytes.
    /// ESIA: a non-negative integer printed in decimal (or that decimal
    /// text as a string); both profiles agree on the OID's text.
    #[test]
    fn subject_invariants(value in any_json(), n in any::<u64>(), s in ".{0,300}") {
        if let Some(subject) = ClaimProfile::Oidc.subject(Some(&value)) {
            prop_assert!(!subject.is_empty() && subject.len() <= 255);
            prop_assert_eq!(Some(&Value::String(subject)), Some(&value));
        }
        if let Some(subject) = ClaimProfile::Esia.subject(Some(&value)) {
            let n: u64 = subject.parse().map_err(|_| TestCaseError::fail("decimal"))?;
            prop_assert_eq!(n.to_string(), subject.clone());
            prop_assert!(value == json!(n) || value == json!(subject), "{:?}", value);
        }
        prop_assert_eq!(ClaimProfile::Oidc.subject(Some(&json!(n))), None);
        prop_assert_eq!(ClaimProfile::Esia.subject(Some(&json!(n))), Some(n.to_string()));
        prop_assert_eq!(ClaimProfile::Esia.subject(Some(&json!(n.to_string()))), Some(n.to_string()));
        let expected = (!s.is_empty() && s.len() <= 255).then(|| s.clone());
        prop_assert_eq!(ClaimProfile::Oidc.subject(Some(&json!(s))), expected);
        prop_assert_eq!(ClaimProfile::Oidc.subject(None), None);
    }
}
