//! The demo diary app (#28) walked as a person does: its page, its sign-in
//! button, State Services at the mock IdP, back to the app, which lists what
//! the token lets it see; then its logout, which ends the esia-link session.

use esia_link::demo::browser::ScriptedBrowser;
use esia_link::demo::diary_app;

use crate::apps::{href_of, param};
use crate::helpers::{spawn_app_with, AppOptions};

#[tokio::test]
async fn the_demo_diary_app_signs_in_through_esia_link_and_shows_what_the_token_allows() {
    let app_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let app_url = format!("http://{}", app_listener.local_addr().expect("addr"));
    let registered = app_url.clone();
    let service = spawn_app_with(AppOptions {
        configure: Some(Box::new(move |config| {
            diary_app::register(config, &registered);
        })),
        ..AppOptions::default()
    })
    .await;
    diary_app::spawn(app_listener, &service.base).expect("the demo app starts");

    let browser = ScriptedBrowser::new();
    let home = browser.get(&format!("{app_url}/")).await.expect("the app");
    let sign_in = href_of(&home.body, "sign-in").expect("a sign-in link");
    let to_provider = browser
        .get(&format!("{app_url}{sign_in}"))
        .await
        .expect("login");
    let authorize = to_provider.location.expect("to esia-link");
    assert!(
        authorize.starts_with(&format!("{}/oauth2/authorize?", service.base)),
        "{authorize}"
    );
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );

    // At esia-link: the login page, the region, State Services.
    let login_page = browser.get(&authorize).await.expect("authorize");
    let login_page = login_page.location.expect("to the login page");
    let region = browser
        .get(&format!("{}{login_page}&region=29", service.base))
        .await
        .expect("login page");
    assert!(
        region.body.contains("Войти через Госуслуги"),
        "{}",
        region.body
    );
    let start = href_of(&region.body, "login-esia").expect("the State Services button");
    let run = browser
        .login(
            &service.base,
            &format!("{}{start}", service.base),
            "ivanova",
            "demo",
            esia_link::demo::browser::Consent::Allow,
        )
        .await
        .expect("State Services");
    let back = run.landed_at().expect("back").to_string();
    let to_app = browser
        .get(&format!("{}{back}", service.base))
        .await
        .expect("continue")
        .location
        .expect("to the app");
    assert!(
        to_app.starts_with(&format!("{app_url}/callback?")),
        "{to_app}"
    );
    let signed = browser.get(&to_app).await.expect("callback");
    assert_eq!(signed.status, 302, "{}", signed.body);
    let page = browser.get(&format!("{app_url}/")).await.expect("the app");
    assert!(
        page.body.contains("Вы вошли как Иванова Мария"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("urn:esia-link:acr:esia:"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("id=\"pupils\"") || page.body.contains("id=\"no-pupils\""),
        "{}",
        page.body
    );

    // The app's logout goes through esia-link (its ID token names the
    // session, so nobody is asked) and comes back signed out of both.
    let sign_out = href_of(&page.body, "sign-out").expect("a sign-out link");
    let to_logout = browser
        .get(&format!("{app_url}{sign_out}"))
        .await
        .expect("logout")
        .location
        .expect("to esia-link");
    let bye = browser.get(&to_logout).await.expect("esia-link logout");
    assert_eq!(
        bye.location.as_deref(),
        Some(format!("{app_url}/").as_str())
    );
    let account = browser
        .get(&format!("{}/account", service.base))
        .await
        .expect("account");
    assert_ne!(account.status, 200, "the esia-link session ended too");
}
