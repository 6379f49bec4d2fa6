//! What real ESIA does that a naive mock would not: token shape, keys as
//! certificates, GOST, the raw GOST client signature, scopes, logout and
//! single sign-on, documents.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use esia_proto::{EsiaPerson, EsiaRestError, EsiaTokenResponse};
use mock_idp::{demo_esia_gost_client, demo_oidc_client, EsiaAlg, MockIdpConfig};
use serde_json::{json, Value};

use crate::kit::*;

async fn rest(idp: &mock_idp::MockIdp, token: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}/rs/prns/{path}", idp.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("REST")
}

async fn person(idp: &mock_idp::MockIdp, token: &str, path: &str) -> EsiaPerson {
    let response = rest(idp, token, path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.expect("person JSON")
}

async fn rest_error(idp: &mock_idp::MockIdp, token: &str, path: &str) -> (u16, String) {
    let response = rest(idp, token, path).await;
    let status = response.status().as_u16();
    let body: EsiaRestError = response.json().await.expect("ESIA REST error");
    (status, body.code)
}

const OID_RSA: &str = "2a864886f70d010101";
const OID_SHA256_RSA: &str = "2a864886f70d01010b";
const OID_GOST_2012_256: &str = "2a85030701010101";
const OID_GOST_SIGN_256: &str = "2a85030701010302";

#[tokio::test]
async fn id_and_access_tokens_have_esia_s_shape() {
    let idp = mock().await;
    let tokens = esia_tokens(&idp, "smirnov", RP_SCOPE).await;
    let id_token = tokens.id_token.expect("id_token");
    let header_text = String::from_utf8(
        URL_SAFE_NO_PAD
            .decode(id_token.split('.').next().expect("header"))
            .expect("base64url"),
    )
    .expect("UTF-8");
    assert_eq!(
        header_text,
        r#"{"ver":1,"typ":"JWT","sbt":"id","alg":"RS256"}"#
    );
    let (_, claims) = decode(&id_token);
    assert_eq!(claims["iss"], Value::String(idp.issuer()));
    assert_eq!(claims["aud"], "ESIA-LINK-DEMO");
    assert_eq!(claims["sub"], json!(1000003));
    assert!(claims["sub"].is_u64(), "an integer, not a string");
    assert_eq!(claims["amr"], "PWD");
    for claim in ["iat", "nbf", "exp", "auth_time"] {
        assert!(claims[claim].is_i64(), "{claim}");
    }
    assert!(claims["urn:esia:sid"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert_eq!(
        claims["urn:esia:sbj"],
        json!({
            "urn:esia:sbj:typ": "P",
            "urn:esia:sbj:oid": 1000003,
            "urn:esia:sbj:nam": "OID.1000003",
            "urn:esia:sbj:is_tru": true,
        })
    );

    let (header, access) = decode(&tokens.access_token);
    assert_eq!(
        header,
        json!({"ver": 1, "typ": "JWT", "sbt": "access", "alg": "RS256"})
    );
    assert_eq!(access["urn:esia:sbj_id"], json!(1000003));
    assert_eq!(access["client_id"], "ESIA-LINK-DEMO");
    assert_eq!(
        access["scope"],
        "openid fullname?oid=1000003 birthdate?oid=1000003 gender?oid=1000003 snils?oid=1000003 id_doc?oid=1000003"
    );
    assert_eq!(access["urn:esia:sid"], claims["urn:esia:sid"]);
    assert_eq!(
        access["exp"].as_i64().unwrap_or(0) - access["iat"].as_i64().unwrap_or(0),
        3600
    );
    assert!(esia_verifies(
        &tokens.access_token,
        &idp.esia_certificates_pem()
    ));

    // A standard person has no is_tru.
    let tokens = esia_tokens(&idp, "ivanova", RP_SCOPE).await;
    let (_, claims) = decode(&tokens.id_token.expect("id_token"));
    assert!(claims["urn:esia:sbj"].get("urn:esia:sbj:is_tru").is_none());
}

#[tokio::test]
async fn the_rsa_certificate_is_published_and_the_jwks_is_oidc_only() {
    let idp = mock().await;
    let pem = certificates_pem(&idp).await;
    assert_eq!(pem, idp.esia_certificates_pem());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    let certs = certificates(&pem);
    assert_eq!(certs.len(), 1);
    let cert = &certs[0];
    assert_eq!(hex::encode(&cert.spki_algorithm_oid), OID_RSA);
    assert_eq!(hex::encode(&cert.signature_algorithm_oid), OID_SHA256_RSA);
    assert!(cert.rsa.is_some());
    let day = |t: &str| chrono::NaiveDateTime::parse_from_str(t, "%y%m%d%H%M%SZ").expect("UTCTime");
    let (not_before, not_after) = (day(&cert.validity.0), day(&cert.validity.1));
    let now = chrono::Utc::now().naive_utc();
    assert!((now - not_before).num_hours() >= 23 && (now - not_before).num_hours() <= 25);
    assert!((not_after - now).num_days() >= 364 && (not_after - now).num_days() <= 366);
    // The JWKS holds the OIDC key only (its kid), never ESIA's.
    let jwks = jwks(&idp).await;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
    assert!(jwks["keys"][0]["kid"].is_string());
}

#[tokio::test]
async fn gost_mode_signs_tokens_with_a_gost_certificate_key() {
    let idp = mock_with(MockIdpConfig {
        esia_alg: EsiaAlg::Gost3410_2012_256,
        ..MockIdpConfig::default()
    })
    .await;
    assert_eq!(idp.esia_alg(), EsiaAlg::Gost3410_2012_256);
    let pem = idp.esia_certificates_pem();
    let certs = certificates(&pem);
    assert_eq!(hex::encode(&certs[0].spki_algorithm_oid), OID_GOST_2012_256);
    assert_eq!(
        hex::encode(&certs[0].signature_algorithm_oid),
        OID_GOST_SIGN_256
    );
    assert!(certs[0].gost.is_some());
    // SPKI parameters: CryptoPro-A and Streebog-256.
    assert_eq!(
        certs[0].spki_parameter_oids,
        vec![
            hex::decode("2a850302022301").expect("hex"),
            hex::decode("2a850307010102 02".replace(' ', "")).expect("hex")
        ]
    );

    let tokens = esia_tokens(&idp, "ivanova", RP_SCOPE).await;
    let id_token = tokens.id_token.expect("id_token");
    let (header, claims) = decode(&id_token);
    assert_eq!(
        header,
        json!({"ver": 1, "typ": "JWT", "sbt": "id", "alg": "GOST3410_2012_256"})
    );
    assert_eq!(claims["sub"], 1000001);
    let signature = URL_SAFE_NO_PAD
        .decode(id_token.rsplit('.').next().expect("signature"))
        .expect("base64url");
    assert_eq!(signature.len(), 64);
    assert!(esia_verifies(&id_token, &pem));
    assert!(!esia_verifies(
        &id_token,
        &mock().await.esia_certificates_pem()
    ));
    // REST accepts the GOST-signed access token.
    let p = person(&idp, &tokens.access_token, "1000001").await;
    assert_eq!(p.snils.as_deref(), Some("201-301-401 60"));

    // unknown_key in GOST mode: a GOST token from a key no certificate holds.
    let code = esia_code(&idp, "ivanova").await;
    idp.set_fault(mock_idp::Fault::UnknownKey);
    let stranger: EsiaTokenResponse = exchange(&idp, &token_form(&code))
        .await
        .json()
        .await
        .expect("json");
    let stranger = stranger.id_token.expect("id_token");
    assert_eq!(decode(&stranger).0["alg"], "GOST3410_2012_256");
    assert!(!esia_verifies(&stranger, &pem));
}

#[tokio::test]
async fn esia_keys_rotate_by_certificate() {
    let idp = mock().await;
    let old = esia_tokens(&idp, "ivanova", RP_SCOPE).await;
    let old_pem = idp.esia_certificates_pem();

    idp.rotate_esia_key(EsiaAlg::Gost3410_2012_256, true);
    let pem = idp.esia_certificates_pem();
    let certs = certificates(&pem);
    assert_eq!(certs.len(), 2, "grace period");
    assert!(certs[0].gost.is_some(), "active first");
    assert!(certs[1].rsa.is_some());
    assert!(pem.ends_with(&old_pem));
    person(&idp, &old.access_token, "1000001").await;
    let new = esia_tokens(&idp, "ivanova", RP_SCOPE).await;
    let id_token = new.id_token.expect("id_token");
    assert_eq!(decode(&id_token).0["alg"], "GOST3410_2012_256");
    assert!(esia_verifies(&id_token, &pem) && !esia_verifies(&id_token, &old_pem));

    // Through the admin API, dropping the old keys.
    let answer: Value = http()
        .post(format!("{}/admin/esia/keys/rotate", idp.base_url()))
        .bearer_auth(idp.admin_token())
        .json(&json!({"alg": "RS256", "keep_old": false}))
        .send()
        .await
        .expect("rotate")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["alg"], "RS256");
    let pem = certificates_pem(&idp).await;
    assert_eq!(answer["certificates_pem"], Value::String(pem.clone()));
    assert_eq!(certificates(&pem).len(), 1);
    assert_eq!(
        rest_error(&idp, &new.access_token, "1000001").await,
        (401, "ESIA-005011".into()),
        "signed by a dropped key"
    );
}

fn gost_mock_config() -> MockIdpConfig {
    MockIdpConfig {
        clients: vec![
            demo_esia_gost_client(vec![REDIRECT.into()]),
            demo_oidc_client(vec![OIDC_REDIRECT.into()]),
        ],
        ..MockIdpConfig::default()
    }
}

/// The ESIA code of an authorize request's answer.
async fn authorize_answer(idp: &mock_idp::MockIdp, params: &[(String, String)]) -> String {
    let url = url_with(&format!("{}/aas/oauth2/v2/ac", idp.base_url()), params);
    let response = http().get(&url).send().await.expect("authorize");
    match response.headers().get("location") {
        Some(location) => query_of(location.to_str().expect("location"))
            .get("error_description")
            .map(|d| d[..11].to_string())
            .unwrap_or_else(|| "redirect".into()),
        None => {
            let html = response.text().await.expect("html");
            if html.contains("name=\"password\"") {
                "login page".into()
            } else {
                html
            }
        }
    }
}

#[tokio::test]
async fn the_gost_client_signature_is_raw_s_r_big_endian() {
    let idp = mock_with(gost_mock_config()).await;
    let state = uuid::Uuid::new_v4().to_string();
    let good = authorize_params_for(&state, RP_SCOPE, Signer::Gost);
    assert_eq!(authorize_answer(&idp, &good).await, "login page");

    let secret = good
        .iter()
        .find(|(k, _)| k == "client_secret")
        .map(|(_, v)| v.clone())
        .expect("secret");
    let raw = URL_SAFE_NO_PAD.decode(&secret).expect("base64url");
    assert_eq!(raw.len(), 64);

    // Padded base64url is accepted too.
    let mut padded = good.clone();
    set(&mut padded, "client_secret", &format!("{secret}=="));
    assert_eq!(authorize_answer(&idp, &padded).await, "login page");

    let refused = |secret: String| {
        let mut p = good.clone();
        set(&mut p, "client_secret", &secret);
        p
    };
    // CryptoPro's csptest byte order that the signer forgot to reverse.
    let mut unreversed = raw.clone();
    unreversed.reverse();
    let cases = [
        (
            "csptest's byte order, not reversed",
            URL_SAFE_NO_PAD.encode(&unreversed),
        ),
        // A CMS/PKCS#7 envelope: DER SEQUENCE, hundreds of bytes.
        ("CMS envelope", {
            let mut cms = vec![
                0x30, 0x82, 0x01, 0xf0, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07,
                0x02,
            ];
            cms.extend(std::iter::repeat_n(0xa5, 481));
            cms.extend_from_slice(&raw);
            URL_SAFE_NO_PAD.encode(cms)
        }),
        (
            "RSA signature for a GOST client",
            sign_with(Signer::Rsa, "anything"),
        ),
        ("63 bytes", URL_SAFE_NO_PAD.encode(&raw[1..])),
        ("not base64url", "***".to_string()),
    ];
    for (why, secret) in cases {
        assert_eq!(
            authorize_answer(&idp, &refused(secret)).await,
            "ESIA-007053",
            "{why}"
        );
    }

    // The whole flow with GOST signatures on both requests.
    let code = esia_code_for(&idp, "ivanova", RP_SCOPE, Signer::Gost).await;
    let mut form = token_form_for(&code, RP_SCOPE, Signer::Rsa);
    let response = exchange(&idp, &form).await;
    assert_eq!(response.status(), 400, "RSA-signed token request");
    let body: esia_proto::EsiaErrorResponse = response.json().await.expect("json");
    assert!(body.error_description.starts_with("ESIA-007053"));
    form = token_form_for(&code, RP_SCOPE, Signer::Gost);
    assert_eq!(exchange(&idp, &form).await.status(), 200);

    // The RSA demo client still works on a mock with RSA clients.
    let idp = mock().await;
    let state = uuid::Uuid::new_v4().to_string();
    let rsa = authorize_params_for(&state, RP_SCOPE, Signer::Rsa);
    assert_eq!(authorize_answer(&idp, &rsa).await, "login page");
    let gost = authorize_params_for(&state, RP_SCOPE, Signer::Gost);
    assert_eq!(authorize_answer(&idp, &gost).await, "ESIA-007053");
}

#[tokio::test]
async fn clients_registered_through_the_admin_api_keep_the_old_json() {
    let idp = mock().await;
    let public_key_pem = include_str!("../../demo/client-pub.pem");
    let status = http()
        .put(format!("{}/admin/clients/ESIA-LINK-DEMO", idp.base_url()))
        .bearer_auth(idp.admin_token())
        .json(&json!({
            "client_id": "ESIA-LINK-DEMO",
            "redirect_uris": [REDIRECT],
            "allowed_scopes": ["openid", "fullname", "birthdate", "gender", "snils", "id_doc"],
            "public_key_pem": public_key_pem,
            "certificate_hash": mock_idp::demo_certificate_hash(),
        }))
        .send()
        .await
        .expect("admin")
        .status();
    assert_eq!(status, 204);
    let state = uuid::Uuid::new_v4().to_string();
    let params = authorize_params_for(&state, RP_SCOPE, Signer::Rsa);
    assert_eq!(authorize_answer(&idp, &params).await, "login page");

    let gost = serde_json::to_value(demo_esia_gost_client(vec![REDIRECT.into()])).expect("json");
    assert_eq!(gost["key"]["type"], "gost");
    let status = http()
        .put(format!("{}/admin/clients/ESIA-LINK-DEMO", idp.base_url()))
        .bearer_auth(idp.admin_token())
        .json(&gost)
        .send()
        .await
        .expect("admin")
        .status();
    assert_eq!(status, 204);
    let params = authorize_params_for(&state, RP_SCOPE, Signer::Gost);
    assert_eq!(authorize_answer(&idp, &params).await, "login page");
}

#[tokio::test]
async fn rest_answers_follow_the_access_token_s_scopes() {
    let idp = mock().await;
    let embed = "?embed=(contacts.elements,documents.elements,kids.elements)";

    // What the relying party asks for: no contacts, no kids.
    let tokens = esia_tokens(&idp, "novikova", RP_SCOPE).await;
    let p = person(&idp, &tokens.access_token, &format!("1000012{embed}")).await;
    assert_eq!(p.snils.as_deref(), Some("211-311-411 75"));
    assert_eq!(p.birth_date.as_deref(), Some("08.08.1986"));
    assert_eq!(p.gender.as_deref(), Some("F"));
    assert_eq!(p.r_id_doc, Some(1201));
    assert_eq!(p.documents.as_ref().map(|d| d.size), Some(3));
    assert!(p.contacts.is_none() && p.kids.is_none());
    assert_eq!(
        rest_error(&idp, &tokens.access_token, "1000012/ctts").await,
        (403, "ESIA-005029".into())
    );
    assert_eq!(
        rest_error(&idp, &tokens.access_token, "1000012/kids").await,
        (403, "ESIA-005029".into())
    );
    let raw: Value = rest(&idp, &tokens.access_token, "1000012")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        raw["oid"], 1000012,
        "the OID is a number in person data too"
    );

    // Names only.
    let tokens = esia_tokens(&idp, "novikova", "openid fullname").await;
    let p = person(&idp, &tokens.access_token, &format!("1000012{embed}")).await;
    assert_eq!(p.last_name.as_deref(), Some("Новикова"));
    assert!(p.snils.is_none() && p.birth_date.is_none() && p.gender.is_none());
    assert!(p.r_id_doc.is_none() && p.documents.is_none());
    assert_eq!(
        rest_error(&idp, &tokens.access_token, "1000012/docs").await,
        (403, "ESIA-005029".into())
    );

    // Without fullname, no names.
    let tokens = esia_tokens(&idp, "novikova", "openid snils").await;
    let p = person(&idp, &tokens.access_token, "1000012").await;
    assert!(p.last_name.is_none() && p.first_name.is_none() && p.middle_name.is_none());
    assert!(p.snils.is_some());

    // Kids: each field needs its scope; e-mail only with `email`.
    let tokens = esia_tokens(&idp, "novikova", "openid fullname email kid_fullname").await;
    let raw: Value = rest(&idp, &tokens.access_token, &format!("1000012{embed}"))
        .await
        .json()
        .await
        .expect("json");
    let kid = &raw["kids"]["elements"][0];
    assert_eq!(kid["firstName"], "Максим");
    assert!(kid.get("birthDate").is_none() && kid.get("snils").is_none());
    let contacts = raw["contacts"]["elements"].as_array().expect("contacts");
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0]["type"], "EML");
    let tokens = esia_tokens(&idp, "novikova", "openid kid_birthdate kid_snils").await;
    let kids: Value = rest(&idp, &tokens.access_token, "1000012/kids?embed=(elements)")
        .await
        .json()
        .await
        .expect("json");
    let kid = &kids["elements"][1];
    assert_eq!(kid["birthDate"], "12.12.2018");
    assert_eq!(kid["snils"], "213-313-413 99");
    assert!(kid.get("firstName").is_none());
}

