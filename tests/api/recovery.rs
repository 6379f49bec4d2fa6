//! Account recovery (#9): a forgotten password by a one-time link to the
//! confirmed e-mail (works once, ends every session, expires), a forgotten
//! login sent only when the birth date matches, answers that never tell
//! whether an account exists, a parent setting a confirmed child's password
//! (others get 403), and the limits per address and per account.
//!
//! Mail goes out after the answer, so tests wait for the outbox to reach a
//! count; "nothing else was sent" is asserted after a later mail arrived.

use std::time::Duration;

use esia_link::demo::browser::ScriptedBrowser;
use esia_link::notify::{FileOutbox, Recipient, StoredMessage};
use reqwest::StatusCode;
use secrecy::SecretString;
use uuid::Uuid;

use crate::helpers::{csrf_token, demo_account, fill_form, spawn_app, TestApp};

const PASSWORD: &str = "синий-кит-2024-лето";
const NEW_PASSWORD: &str = "зелёный-трамвай-на-закате";

/// Gives the demo account `login` a password and an e-mail (confirmed or
/// not) and makes it active, as the activation wizard would have.
async fn with_email(app: &TestApp, login: &str, email: &str, confirmed: bool) {
    let hash = esia_link::app::account::password::hash(SecretString::from(PASSWORD))
        .await
        .expect("hash");
    sqlx::query(
        "UPDATE accounts SET password_hash = $1, status = 'active', email = $2, email_verified = $3 WHERE login = $4",
    )
    .bind(hash)
    .bind(email)
    .bind(i64::from(confirmed))
    .bind(login)
    .execute(app.store.pool())
    .await
    .expect("set password and e-mail");
}

/// Posts a form to `path`: (status, body).
async fn post(
    app: &TestApp,
    browser: &ScriptedBrowser,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let hop = browser
        .post_form(&format!("{}{path}", app.base), &fields)
        .await
        .expect("post");
    (hop.status, hop.body)
}

async fn get(app: &TestApp, browser: &ScriptedBrowser, path: &str) -> (StatusCode, String) {
    let hop = browser
        .get(&format!("{}{path}", app.base))
        .await
        .expect("get");
    (hop.status, hop.body)
}

