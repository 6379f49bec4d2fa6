//! The activation wizard over HTTP, as a browser without JavaScript drives
//! it: each step, each refusal (unknown, expired, reissued, used code; bad
//! contacts; weak or mismatched password; taken login; second login
//! change; guessing), resuming an abandoned wizard, the confirmation link.

use esia_link::app::school::CodeScope;
use esia_link::notify::FileOutbox;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{fill_form, spawn_app, TestApp};

/// A school with one pending parent (no login) and one pending pupil
/// (login `smirnov.oi`); returns the school and each one's code.
async fn school_with_codes(app: &TestApp) -> (Uuid, String, String) {
    let school = app
        .state
        .school()
        .create_school(29, "Школа № 9", "test")
        .await
        .expect("school");
    let csv = "key,role,surname,given_name,patronymic,birth_date,snils,class,children,login\n\
               p1,pupil,Смирнов,Олег,Ильич,2012-09-01,,6А,,smirnov.oi\n\
               m1,parent,Смирнова,Ольга,Петровна,1985-05-05,,,p1,\n";
    crate::helpers::import_csv(app, school.id, csv).await;
    let codes = issue(app, school.id).await;
    let code_of = |key: &str| {
        codes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| c.clone())
            .expect("a code per person")
    };
    (school.id, code_of("m1"), code_of("p1"))
}

async fn issue(app: &TestApp, school: Uuid) -> Vec<(String, String)> {
    let mut codes = Vec::new();
    app.state
        .school()
        .issue_codes(school, &CodeScope::default(), 30, "test", &mut |batch| {
            codes.extend(batch.iter().map(|c| {
                (
                    c.target.roster_key.clone().unwrap_or_default(),
                    c.code.to_string(),
                )
            }))
        })
        .await
        .expect("codes");
    codes
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

async fn get(client: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let response = client.get(url).send().await.expect("request");
    (response.status(), response.text().await.expect("body"))
}

/// Posts the step form found in `page` with `values`.
async fn post_step(
    app: &TestApp,
    client: &reqwest::Client,
    page: &str,
    values: &[(&str, &str)],
) -> (StatusCode, String) {
    let form = fill_form(page, "/activate/step", values);
    let response = client
        .post(format!("{}/activate/step", app.base))
        .form(&form)
        .send()
        .await
        .expect("request");
    (response.status(), response.text().await.expect("body"))
}

async fn open_code(app: &TestApp, client: &reqwest::Client, code: &str) -> (StatusCode, String) {
    get(client, &format!("{}/activate?code={code}", app.base)).await
}

#[tokio::test]
async fn the_wizard_from_code_to_active_account_with_every_refusal_on_the_way() {
    let app = spawn_app().await;
    let (_, parent_code, _) = school_with_codes(&app).await;
    let client = browser();

    // The code as typed on a Russian layout, lower case, other grouping.
    let typed = parent_code.to_lowercase().replace('-', " ");
    let (status, page) = open_code(&app, &client, &typed).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Смирнова Ольга Петровна"), "{page}");
    assert!(page.contains("Шаг 1 из 4"), "{page}");
    assert!(page.contains("Исправляет их школа"), "{page}");

    let (_, page) = post_step(&app, &client, &page, &[]).await;
    assert!(page.contains("id=\"email\""), "contacts step: {page}");

    let (status, refused) = post_step(
        &app,
        &client,
        &page,
        &[("email", "smirnova.mail.ru"), ("phone", "+7 912 345-67-89")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        refused.contains("Адрес электронной почты указан неверно"),
        "{refused}"
    );
    assert!(
        refused.contains("+7 912 345-67-89"),
        "the form keeps what was typed"
    );
    let (status, refused) = post_step(
        &app,
        &client,
        &page,
        &[("email", "smirnova@mail.ru"), ("phone", "+7 495 123-45-67")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(refused.contains("мобильного"), "{refused}");
    let (_, page) = post_step(
        &app,
        &client,
        &page,
        &[("email", "smirnova@mail.ru"), ("phone", "8 912 345 67 89")],
    )
    .await;
    assert!(page.contains("id=\"password\""), "password step: {page}");

    for (password, repeat, expected) in [
        ("короткий", "короткий", "не короче"),
        ("Смирнова2024!", "Смирнова2024!", "фамилию"),
        ("qwertyuiop", "qwertyuiop", "распространённых"),
        ("Ok-long-enough-9", "Ok-long-enough-8", "не совпадают"),
    ] {
        let (status, refused) = post_step(
            &app,
            &client,
            &page,
            &[("password", password), ("repeat", repeat)],
        )
        .await;
        assert_eq!(status, 422, "{password}");
        assert!(refused.contains(expected), "{password}: {refused}");
        assert!(!refused.contains(password), "a password is never echoed");
    }
    let (_, page) = post_step(
        &app,
        &client,
        &page,
        &[
            ("password", "тихий-ручей-под-ивой"),
            ("repeat", "тихий-ручей-под-ивой"),
        ],
    )
    .await;
    assert!(page.contains("id=\"new_login\""), "login step: {page}");
    // No login from the school: one is proposed, to keep or change; a
    // taken one is refused.
    assert!(page.contains("value=\"smirnova.op\""), "{page}");
    assert!(page.contains("id=\"login-proposed\""), "{page}");
    let (status, refused) = post_step(&app, &client, &page, &[("new_login", "Smirnov.OI")]).await;
    assert_eq!(status, 422);
    assert!(
        refused.contains("уже занят"),
        "case-insensitive uniqueness: {refused}"
    );

    let (status, done) = post_step(&app, &client, &page, &[("new_login", "Smirnova.OP")]).await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("s*****@mail.ru"), "{done}");
    let account = app
        .store
        .find_account_by_login("smirnova.op")
        .await
        .expect("query")
        .expect("the new login, lower case");
    assert_eq!(account.status, "pending", "active only after the e-mail");
    assert_eq!(account.phone.as_deref(), Some("+79123456789"));
    assert!(account.login_changed);

    // The code is consumed.
    let (status, used) = open_code(&app, &browser(), &parent_code).await;
    assert_eq!(status, 422);
    assert!(used.contains("уже использован"), "{used}");

    // The confirmation link from the outbox makes the account active, once.
    let mail = FileOutbox::read(&app.outbox_dir);
    assert_eq!(mail.len(), 1, "one message");
    let link = mail[0]
        .body
        .split_whitespace()
        .find(|w| w.contains("/activate/confirm?token="))
        .expect("a link")
        .to_string();
    let (status, page) = get(&client, &link).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"wizard-confirmed\""));
    let account = app.store.get_account(account.id).await.expect("account");
    assert_eq!(
        (account.status.as_str(), account.email_verified),
        ("active", true)
    );
    let (status, _) = get(&client, &link).await;
    assert_eq!(status, 410, "a link works once");

    let audit: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE target_id = '{}' AND action IN ('account.credentials_set', 'account.email_confirmed')",
        account.id
    ))
    .fetch_one(app.store.pool())
    .await
    .expect("audit");
    assert_eq!(audit, 2);
}