#[tokio::test]
async fn rest_calls_are_bound_to_the_esia_access_token() {
    let idp = mock().await;
    let tokens = esia_tokens(&idp, "ivanova", RP_SCOPE).await;
    assert_eq!(
        rest_error(&idp, &tokens.access_token, "1000002").await,
        (403, "ESIA-005029".into()),
        "another person's OID"
    );
    assert_eq!(
        rest_error(&idp, "not-a-token", "1000001").await,
        (401, "ESIA-005011".into())
    );
    let tampered = {
        let (input, _) = tokens.access_token.rsplit_once('.').expect("JWT");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]))
    };
    assert_eq!(
        rest_error(&idp, &tampered, "1000001").await,
        (401, "ESIA-005011".into())
    );
    // The id_token is signed by the same key but has no urn:esia:sbj_id.
    let id_token = tokens.id_token.expect("id_token");
    assert_eq!(rest_error(&idp, &id_token, "1000001").await.0, 401);
    let response = http()
        .get(format!("{}/rs/prns/1000001", idp.base_url()))
        .send()
        .await
        .expect("no token");
    assert_eq!(response.status(), 401);
}

/// GET `path` (relative to the mock) in `client`'s browser.
async fn visit(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client.get(url).send().await.expect("GET")
}

fn logout_url(idp: &mock_idp::MockIdp, client_id: &str, redirect_url: &str) -> String {
    url_with(
        &format!("{}/idp/ext/Logout", idp.base_url()),
        &[
            ("client_id".into(), client_id.into()),
            ("redirect_url".into(), redirect_url.into()),
        ],
    )
}