/// Logs in by password in a new browser; panics unless it lands on /account.
async fn logged_in(app: &TestApp, login: &str, password: &str) -> ScriptedBrowser {
    let browser = ScriptedBrowser::new();
    let hop = browser
        .post_form(
            &format!("{}/login/password", app.base),
            &[
                ("login".into(), login.into()),
                ("password".into(), password.into()),
            ],
        )
        .await
        .expect("login");
    assert_eq!(
        (hop.status, hop.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/account")),
        "{login}: {}",
        hop.body
    );
    browser
}

/// Whether `password` logs `login` in.
async fn password_works(app: &TestApp, login: &str, password: &str) -> bool {
    let (status, _) = post(
        app,
        &ScriptedBrowser::new(),
        "/login/password",
        &[("login", login), ("password", password)],
    )
    .await;
    status == StatusCode::SEE_OTHER
}

/// Whether the browser's session is still alive.
async fn session_alive(app: &TestApp, browser: &ScriptedBrowser) -> bool {
    get(app, browser, "/account").await.0 == StatusCode::OK
}

/// Waits (bounded) until the outbox holds `count` messages.
async fn mails(app: &TestApp, count: usize) -> Vec<StoredMessage> {
    for _ in 0..400 {
        let sent = FileOutbox::read(&app.outbox_dir);
        if sent.len() >= count {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "expected {count} messages, the outbox has {:?}",
        FileOutbox::read(&app.outbox_dir)
    );
}

/// The path and query of the reset link in a message.
fn reset_path(message: &StoredMessage) -> String {
    let at = message
        .body
        .find("/recover/reset?token=")
        .unwrap_or_else(|| panic!("a reset link in {}", message.body));
    message.body[at..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn token_of(path: &str) -> String {
    path.split("token=").nth(1).unwrap_or_default().to_string()
}

async fn audit_rows(app: &TestApp, action: &str, target: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = $1 AND target_id = $2 ORDER BY id",
    )
    .bind(action)
    .bind(target.to_string())
    .fetch_all(app.store.pool())
    .await
    .expect("audit")
}

async fn reset_tokens(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM email_tokens WHERE purpose = 'reset_password'")
        .fetch_one(app.store.pool())
        .await
        .expect("count tokens")
}

/// Asks for a reset link for `who` and returns the link's path once mailed
/// (the `nth` message of the outbox, from 1).
async fn reset_link_for(app: &TestApp, who: &str, nth: usize) -> String {
    let (status, body) = post(
        app,
        &ScriptedBrowser::new(),
        "/recover/password",
        &[("who", who)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sent = mails(app, nth).await;
    reset_path(&sent[nth - 1])
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let app = spawn_app().await;
    with_email(&app, "ivanova.mp", "ivanova@mail.ru", true).await;
    let ivanova = demo_account(&app, "ivanova.mp").await;
    let laptop = logged_in(&app, "ivanova.mp", PASSWORD).await;
    let phone = logged_in(&app, "ivanova.mp", PASSWORD).await;
    // Someone guessing has locked the login for a while.
    for _ in 0..5 {
        assert!(!password_works(&app, "ivanova.mp", "wrong-password-1").await);
    }
    let (status, _) = post(
        &app,
        &ScriptedBrowser::new(),
        "/login/password",
        &[("login", "ivanova.mp"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    let browser = ScriptedBrowser::new();
    let (status, form) = get(&app, &browser, "/recover/password").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Логин или электронная почта"), "{form}");
    let (status, answer) = post(
        &app,
        &browser,
        "/recover/password",
        &[("who", " Ivanova.MP ")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer.contains("мы отправили"), "{answer}");

    let sent = mails(&app, 1).await;
    assert_eq!(sent[0].kind, "reset_password");
    assert_eq!(sent[0].to, Recipient::Email("ivanova@mail.ru".into()));
    assert!(sent[0].body.contains("ivanova.mp"), "{}", sent[0].body);
    let link = reset_path(&sent[0]);
    // Only the token's keyed hash is stored.
    let in_clear: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM email_tokens WHERE token_hash = $1")
            .bind(token_of(&link))
            .fetch_one(app.store.pool())
            .await
            .expect("count");
    assert_eq!((in_clear, reset_tokens(&app).await), (0, 1));

    let (status, page) = get(&app, &browser, &link).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("ivanova.mp"), "names the login: {page}");
    let fields = fill_form(
        &page,
        "/recover/reset",
        &[("password", NEW_PASSWORD), ("repeat", NEW_PASSWORD)],
    );
    let hop = browser
        .post_form(&format!("{}/recover/reset", app.base), &fields)
        .await
        .expect("post");
    assert_eq!(hop.status, StatusCode::OK, "{}", hop.body);
    assert!(hop.body.contains("Пароль изменён"), "{}", hop.body);

    assert!(
        !session_alive(&app, &laptop).await,
        "the laptop is logged out"
    );
    assert!(
        !session_alive(&app, &phone).await,
        "the phone is logged out"
    );
    assert!(
        password_works(&app, "ivanova.mp", NEW_PASSWORD).await,
        "the new password works at once: the lockout is over"
    );
    assert!(!password_works(&app, "ivanova.mp", PASSWORD).await);
    assert_eq!(
        audit_rows(&app, "account.password_reset", ivanova.id).await,
        vec![format!("account:{}", ivanova.id)]
    );

    // Once: the page and the form both refuse the used link.
    let (status, page) = get(&app, &browser, &link).await;
    assert_eq!(status, StatusCode::GONE, "{page}");
    assert!(page.contains("Ссылка не действует"), "{page}");
    let (status, _) = post(
        &app,
        &browser,
        "/recover/reset",
        &[
            ("token", &token_of(&link)),
            ("password", "ещё-один-пароль-2025"),
            ("repeat", "ещё-один-пароль-2025"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(password_works(&app, "ivanova.mp", NEW_PASSWORD).await);
}

#[tokio::test]
async fn an_expired_or_unknown_link_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    with_email(&app, "ivanova.mp", "ivanova@mail.ru", true).await;
    let link = reset_link_for(&app, "ivanova@mail.ru", 1).await;
    sqlx::query("UPDATE email_tokens SET expires_at = 1 WHERE purpose = 'reset_password'")
        .execute(app.store.pool())
        .await
        .expect("expire");
    let browser = ScriptedBrowser::new();
    for path in [
        link.clone(),
        "/recover/reset?token=not-a-token".into(),
        "/recover/reset".into(),
    ] {
        let (status, page) = get(&app, &browser, &path).await;
        assert_eq!(status, StatusCode::GONE, "{path}: {page}");
        assert!(!page.contains("name=\"password\""), "no form: {page}");
    }
    let (status, _) = post(
        &app,
        &browser,
        "/recover/reset",
        &[
            ("token", &token_of(&link)),
            ("password", NEW_PASSWORD),
            ("repeat", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(password_works(&app, "ivanova.mp", PASSWORD).await);
}

#[tokio::test]
async fn unknown_accounts_and_unconfirmed_emails_get_the_same_page_and_no_mail() {
    let app = spawn_app().await;
    with_email(&app, "ivanova.mp", "ivanova@mail.ru", true).await;
    with_email(&app, "fedorov.pi", "fedorov@mail.ru", false).await;
    let browser = ScriptedBrowser::new();
    let mut answers = Vec::new();
    for who in [
        "nobody.here",
        "fedorov.pi",
        "fedorov@mail.ru",
        "nobody@mail.ru",
        "not@an@address",
        "ivanova.mp",
    ] {
        let (status, page) = post(&app, &browser, "/recover/password", &[("who", who)]).await;
        answers.push((status, page));
    }
    for (status, page) in &answers {
        assert_eq!(*status, StatusCode::OK);
        assert_eq!(page, &answers[0].1, "every answer reads the same");
    }
    // The only match's mail arrives; nothing was sent for the others.
    let sent = mails(&app, 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, Recipient::Email("ivanova@mail.ru".into()));
    assert_eq!(reset_tokens(&app).await, 1);

    // In English too, and the login form the same way.
    let (status, page) = post(
        &app,
        &browser,
        "/recover/password?lang=en",
        &[("who", "nobody.here")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("If an account with a confirmed e-mail matches"),
        "{page}"
    );
    let (_, unknown) = post(
        &app,
        &browser,
        "/recover/login",
        &[("email", "nobody@mail.ru"), ("birth_date", "1979-09-30")],
    )
    .await;
    let (_, unconfirmed) = post(
        &app,
        &browser,
        "/recover/login",
        &[("email", "fedorov@mail.ru"), ("birth_date", "1979-09-30")],
    )
    .await;
    assert_eq!(unknown, unconfirmed);
    assert!(unknown.contains("recover-answer"), "{unknown}");
}

#[tokio::test]
async fn a_forgotten_login_is_sent_only_when_the_birth_date_matches() {
    let app = spawn_app().await;
    with_email(&app, "ivanova.mp", "ivanova@mail.ru", true).await;
    with_email(&app, "fedorov.pi", "fedorov@mail.ru", true).await;
    let (status, form) = get(&app, &ScriptedBrowser::new(), "/recover/login?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Date of birth"), "{form}");
    let browser = ScriptedBrowser::new();

    let (status, wrong_date) = post(
        &app,
        &browser,
        "/recover/login",
        &[("email", "ivanova@mail.ru"), ("birth_date", "13.04.1985")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, right_date) = post(
        &app,
        &browser,
        "/recover/login",
        &[("email", "ivanova@mail.ru"), ("birth_date", "12.04.1985")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wrong_date, right_date, "the answer does not tell");
    // A second account's reminder proves the wrong date sent nothing.
    post(
        &app,
        &browser,
        "/recover/login",
        &[("email", "fedorov@mail.ru"), ("birth_date", "1979-09-30")],
    )
    .await;
    let sent = mails(&app, 2).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    let to_ivanova: Vec<&StoredMessage> = sent
        .iter()
        .filter(|m| m.to == Recipient::Email("ivanova@mail.ru".into()))
        .collect();
    assert_eq!(to_ivanova.len(), 1);
    assert_eq!(to_ivanova[0].kind, "recover_login");
    assert!(to_ivanova[0].body.contains("ivanova.mp"));

    // A date that does not parse is a form error, not an answer.
    let (status, page) = post(
        &app,
        &browser,
        "/recover/login",
        &[("email", "ivanova@mail.ru"), ("birth_date", "April 12")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("ДД.ММ.ГГГГ"), "{page}");
}

#[tokio::test]
async fn a_weak_or_mistyped_new_password_is_refused_and_the_link_keeps_working() {
    let app = spawn_app().await;
    with_email(&app, "ivanova.mp", "ivanova@mail.ru", true).await;
    let link = reset_link_for(&app, "ivanova.mp", 1).await;
    let token = token_of(&link);
    let browser = ScriptedBrowser::new();
    for (password, repeat, expected) in [
        ("короткий", "короткий", "не короче"),
        ("ivanova.mp-2024-лето", "ivanova.mp-2024-лето", "логин"),
        (NEW_PASSWORD, "другой-пароль-совсем", "не совпадают"),
    ] {
        let (status, page) = post(
            &app,
            &browser,
            "/recover/reset",
            &[
                ("token", &token),
                ("password", password),
                ("repeat", repeat),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains(expected), "{expected}: {page}");
        assert!(page.contains("name=\"token\""), "the form stays: {page}");
    }
    assert!(password_works(&app, "ivanova.mp", PASSWORD).await);
    let (status, _) = post(
        &app,
        &browser,
        "/recover/reset",
        &[
            ("token", &token),
            ("password", NEW_PASSWORD),
            ("repeat", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(password_works(&app, "ivanova.mp", NEW_PASSWORD).await);
}

/// A school's parent→pupil link in `status`.
async fn relationship(app: &TestApp, parent: Uuid, pupil: Uuid, status: &str) {
    let holder = (status == "confirmed").then(|| parent.to_string());
    sqlx::query(
        "INSERT INTO relationships (id, parent_id, pupil_id, status, basis, created_at, created_by, holder_id)
         VALUES ($1, $2, $3, $4, 'operator', 0, 'test', $5)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(parent.to_string())
    .bind(pupil.to_string())
    .bind(status)
    .bind(holder)
    .execute(app.store.pool())
    .await
    .expect("relationship");
}

#[tokio::test]
async fn a_confirmed_parent_sets_the_childs_password_and_others_get_403() {
    let app = spawn_app().await;
    for login in ["ivanova.mp", "fedorov.pi", "novikova.oi", "volkova.ad"] {
        with_email(&app, login, &format!("{login}@mail.ru"), true).await;
    }
    let parent = demo_account(&app, "ivanova.mp").await;
    let unconfirmed = demo_account(&app, "fedorov.pi").await;
    let child = demo_account(&app, "volkova.ad").await;
    relationship(&app, parent.id, child.id, "confirmed").await;
    relationship(&app, unconfirmed.id, child.id, "proposed").await;
    let path = format!("/family/child/{}/password", child.id);
    let child_browser = logged_in(&app, "volkova.ad", PASSWORD).await;

    // An unconfirmed parent and a stranger: 403 for the page and the form.
    for login in ["fedorov.pi", "novikova.oi"] {
        let browser = logged_in(&app, login, PASSWORD).await;
        let (status, page) = get(&app, &browser, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}: {page}");
        assert!(!page.contains("name=\"password\""), "{page}");
        let csrf = csrf_token(&app, &browser).await;
        let (status, _) = post(
            &app,
            &browser,
            &path,
            &[
                ("csrf", &csrf),
                ("password", NEW_PASSWORD),
                ("repeat", NEW_PASSWORD),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}");
    }
    // The child cannot use the parent's page for themselves either.
    assert_eq!(
        get(&app, &child_browser, &path).await.0,
        StatusCode::FORBIDDEN
    );
    assert!(password_works(&app, "volkova.ad", PASSWORD).await);

    let browser = logged_in(&app, "ivanova.mp", PASSWORD).await;
    let (status, page) = get(&app, &browser, &path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Волкова Алиса"), "{page}");
    // Without the session's CSRF token: refused.
    let (status, _) = post(
        &app,
        &browser,
        &path,
        &[("password", NEW_PASSWORD), ("repeat", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let weak = fill_form(
        &page,
        &path,
        &[("password", "volkova2016"), ("repeat", "volkova2016")],
    );
    let hop = browser
        .post_form(&format!("{}{path}", app.base), &weak)
        .await
        .expect("post");
    assert_eq!(hop.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", hop.body);
    let fields = fill_form(
        &page,
        &path,
        &[("password", NEW_PASSWORD), ("repeat", NEW_PASSWORD)],
    );
    let hop = browser
        .post_form(&format!("{}{path}", app.base), &fields)
        .await
        .expect("post");
    assert_eq!(hop.status, StatusCode::OK, "{}", hop.body);
    assert!(hop.body.contains("Пароль ребёнка изменён"), "{}", hop.body);

    assert!(password_works(&app, "volkova.ad", NEW_PASSWORD).await);
    assert!(!session_alive(&app, &child_browser).await);
    assert!(session_alive(&app, &browser).await, "the parent stays in");
    assert_eq!(
        audit_rows(&app, "account.password_reset_by_parent", child.id).await,
        vec![format!("account:{}", parent.id)]
    );
    assert!(
        FileOutbox::read(&app.outbox_dir).is_empty(),
        "nobody is mailed"
    );
}

#[tokio::test]
async fn recovery_is_limited_per_address_and_to_one_mail_per_account() {
    let app = spawn_app().await;
    with_email(&app, "ivanova.mp", "ivanova@mail.ru", true).await;
    with_email(&app, "fedorov.pi", "fedorov@mail.ru", true).await;
    let browser = ScriptedBrowser::new();

    // Twice for one account, by login and by e-mail: one mail. A later
    // account's mail shows the second request sent nothing.
    reset_link_for(&app, "ivanova.mp", 1).await;
    let (status, _) = post(
        &app,
        &browser,
        "/recover/password",
        &[("who", "ivanova@mail.ru")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    reset_link_for(&app, "fedorov.pi", 2).await;
    let sent = mails(&app, 2).await;
    let to_ivanova = sent
        .iter()
        .filter(|m| m.to == Recipient::Email("ivanova@mail.ru".into()))
        .count();
    assert_eq!((sent.len(), to_ivanova), (2, 1), "{sent:?}");

    // Per address: the forms share one allowance a minute, then 429.
    let limit = app.state.config().activation.password_attempts_per_minute;
    let used = 3;
    for _ in used..limit {
        let (status, _) = post(
            &app,
            &browser,
            "/recover/login",
            &[("email", "nobody@mail.ru"), ("birth_date", "2000-01-01")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, page) = post(
        &app,
        &browser,
        "/recover/password",
        &[("who", "fedorov.pi")],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
    assert!(page.contains("Слишком много запросов"), "{page}");
    let (status, _) = post(
        &app,
        &browser,
        "/recover/login",
        &[("email", "ivanova@mail.ru"), ("birth_date", "1985-04-12")],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_password_login_page_links_to_recovery_in_both_languages() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    let (_, ru) = get(&app, &browser, "/login/password").await;
    assert!(
        ru.contains("href=\"/recover/password?lang=ru\"") && ru.contains("Забыли пароль?"),
        "{ru}"
    );
    assert!(ru.contains("href=\"/recover/login?lang=ru\"") && ru.contains("Забыли логин?"));
    let (_, en) = get(&app, &browser, "/login/password?lang=en").await;
    assert!(
        en.contains("Forgot password?") && en.contains("Forgot login?"),
        "{en}"
    );
    let (status, page) = get(&app, &browser, "/recover/password?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Login or e-mail"), "{page}");
    assert!(!page.contains("<script"), "no JavaScript");
}
