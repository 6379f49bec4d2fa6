//! What esia-link refuses the diary's apps, each with the answer the specs
//! prescribe: our own page where a redirect cannot be trusted, an error
//! redirect to the app where it can, and the token endpoint's JSON errors.

use esia_link::demo::browser::{Consent, ScriptedBrowser};
use openidconnect::PkceCodeChallenge;

use crate::apps::{
    apps_app, http, native_code, param, receiver, token, userinfo_status, WEB_REDIRECT, WEB_SECRET,
};
use crate::helpers::TestApp;

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The native app's code exchange with `verifier` at port `port`.
async fn exchange(
    app: &TestApp,
    code: &str,
    port: u16,
    verifier: &str,
) -> (u16, serde_json::Value) {
    let redirect = format!("http://127.0.0.1:{port}/callback");
    token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect),
            ("client_id", "diary-phone"),
            ("code_verifier", verifier),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn authorization_requests_are_refused_as_the_specs_say() {
    let (backchannel, _) = receiver().await;
    let app = apps_app(&backchannel).await;
    let browser = ScriptedBrowser::new();

    // A redirect URI the client did not register: our page, never a
    // redirect (it could be an attacker's).
    let foreign = browser
        .get(&format!(
            "{}/oauth2/authorize?response_type=code&client_id=diary-web&scope=openid&redirect_uri={}",
            app.base,
            encode("https://evil.example/callback")
        ))
        .await
        .expect("authorize");
    assert_eq!(
        (foreign.status.as_u16(), foreign.location.as_deref()),
        (400, None)
    );
    assert!(
        foreign.body.contains("Вход в приложение невозможен"),
        "{}",
        foreign.body
    );
    let unknown = browser
        .get(&format!(
            "{}/oauth2/authorize?response_type=code&client_id=nobody&scope=openid&redirect_uri={}&lang=en",
            app.base,
            encode(WEB_REDIRECT)
        ))
        .await
        .expect("authorize");
    assert_eq!(
        (unknown.status.as_u16(), unknown.location.as_deref()),
        (400, None)
    );
    assert!(
        unknown.body.contains("Cannot sign in to the app"),
        "{}",
        unknown.body
    );

    // A public client without PKCE, or with `plain`: an error redirect.
    let native = encode("http://127.0.0.1:4000/callback");
    for pkce in [
        "",
        "&code_challenge=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq&code_challenge_method=plain",
    ] {
        let answer = browser
            .get(&format!(
                "{}/oauth2/authorize?response_type=code&client_id=diary-phone&scope=openid&redirect_uri={native}&state=st{pkce}",
                app.base
            ))
            .await
            .expect("authorize");
        let location = answer.location.expect("an error redirect");
        assert!(
            location.starts_with("http://127.0.0.1:4000/callback?"),
            "{location}"
        );
        assert_eq!(
            param(&location, "error").as_deref(),
            Some("invalid_request"),
            "{location}"
        );
        assert_eq!(param(&location, "state").as_deref(), Some("st"));
        assert_eq!(param(&location, "iss").as_deref(), Some(app.base.as_str()));
    }

    // prompt=none without a session: login_required, to the app.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let silent = browser
        .get(&format!(
            "{}/oauth2/authorize?response_type=code&client_id=diary-phone&scope=openid&redirect_uri={native}&state=quiet&prompt=none&code_challenge={}&code_challenge_method=S256",
            app.base,
            challenge.as_str()
        ))
        .await
        .expect("authorize");
    let location = silent.location.expect("an error redirect");
    assert_eq!(
        param(&location, "error").as_deref(),
        Some("login_required"),
        "{location}"
    );
    assert_eq!(param(&location, "state").as_deref(), Some("quiet"));
}

#[tokio::test]
async fn codes_are_single_use_short_lived_and_bound_to_their_verifier() {
    let (backchannel, _) = receiver().await;
    let app = apps_app(&backchannel).await;
    let (browser, _) = app.login("esia", "ivanova", Consent::Allow).await;

    // A wrong verifier: invalid_grant, and the code is spent.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = native_code(&app, &browser, challenge.as_str(), 4001).await;
    let (_, other) = PkceCodeChallenge::new_random_sha256();
    let (status, wrong) = exchange(&app, &code, 4001, other.secret()).await;
    assert_eq!(
        (status, wrong["error"].as_str()),
        (400, Some("invalid_grant")),
        "{wrong}"
    );
    let (status, _) = exchange(&app, &code, 4001, verifier.secret()).await;
    assert_eq!(status, 400, "a code is tried once");

    // A replayed code: refused, and what its first use got is revoked.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = native_code(&app, &browser, challenge.as_str(), 4002).await;
    let (status, first) = exchange(&app, &code, 4002, verifier.secret()).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().expect("access");
    assert_eq!(userinfo_status(&app, access).await, 200);
    let (status, replay) = exchange(&app, &code, 4002, verifier.secret()).await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        userinfo_status(&app, access).await,
        401,
        "the replay revoked the first tokens"
    );

    // An expired code (60 s).
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = native_code(&app, &browser, challenge.as_str(), 4003).await;
    app.clock.advance(chrono::Duration::seconds(61));
    let (status, expired) = exchange(&app, &code, 4003, verifier.secret()).await;
    assert_eq!(
        (status, expired["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        expired["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("expired"),
        "{expired}"
    );
}

#[tokio::test]
async fn clients_must_prove_who_they_are_and_keep_to_their_own_tokens() {
    let (backchannel, _) = receiver().await;
    let app = apps_app(&backchannel).await;
    let (browser, _) = app.login("esia", "ivanova", Consent::Allow).await;

    // A wrong secret over Basic: 401, with the challenge.
    let answer = http()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth("diary-web", Some("not the secret"))
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .expect("token");
    assert_eq!(answer.status().as_u16(), 401);
    assert!(answer.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = answer.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_client");

    // The phone's refresh token presented by the web app: refused, and
    // the phone's grant carries on.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = native_code(&app, &browser, challenge.as_str(), 4004).await;
    let (_, tokens) = exchange(&app, &code, 4004, verifier.secret()).await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, foreign) = token(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        Some(("diary-web", WEB_SECRET)),
    )
    .await;
    assert_eq!(
        (status, foreign["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, own) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "diary-phone"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{own}");

    // Unknown grant types and missing parameters.
    let (status, odd) = token(
        &app,
        &[("grant_type", "password"), ("client_id", "diary-phone")],
        None,
    )
    .await;
    assert_eq!(
        (status, odd["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn guessing_at_the_token_endpoint_is_cut_off() {
    let (backchannel, _) = receiver().await;
    let app = apps_app(&backchannel).await;
    for attempt in 0..30 {
        let code = format!("guess-{attempt}");
        let (status, answer) = token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "diary-phone"),
                ("redirect_uri", "http://127.0.0.1:4000/callback"),
                (
                    "code_verifier",
                    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq",
                ),
            ],
            None,
        )
        .await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("invalid_grant"))
        );
    }
    let (status, answer) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", "guess-31"),
            ("client_id", "diary-phone"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 429, "{answer}");
}