#[tokio::test]
async fn logout_redirects_only_to_the_client_s_origins() {
    let idp = mock().await;
    let browser = http();
    let ok = visit(
        &browser,
        &logout_url(
            &idp,
            "ESIA-LINK-DEMO",
            "http://127.0.0.1:9/after-logout?x=1",
        ),
    )
    .await;
    assert_eq!(ok.status(), 302);
    assert_eq!(
        ok.headers()["location"],
        "http://127.0.0.1:9/after-logout?x=1"
    );
    assert_eq!(idp.logout_count(), 1);
    for (client_id, redirect_url) in [
        ("ESIA-LINK-DEMO", "https://127.0.0.1:9/after-logout"),
        ("ESIA-LINK-DEMO", "http://127.0.0.1:10/"),
        ("ESIA-LINK-DEMO", "http://evil.example/"),
        ("ESIA-LINK-DEMO", "not a url"),
        ("UNKNOWN", "http://127.0.0.1:9/"),
    ] {
        let answer = visit(&browser, &logout_url(&idp, client_id, redirect_url)).await;
        assert_eq!(answer.status(), 400, "{client_id} {redirect_url}");
    }
    let missing = visit(
        &browser,
        &format!("{}/idp/ext/Logout?client_id=ESIA-LINK-DEMO", idp.base_url()),
    )
    .await;
    assert_eq!(missing.status(), 400);
    assert!(missing
        .text()
        .await
        .expect("html")
        .contains("[redirect_url]"));
    assert_eq!(idp.logout_count(), 1);
}