#[tokio::test]
async fn an_abandoned_wizard_resumes_with_the_same_code() {
    let app = spawn_app().await;
    let (_, _, pupil_code) = school_with_codes(&app).await;
    let first = browser();
    let (_, page) = open_code(&app, &first, &pupil_code).await;
    let (_, page) = post_step(&app, &first, &page, &[]).await;
    post_step(
        &app,
        &first,
        &page,
        &[("email", "oleg@mail.ru"), ("phone", "+79001112233")],
    )
    .await;
    // Another device, days later: the same code lands on the password step
    // with the answers kept.
    let second = browser();
    let (_, page) = open_code(&app, &second, &pupil_code).await;
    assert!(page.contains("id=\"password\""), "{page}");
    assert!(page.contains("Шаг 3 из 4"), "{page}");
    let (_, page) = post_step(
        &app,
        &second,
        &page,
        &[
            ("password", "зелёная-лампа-1999"),
            ("repeat", "зелёная-лампа-1999"),
        ],
    )
    .await;
    // The pupil keeps the login the school gave.
    assert!(page.contains("smirnov.oi"), "{page}");
    let (status, done) = post_step(&app, &second, &page, &[]).await;
    assert_eq!(status, 200, "{done}");
    let account = app
        .store
        .find_account_by_login("smirnov.oi")
        .await
        .expect("query")
        .expect("account");
    assert!(!account.login_changed);
    assert_eq!(account.email.as_deref(), Some("oleg@mail.ru"));
}

