//! An operator locks (blocks) an account and unlocks it (#28): a reason
//! and an operator role are required, the lock ends the person's sessions
//! and their apps' grants (back-channel logout), no way in works while it
//! lasts (State Services, password, activation code), and an unlock puts
//! the account back as it was. Each change is audited.

use esia_link::app::console::actions::Operator;
use esia_link::app::shared::OperatorRole;
use esia_link::demo::browser::{Consent, ScriptedBrowser};
use reqwest::StatusCode;

use crate::apps::{apps_app, jwt_part, receiver, wait_for_a_delivery, web_tokens, LOGOUT_EVENT};
use crate::credentials::{post, with_password, PASSWORD};
use crate::helpers::{audit_count, csrf_token, demo_account, fill_form, spawn_app, TestApp};

const REASON: &str = "the parent reported a stolen phone";

/// A password login in a fresh browser: (status, where to, page).
async fn password_login(app: &TestApp, login: &str) -> (StatusCode, Option<String>, String) {
    post(
        app,
        &ScriptedBrowser::new(),
        "/login/password",
        login,
        PASSWORD,
    )
    .await
}

/// Whether the session behind `browser`'s cookie is alive.
async fn signed_in(app: &TestApp, browser: &ScriptedBrowser) -> bool {
    let Some(cookie) = browser.cookie(&app.base, "el_session") else {
        return false;
    };
    app.state.account().session(Some(&cookie)).await.is_ok()
}

/// The operator posts the console's `action` form for the lookup `q`.
async fn post_console_form(
    app: &TestApp,
    operator: &ScriptedBrowser,
    q: &str,
    action: &str,
    reason: &str,
) -> esia_link::demo::browser::Hop {
    let page = operator
        .get(&format!("{}/ops?q={q}&lang=en", app.base))
        .await
        .expect("ops");
    assert!(page.body.contains(action), "{}", page.body);
    operator
        .post_form(
            &format!("{}{action}?lang=en", app.base),
            &fill_form(&page.body, action, &[("reason", reason)]),
        )
        .await
        .expect("post")
}

/// Unlocks `login`'s account through the console and checks the status
/// it returns to.
async fn unlock(
    app: &TestApp,
    operator: &ScriptedBrowser,
    login: &str,
    account: uuid::Uuid,
    status: &str,
) {
    let unlocked = post_console_form(
        app,
        operator,
        login,
        "/ops/unlock",
        "the school confirmed it",
    )
    .await;
    assert_eq!(unlocked.status, StatusCode::SEE_OTHER, "{}", unlocked.body);
    assert_eq!(app.store.get_account(account).await.unwrap().status, status);
}

