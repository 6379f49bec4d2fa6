//! CPU cost of the provider's hot paths, measured on the process CPU clock
//! (the machine is shared, so wall time says less). Run in release:
//!
//! ```text
//! cargo run --release --example bench
//! ```
//!
//! "App sign-in" is what issue #28 budgets at 0.3 ms: a person already
//! signed in to esia-link, an app runs authorize → token → userinfo. It
//! counts this crate's work only (parsing, PKCE, signing, verifying, JSON),
//! not HTTP, storage or the person lookup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use esia_link_provider::auth_context::{Acr, Amr, SignIn};
use esia_link_provider::authorize::{parse_authorization_request, SessionDecision};
use esia_link_provider::client_auth::{authenticate_with, Audiences, SecretCache};
use esia_link_provider::code::{issue_code, redeem, CodeExchange, CodeUse};
use esia_link_provider::params::Params;
use esia_link_provider::refresh::{rotate, start_family, PresentedRefreshToken, Rotation};
use esia_link_provider::token_request::{parse_token_request, TokenRequest};
use esia_link_provider::tokens::{PersonClaims, PersonName};
use esia_link_provider::{Provider, ProviderConfig};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const QUERY: &str =
    "response_type=code&client_id=mobile&redirect_uri=http%3A%2F%2F127.0.0.1%3A53111%2Fcb\
    &scope=openid+profile+diary+offline_access&state=af0ifjsldkj&nonce=n-0S6_WzA2Mj\
    &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
const TOKEN_FORM: &str = "grant_type=authorization_code&client_id=mobile\
    &redirect_uri=http%3A%2F%2F127.0.0.1%3A53111%2Fcb&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn cpu_now() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Runs `f` `n` times after a warm-up; prints and returns µs of CPU per run.
fn measure(name: &str, n: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..n.div_ceil(10) {
        f();
    }
    let (cpu0, wall0) = (cpu_now(), Instant::now());
    for _ in 0..n {
        f();
    }
    let cpu = (cpu_now() - cpu0) / f64::from(n) * 1e6;
    let wall = wall0.elapsed().as_secs_f64() / f64::from(n) * 1e6;
    println!("{name:<58} {cpu:>9.1} µs CPU  {wall:>9.1} µs wall  (n={n})");
    cpu
}

fn provider(id_token_alg: &str, access_token_alg: &str) -> Provider {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let text = format!(
        r#"
issuer = "https://id.example"
subject_key = "bench-subject-key-0123456789-abcdefghijklmnop"
access_token_alg = "{access_token_alg}"
[[signing_keys]]
pem_file = "keys/rs256-a.pem"
[[signing_keys]]
pem_file = "keys/es256-a.pem"
[[clients]]
id = "mobile"
kind = "public"
redirect_uris = ["http://127.0.0.1/cb"]
scopes = ["openid", "profile", "diary", "offline_access"]
id_token_signed_response_alg = "{id_token_alg}"
name_ru = "Дневник"
name_en = "Diary"
"#
    );
    let config: ProviderConfig = toml::from_str(&text).unwrap();
    Provider::from_config(&config, &dir, now()).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0).unwrap()
}

fn person() -> PersonClaims {
    PersonClaims {
        name: Some(PersonName {
            family_name: "Иванова".into(),
            given_name: "Мария".into(),
            middle_name: Some("Петровна".into()),
        }),
        diary: Some(serde_json::json!({
            "role": "parent", "region": 29,
            "pupils": [
                {"id": "p-1", "school": "s-7", "basis": "parent", "services": ["diary", "meals"]},
                {"id": "p-2", "school": "s-9", "basis": "parent", "services": ["diary"]}
            ]
        })),
    }
}

fn sign_in() -> SignIn {
    SignIn {
        account_id: "0b5c6a7e-4a43-4a5e-9f0e-6d2a1c3b4e5f".into(),
        session_id: "sess-9f0e6d2a1c3b".into(),
        auth_time: now(),
        acr: Acr::EsiaStandard,
        amr: vec![Amr::Fed],
    }
}

/// authorize → code → token (public client, PKCE) → userinfo, with the
/// JSON of every answer serialised as the web layer would.
fn app_sign_in(provider: &Provider, person: &PersonClaims) -> usize {
    let t = now();
    let request = parse_authorization_request(QUERY, &provider.clients).unwrap();
    assert!(matches!(
        request.session_decision(Some(t), t),
        SessionDecision::UseSession
    ));
    let issued = issue_code(&request, sign_in(), t).unwrap();
    let location = request.success_location(&issued.code, &provider.issuer);

    let form = format!("{TOKEN_FORM}&code={}", issued.code);
    let params = Params::parse(&form);
    let token_url = provider.endpoint("/oauth2/token");
    let audiences = Audiences {
        issuer: &provider.issuer,
        token_endpoint: &token_url,
        this_endpoint: &token_url,
    };
    let client = authenticate_with(
        &provider.clients,
        None,
        &params,
        audiences,
        &SecretCache::new(),
        t,
        |_, _, _| true,
    )
    .unwrap();
    let TokenRequest::AuthorizationCode {
        redirect_uri,
        code_verifier,
        ..
    } = parse_token_request(&params).unwrap()
    else {
        panic!()
    };
    let exchange = CodeExchange {
        client_id: &client.id,
        redirect_uri,
        code_verifier,
    };
    let grant = redeem(&issued.record, CodeUse::FirstUse, &exchange, t).unwrap();
    let (refresh, _family) = start_family(&grant, provider.lifetimes.refresh_family(), t).unwrap();
    let tokens = provider
        .issue_tokens(&grant, client, person, Some(refresh), t)
        .unwrap();
    let body = serde_json::to_vec(&tokens.response(t)).unwrap();

    let claims = provider
        .verify_access_token(&tokens.access.token, t)
        .unwrap();
    let userinfo = serde_json::to_vec(&provider.userinfo(&claims, person).unwrap()).unwrap();
    location.len() + body.len() + userinfo.len()
}