#[tokio::test]
async fn unknown_expired_reissued_and_guessed_codes_are_refused_clearly() {
    let app = spawn_app().await;
    let (school, parent_code, pupil_code) = school_with_codes(&app).await;
    let client = browser();
    let (status, page) = open_code(&app, &client, "0000-0000-0000").await;
    assert_eq!(status, 422);
    assert!(page.contains("Такого кода нет"), "{page}");
    let (status, page) = open_code(&app, &client, "12345").await;
    assert_eq!(status, 422);
    assert!(page.contains("12 символов"), "{page}");

    // Reissued: the old sheet no longer works, and says why.
    let fresh = issue(&app, school).await;
    let (_, page) = open_code(&app, &client, &parent_code).await;
    assert!(page.contains("новый код"), "{page}");
    let (_, new_pupil_code) = fresh.iter().find(|(k, _)| k == "p1").expect("p1").clone();
    assert_ne!(new_pupil_code, pupil_code);

    // Expired.
    sqlx::query(
        "UPDATE activation_codes SET expires_at = 0 WHERE used_at IS NULL AND revoked_at IS NULL",
    )
    .execute(app.store.pool())
    .await
    .expect("expire");
    let (_, page) = open_code(&app, &client, &new_pupil_code).await;
    assert!(page.contains("Срок действия кода истёк"), "{page}");

    // Guessing from one address hits the limit (10 a minute by default).
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = open_code(&app, &client, "ZZZZ-ZZZZ-ZZZZ").await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_login_changes_only_once() {
    let app = spawn_app().await;
    let (_, _, pupil_code) = school_with_codes(&app).await;
    sqlx::query("UPDATE accounts SET login_changed = 1 WHERE login = 'smirnov.oi'")
        .execute(app.store.pool())
        .await
        .expect("mark");
    let client = browser();
    let (_, page) = open_code(&app, &client, &pupil_code).await;
    let (_, page) = post_step(&app, &client, &page, &[]).await;
    let (_, page) = post_step(
        &app,
        &client,
        &page,
        &[("email", "oleg@mail.ru"), ("phone", "+79001112233")],
    )
    .await;
    let (_, page) = post_step(
        &app,
        &client,
        &page,
        &[
            ("password", "зелёная-лампа-1999"),
            ("repeat", "зелёная-лампа-1999"),
        ],
    )
    .await;
    assert!(
        !page.contains("id=\"new_login\""),
        "no field to change it again: {page}"
    );
    let form = fill_form(&page, "/activate/step", &[("new_login", "oleg.new")]);
    let response = client
        .post(format!("{}/activate/step", app.base))
        .form(&form)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 422);
    let body = response.text().await.expect("body");
    assert!(body.contains("только один раз"), "{body}");
}

/// Walks a wizard from the code to its login step.
async fn to_login_step(app: &TestApp, client: &reqwest::Client, code: &str) -> String {
    let (_, page) = open_code(app, client, code).await;
    let (_, page) = post_step(app, client, &page, &[]).await;
    let (_, page) = post_step(
        app,
        client,
        &page,
        &[("email", "olga@mail.ru"), ("phone", "+7 912 345-67-89")],
    )
    .await;
    let (_, page) = post_step(
        app,
        client,
        &page,
        &[
            ("password", "тихий-ручей-под-ивой"),
            ("repeat", "тихий-ручей-под-ивой"),
        ],
    )
    .await;
    page
}

#[tokio::test]
async fn a_login_left_empty_keeps_the_proposed_one_made_unique() {
    let app = spawn_app().await;
    let school = app
        .state
        .school()
        .create_school(29, "Школа № 9", "test")
        .await
        .expect("school");
    // The proposal for Смирнова Ольга Петровна is held by someone else.
    let csv = "key,role,surname,given_name,patronymic,birth_date,snils,class,children,login\n\
               p1,pupil,Смирнов,Олег,Ильич,2012-09-01,,6А,,smirnova.op\n\
               m1,parent,Смирнова,Ольга,Петровна,1985-05-05,,,p1,\n";
    crate::helpers::import_csv(&app, school.id, csv).await;
    let codes = issue(&app, school.id).await;
    let code = codes
        .iter()
        .find(|(key, _)| key == "m1")
        .map(|(_, c)| c.clone())
        .expect("the parent's code");
    let client = browser();
    let page = to_login_step(&app, &client, &code).await;
    assert!(page.contains("value=\"smirnova.op2\""), "{page}");
    let (status, done) = post_step(&app, &client, &page, &[("new_login", "")]).await;
    assert_eq!(status, 200, "the empty field takes the proposal: {done}");
    let account = app
        .store
        .find_account_by_login("smirnova.op2")
        .await
        .expect("query")
        .expect("the proposed login");
    assert_eq!(account.surname, "Смирнова");
}