#[tokio::test]
async fn a_locked_account_has_no_way_in_until_it_is_unlocked() {
    let app = spawn_app().await;
    with_password(&app, "ivanova.mp").await;
    let ivanova = demo_account(&app, "ivanova.mp").await;
    let (person, _) = app.login("esia", "ivanova", Consent::Allow).await;
    assert!(signed_in(&app, &person).await, "logged in before the lock");

    // No reason: back to the form, the error beside it, nothing changed.
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let refused = post_console_form(&app, &operator, "ivanova.mp", "/ops/lock", "  ").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"lock-reason-error\""),
        "{}",
        refused.body
    );
    assert_eq!(
        app.store.get_account(ivanova.id).await.unwrap().status,
        "active"
    );
    assert!(signed_in(&app, &person).await);

    let locked = post_console_form(&app, &operator, "ivanova.mp", "/ops/lock", REASON).await;
    assert_eq!(locked.status, StatusCode::SEE_OTHER, "{}", locked.body);
    assert!(locked
        .location
        .as_deref()
        .unwrap_or("")
        .contains("done=locked"));
    assert_eq!(
        app.store.get_account(ivanova.id).await.unwrap().status,
        "blocked"
    );
    assert!(
        !signed_in(&app, &person).await,
        "the lock ended the session"
    );
    assert_eq!(
        audit_count(&app, "account.locked", &ivanova.id.to_string()).await,
        1
    );

    // The console says so, with the reason, and offers the unlock.
    let card = operator
        .get(&format!("{}/ops?q=ivanova.mp&lang=en", app.base))
        .await
        .expect("ops");
    assert!(
        card.body.contains("The account is blocked"),
        "{}",
        card.body
    );
    assert!(card.body.contains(REASON), "{}", card.body);
    // Who: the operator's login and masked name, not an id.
    assert!(card.body.contains("by: kravtsova.ea (К"), "{}", card.body);
    assert!(card.body.contains("/ops/unlock") && !card.body.contains("/ops/lock\""));
    let ru = operator
        .get(&format!("{}/ops?q=ivanova.mp&lang=ru", app.base))
        .await
        .expect("ops");
    assert!(
        ru.body.contains("Учётная запись заблокирована"),
        "{}",
        ru.body
    );
    assert!(ru.body.contains("Разблокировать"), "{}", ru.body);

    // State Services: the blocked page, no session.
    let (again, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("account_blocked"), "{run:?}");
    let page = run.outcome_page.as_ref().expect("the outcome page");
    assert!(
        page.body.contains("Учётная запись заблокирована"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("назовите код обращения"),
        "{}",
        page.body
    );
    assert!(
        !signed_in(&app, &again).await,
        "no session for a blocked account"
    );

    // The password: refused.
    let (status, location, body) = password_login(&app, "ivanova.mp").await;
    assert!(location.is_none(), "{status} {location:?}");
    assert!(
        body.contains("Учётная запись заблокирована"),
        "{status}: {body}"
    );

    // Unlocked: back to active, and both ways in work again.
    unlock(&app, &operator, "ivanova.mp", ivanova.id, "active").await;
    assert_eq!(
        audit_count(&app, "account.unlocked", &ivanova.id.to_string()).await,
        1
    );
    let (back, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert!(signed_in(&app, &back).await, "{run:?}");
    let (status, location, body) = password_login(&app, "ivanova.mp").await;
    assert!(location.is_some(), "{status}: {body}");
}

#[tokio::test]
async fn only_an_operator_locks_an_account() {
    let app = spawn_app().await;
    let ivanova = demo_account(&app, "ivanova.mp").await;
    let (person, _) = app.login("esia", "ivanova", Consent::Allow).await;
    let csrf = csrf_token(&app, &person).await;
    let form = [
        ("csrf".to_string(), csrf),
        ("account".to_string(), ivanova.id.to_string()),
        ("reason".to_string(), REASON.to_string()),
        ("q".to_string(), "ivanova.mp".to_string()),
    ];
    let refused = person
        .post_form(&format!("{}/ops/lock?lang=en", app.base), &form)
        .await
        .expect("post");
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_ne!(
        app.store.get_account(ivanova.id).await.unwrap().status,
        "blocked"
    );
    assert_eq!(
        audit_count(&app, "account.locked", &ivanova.id.to_string()).await,
        0
    );

    // The use case itself wants a reason too.
    let operator = Operator {
        actor: "operator:test".into(),
        role: OperatorRole::Support,
        csrf: String::new(),
    };
    let no_reason = app
        .state
        .console()
        .lock_account(&operator, ivanova.id, "  ")
        .await;
    assert!(
        matches!(no_reason, Err(esia_link::app::AppError::ReasonRequired)),
        "{no_reason:?}"
    );

    // An operator cannot lock their own account: the form says so and
    // nothing changes.
    let me = demo_account(&app, "kravtsova.ea").await;
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let own = post_console_form(&app, &operator, "kravtsova.ea", "/ops/lock", REASON).await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", own.body);
    assert!(
        own.body.contains("You cannot block your own account"),
        "{}",
        own.body
    );
    assert_ne!(
        app.store.get_account(me.id).await.unwrap().status,
        "blocked"
    );
    assert!(
        signed_in(&app, &operator).await,
        "the operator's session lives"
    );
}

#[tokio::test]
async fn an_activation_code_does_not_work_while_the_account_is_locked() {
    let app = spawn_app().await;
    let fedorov = demo_account(&app, "fedorov.pi").await;
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let reset = post_console_form(
        &app,
        &operator,
        "fedorov.pi",
        "/ops/reset-activation",
        "lost the invitation sheet",
    )
    .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let code = reset
        .body
        .split_whitespace()
        .find(|w| w.len() == 15 && w.matches('-').count() == 2)
        .map(|w| w.trim_end_matches('.'))
        .expect("the new code is shown")
        .to_string();
    let locked = post_console_form(&app, &operator, "fedorov.pi", "/ops/lock", REASON).await;
    assert_eq!(locked.status, StatusCode::SEE_OTHER, "{}", locked.body);

    let wizard = ScriptedBrowser::new()
        .get(&format!("{}/activate?code={code}&lang=en", app.base))
        .await
        .expect("wizard");
    assert!(
        wizard
            .body
            .contains("The account is blocked, so the code does not work now"),
        "{}",
        wizard.body
    );

    // Unlocked: pending again, as before the lock, and the code works.
    unlock(&app, &operator, "fedorov.pi", fedorov.id, "pending").await;
    let browser = ScriptedBrowser::new();
    let opened = browser
        .get(&format!("{}/activate?code={code}&lang=en", app.base))
        .await
        .expect("wizard");
    let step = opened.location.expect("on to the wizard's first step");
    let wizard = browser
        .get(&format!("{}{step}", app.base))
        .await
        .expect("wizard");
    assert!(wizard.body.contains("Федоров"), "{}", wizard.body);
}

#[tokio::test]
async fn a_lock_sends_the_apps_a_back_channel_logout() {
    let (backchannel, received) = receiver().await;
    let app = apps_app(&backchannel).await;
    let browser = ScriptedBrowser::new();
    let tokens = web_tokens(&app, &browser).await;
    let id_claims = jwt_part(tokens["id_token"].as_str().expect("ID token"), 1);
    let ivanova = demo_account(&app, "ivanova.mp").await;

    let operator = Operator {
        actor: "operator:test".into(),
        role: OperatorRole::Support,
        csrf: String::new(),
    };
    app.state
        .console()
        .lock_account(&operator, ivanova.id, REASON)
        .await
        .expect("lock");

    wait_for_a_delivery(&received).await;
    let sent = received.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1, "one delivery");
    let logout = jwt_part(&sent[0], 1);
    assert_eq!(logout["aud"], "diary-web");
    assert_eq!(logout["sub"], id_claims["sub"]);
    assert_eq!(logout["sid"], id_claims["sid"]);
    assert!(logout["events"][LOGOUT_EVENT].is_object(), "{logout}");
    assert!(!signed_in(&app, &browser).await);
    assert_eq!(app.store.logout_deliveries_owed().await.expect("owed"), 0);
}