fn main() {
    let person = person();
    let es = provider("ES256", "ES256");
    let rs = provider("RS256", "RS256");
    let mixed = provider("RS256", "ES256");
    println!("esia-link-provider micro benchmark (CPU per operation, one thread)\n");

    measure(
        "authorize request parsing (PKCE, 4 scopes)",
        100_000,
        || {
            black_box(parse_authorization_request(black_box(QUERY), &es.clients).unwrap());
        },
    );
    let request = parse_authorization_request(QUERY, &es.clients).unwrap();
    let t = now();
    for (label, p) in [
        ("ES256 ID + ES256 access", &es),
        ("RS256 ID + RS256 access", &rs),
        ("RS256 ID + ES256 access", &mixed),
    ] {
        let client = p.clients.get("mobile").unwrap();
        let n = if label.starts_with("ES256") {
            5_000
        } else {
            1_000
        };
        measure(
            &format!("code issue+redeem+mint ID, access, refresh: {label}"),
            n,
            || {
                let issued = issue_code(&request, sign_in(), t).unwrap();
                let exchange = CodeExchange {
                    client_id: "mobile",
                    redirect_uri: Some("http://127.0.0.1:53111/cb"),
                    code_verifier: Some(VERIFIER),
                };
                let grant = redeem(&issued.record, CodeUse::FirstUse, &exchange, t).unwrap();
                let (refresh, _) = start_family(&grant, p.lifetimes.refresh_family(), t).unwrap();
                black_box(
                    p.issue_tokens(&grant, client, &person, Some(refresh), t)
                        .unwrap(),
                );
            },
        );
    }
    let _ = CHALLENGE;
    for (label, p) in [("ES256", &es), ("RS256", &rs)] {
        let client = p.clients.get("mobile").unwrap();
        let issued = issue_code(&request, sign_in(), t).unwrap();
        let exchange = CodeExchange {
            client_id: "mobile",
            redirect_uri: Some("http://127.0.0.1:53111/cb"),
            code_verifier: Some(VERIFIER),
        };
        let grant = redeem(&issued.record, CodeUse::FirstUse, &exchange, t).unwrap();
        let token = p
            .mint_access_token(&grant, client, &person, t)
            .unwrap()
            .token;
        measure(
            &format!("access-token verification: {label}"),
            20_000,
            || {
                black_box(p.verify_access_token(black_box(&token), t).unwrap());
            },
        );
        let (refresh, family) = start_family(&grant, p.lifetimes.refresh_family(), t).unwrap();
        let presented = PresentedRefreshToken::parse(&refresh).unwrap();
        let n = if label == "ES256" { 5_000 } else { 1_000 };
        measure(
            &format!("refresh grant (rotate + mint ID, access): {label}"),
            n,
            || {
                let Rotation::Rotated { token, grant, .. } = rotate(
                    &family,
                    &presented,
                    "mobile",
                    None,
                    chrono::Duration::zero(),
                    t,
                ) else {
                    panic!()
                };
                black_box(
                    p.issue_tokens(&grant, client, &person, Some(token), t)
                        .unwrap(),
                );
            },
        );
    }
    // Confidential clients: the argon2 check, and the memo that skips it.
    let phc = {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"bench-salt-16byt").unwrap();
        argon2::Argon2::default()
            .hash_password(b"web-secret", &salt)
            .unwrap()
            .to_string()
    };
    measure(
        "client secret, first check (argon2id m=19456 t=2 p=1)",
        20,
        || {
            black_box(SecretCache::new().verify("web", "web-secret", &phc));
        },
    );
    let memo = SecretCache::new();
    assert!(memo.verify("web", "web-secret", &phc));
    measure("client secret, memoized check", 100_000, || {
        black_box(memo.verify("web", black_box("web-secret"), &phc));
    });
    println!();
    let mut totals = Vec::new();
    for (label, p) in [
        ("ES256 ID + ES256 access", &es),
        ("RS256 ID + ES256 access", &mixed),
        ("RS256 ID + RS256 access", &rs),
    ] {
        let n = if label.starts_with("ES256") {
            5_000
        } else {
            1_000
        };
        let cpu = measure(
            &format!("whole app sign-in (authorize→token→userinfo): {label}"),
            n,
            || {
                black_box(app_sign_in(p, &person));
            },
        );
        totals.push((label, cpu));
    }
    println!();
    for (label, cpu) in totals {
        let verdict = if cpu <= 300.0 { "within" } else { "over" };
        println!(
            "app sign-in, {label}: {:.3} ms CPU — {verdict} the 0.3 ms target",
            cpu / 1000.0
        );
    }
}