#[tokio::test]
async fn single_sign_on_skips_the_form_until_logout() {
    let idp = mock_with(MockIdpConfig {
        sso: true,
        ..MockIdpConfig::default()
    })
    .await;
    let browser = http();
    let authorize = || {
        url_with(
            &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
            &authorize_params(&uuid::Uuid::new_v4().to_string()),
        )
    };
    // First login: the form; the login sets an HttpOnly cookie.
    let html = visit(&browser, &authorize())
        .await
        .text()
        .await
        .expect("html");
    let pending = hidden(&html, "pending");
    let login = browser
        .post(format!("{}/aas/login", idp.base_url()))
        .form(&[
            ("pending", pending.as_str()),
            ("login", "ivanova"),
            ("password", "demo"),
        ])
        .send()
        .await
        .expect("login");
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");

    // Next authorize in this browser: straight to consent, as ivanova.
    let html = visit(&browser, &authorize())
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("Предоставить") && !html.contains("name=\"password\""));
    let pending = hidden(&html, "pending");
    let answer = browser
        .post(format!("{}/aas/consent", idp.base_url()))
        .form(&[("pending", pending.as_str()), ("decision", "allow")])
        .send()
        .await
        .expect("consent");
    let code = query_of(answer.headers()["location"].to_str().expect("location"))["code"].clone();
    let tokens: EsiaTokenResponse = exchange(&idp, &token_form(&code))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        decode(&tokens.id_token.expect("id_token")).1["sub"],
        1000001
    );

    // Another browser is not signed in.
    let html = visit(&http(), &authorize())
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("name=\"password\""));

    // Logout ends the session: the form again.
    let out = visit(
        &browser,
        &logout_url(&idp, "ESIA-LINK-DEMO", "http://127.0.0.1:9/"),
    )
    .await;
    assert_eq!(out.status(), 302);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .contains("Max-Age=0"));
    let html = visit(&browser, &authorize())
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("name=\"password\""), "signed out");

    // Without sso (the default) a login is never remembered.
    let idp = mock().await;
    let browser = http();
    let url = url_with(
        &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
        &authorize_params(&uuid::Uuid::new_v4().to_string()),
    );
    consent(&idp, &browser, &url, "ivanova", "allow").await;
    let url = url_with(
        &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
        &authorize_params(&uuid::Uuid::new_v4().to_string()),
    );
    let html = visit(&browser, &url).await.text().await.expect("html");
    assert!(html.contains("name=\"password\""));
}