/// `/api/v1/access` with a school token: (allowed, reason).
async fn access(app: &TestApp, token: &str, viewer: uuid::Uuid) -> (bool, Option<String>) {
    let answer: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/access?viewer={viewer}&pupil={viewer}&service=diary",
            app.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    (
        answer["allowed"].as_bool().unwrap_or(false),
        answer["reason"].as_str().map(str::to_string),
    )
}

#[tokio::test]
async fn the_access_check_refuses_a_locked_viewer() {
    let app = spawn_app().await;
    let volkova = demo_account(&app, "volkova.ad").await;
    let token = app
        .state
        .school()
        .create_school_token(volkova.school_id.expect("school"), "diary", "test")
        .await
        .expect("token");
    // Cached as allowed first: the lock must drop it.
    assert_eq!(access(&app, &token, volkova.id).await, (true, None));

    let operator = Operator {
        actor: "operator:test".into(),
        role: OperatorRole::Support,
        csrf: String::new(),
    };
    let console = app.state.console();
    console
        .lock_account(&operator, volkova.id, REASON)
        .await
        .expect("lock");
    assert_eq!(
        access(&app, &token, volkova.id).await,
        (false, Some("viewer_blocked".into()))
    );
    console
        .unlock_account(&operator, volkova.id, "the phone was found")
        .await
        .expect("unlock");
    assert_eq!(access(&app, &token, volkova.id).await, (true, None));
}

#[tokio::test]
async fn a_locked_trusted_person_is_not_let_in_by_their_invitation() {
    use crate::family::{invite_fields, parent_with_confirmed_child, post, LEBEDEV_SNILS};

    let app = spawn_app().await;
    let (ivanova, _, child) = parent_with_confirmed_child(&app).await;
    let csrf = csrf_token(&app, &ivanova).await;
    let (status, _, body) = post(
        &app,
        &ivanova,
        "/family/invitations",
        &invite_fields(&csrf, child, "Лебедев", LEBEDEV_SNILS, &["diary"]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    // The first login makes the trusted person's account.
    let (first, run) = app.login("esia", "lebedev", Consent::Allow).await;
    assert!(signed_in(&app, &first).await, "{run:?}");
    let lebedev: String = sqlx::query_scalar("SELECT id FROM accounts WHERE role = 'trusted'")
        .fetch_one(app.store.pool())
        .await
        .expect("the trusted account");
    let lebedev = uuid::Uuid::parse_str(&lebedev).expect("id");

    let operator = Operator {
        actor: "operator:test".into(),
        role: OperatorRole::Support,
        csrf: String::new(),
    };
    app.state
        .console()
        .lock_account(&operator, lebedev, REASON)
        .await
        .expect("lock");
    assert!(!signed_in(&app, &first).await, "the lock ended the session");
    let (again, run) = app.login("esia", "lebedev", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("account_blocked"), "{run:?}");
    assert!(!signed_in(&app, &again).await);
}