/// The relying party's rule (src/federation/esia.rs `tier_of`), on the wire data.
fn tier_from_rest(p: &EsiaPerson) -> (&'static str, bool) {
    if p.trusted {
        return ("verified", true);
    }
    let (Some(documents), Some(current)) = (&p.documents, p.r_id_doc) else {
        return ("simplified", false);
    };
    let Some(document) = documents.items().find(|d| d.id == Some(current)) else {
        return ("simplified", false);
    };
    let identity = matches!(document.kind.as_deref(), Some("RF_PASSPORT" | "FID_DOC"));
    if identity && document.vrf_stu.as_deref() == Some("VERIFIED") {
        ("standard", true)
    } else {
        ("simplified", true)
    }
}

#[tokio::test]
async fn every_shipped_person_s_documents_give_their_tier() {
    let idp = mock().await;
    for shipped in mock_idp::shipped_persons() {
        let tokens = esia_tokens(&idp, &shipped.login, RP_SCOPE).await;
        let p = person(
            &idp,
            &tokens.access_token,
            &format!("{}?embed=(documents.elements)", shipped.oid),
        )
        .await;
        let (tier, known) = tier_from_rest(&p);
        assert_eq!(tier, shipped.tier.as_str(), "{}", shipped.login);
        assert_eq!(
            known,
            shipped.login != "volkova",
            "{}: tier known",
            shipped.login
        );
    }
    // The odd documents are served as they are.
    let docs = |login: &'static str, oid: &'static str| {
        let idp = &idp;
        async move {
            let tokens = esia_tokens(idp, login, RP_SCOPE).await;
            let p = person(
                idp,
                &tokens.access_token,
                &format!("{oid}?embed=(documents.elements)"),
            )
            .await;
            p.documents
                .expect("documents")
                .items()
                .cloned()
                .collect::<Vec<_>>()
        }
    };
    let belov = docs("belov", "1000018").await;
    assert_eq!(belov[0].vrf_stu, None, "no vrfStu at all");
    let kiselev = docs("kiselev", "1000019").await;
    assert_eq!(kiselev[0].vrf_val_stu.as_deref(), Some("VERIFYING"));
    assert_eq!(kiselev[1].kind.as_deref(), Some("RF_DRIVING_LICENSE"));
    let fedorov = docs("fedorov", "1000002").await;
    assert_eq!(fedorov.len(), 1, "made up from the tier");
    assert_eq!(fedorov[0].id, Some(1));
}
