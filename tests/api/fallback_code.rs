//! Fallback linking with the school's activation code after `snils_missing`
//! / `no_account`: the same code check as the wizard (reading, expiry,
//! revocation, address limit), the same name rule as the password fallback
//! (a parent cannot take their child's account), the code consumed with
//! the link, and the next State Services login goes straight in. Every
//! refusal changes nothing.

use esia_link::app::school::CodeScope;
use esia_link::demo::browser::{Consent, Hop, ScriptedBrowser};
use reqwest::StatusCode;

use crate::helpers::{demo_account, fill_form, spawn_app, TestApp};

/// Issues a code for the demo account `login` (revoking any older one).
async fn code_for(app: &TestApp, login: &str) -> String {
    let account = demo_account(app, login).await;
    let scope = CodeScope {
        account_id: Some(account.id),
        ..CodeScope::default()
    };
    let mut codes = Vec::new();
    app.state
        .school()
        .issue_codes(
            account.school_id.expect("a school"),
            &scope,
            30,
            "test",
            &mut |batch| codes.extend(batch.iter().map(|c| c.code.to_string())),
        )
        .await
        .expect("issue");
    codes.pop().expect("a pending account gets a code")
}

/// The code as typed on a Russian keyboard from a printed sheet: Cyrillic
/// look-alikes, lower case, spaces for hyphens.
fn typed_in_cyrillic(code: &str) -> String {
    code.chars()
        .map(|c| match c {
            'A' => 'а',
            'B' => 'в',
            'C' => 'с',
            'E' => 'е',
            'H' => 'н',
            'K' => 'к',
            'M' => 'м',
            'P' => 'р',
            'T' => 'т',
            'X' => 'х',
            '-' => ' ',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// Posts the code form of `/link/code` as the page offers it.
async fn submit(app: &TestApp, browser: &ScriptedBrowser, code: &str) -> Hop {
    let page = browser
        .get(&format!("{}/link/code", app.base))
        .await
        .expect("form");
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let form = fill_form(&page.body, "/link/code", &[("code", code)]);
    browser
        .post_form(&format!("{}/link/code", app.base), &form)
        .await
        .expect("post")
}

async fn code_used(app: &TestApp, login: &str) -> bool {
    let used: Option<i64> =
        sqlx::query_scalar("SELECT MAX(used_at) FROM activation_codes WHERE account_id = $1")
            .bind(demo_account(app, login).await.id.to_string())
            .fetch_one(app.store.pool())
            .await
            .expect("code");
    used.is_some()
}

async fn audited(app: &TestApp, login: &str, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE target_id = $1 AND action = $2")
        .bind(demo_account(app, login).await.id.to_string())
        .bind(action)
        .fetch_one(app.store.pool())
        .await
        .expect("audit")
}

#[tokio::test]
async fn snils_missing_links_by_activation_code_and_the_next_login_goes_straight_in() {
    let app = spawn_app().await;
    let code = code_for(&app, "popova.ev").await;
    let (browser, run) = app.login("esia", "popova", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("snils_missing"));
    let outcome = run.outcome_page.as_ref().expect("outcome page");
    assert!(
        outcome.body.contains("id=\"link-by-code\"")
            && outcome.body.contains("id=\"link-by-password\""),
        "both proofs are offered: {}",
        outcome.body
    );

    app.fallback_form_names(&browser, "/link/code", "Попова Елена Викторовна")
        .await;

    let links = app.link_count().await;
    let hop = submit(&app, &browser, &typed_in_cyrillic(&code)).await;
    assert_eq!(
        (hop.status, hop.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/account")),
        "{}",
        hop.body
    );
    assert_eq!(app.link_count().await, links + 1);
    let account = demo_account(&app, "popova.ev").await;
    let method: String =
        sqlx::query_scalar("SELECT method FROM federated_links WHERE account_id = $1")
            .bind(account.id.to_string())
            .fetch_one(app.store.pool())
            .await
            .expect("link");
    assert_eq!(method, "activation_code");
    assert!(code_used(&app, "popova.ev").await, "the code is spent");
    assert_eq!(audited(&app, "popova.ev", "link.created").await, 1);
    // No password was set: State Services is how this person logs in.
    assert_eq!(account.status, "pending");
    assert!(account.password_hash.is_none());

    let page = browser
        .get(&format!("{}/account", app.base))
        .await
        .expect("account");
    assert!(page.body.contains("id=\"linked-notice\""), "{}", page.body);
    assert!(
        page.body.contains("(МСК)"),
        "times name the zone: {}",
        page.body
    );

    let (_, again) = app.login("esia", "popova", Consent::Allow).await;
    assert_eq!(again.landed_at(), Some("/account"), "{:?}", again.outcome);
}

#[tokio::test]
async fn a_parent_cannot_link_with_their_childs_code_and_nothing_changes() {
    let app = spawn_app().await;
    let child_code = code_for(&app, "novikova.sa").await;
    let (browser, run) = app.login("esia", "popova", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("snils_missing"));
    let links = app.link_count().await;

    let hop = submit(&app, &browser, &child_code).await;
    assert_eq!(hop.status, StatusCode::UNAUTHORIZED);
    assert!(hop.body.contains("если это код ребёнка"), "{}", hop.body);
    assert_eq!(app.link_count().await, links);
    assert!(
        !code_used(&app, "novikova.sa").await,
        "the child's code stays good"
    );
    assert_eq!(audited(&app, "novikova.sa", "link.refused").await, 1);

    // The same refusal in English, with English wording.
    let page = browser
        .get(&format!("{}/link/code?lang=en", app.base))
        .await
        .expect("form");
    let form = fill_form(&page.body, "/link/code", &[("code", child_code.as_str())]);
    let hop = browser
        .post_form(&format!("{}/link/code?lang=en", app.base), &form)
        .await
        .expect("post");
    assert!(hop.body.contains("child&#39;s code"), "{}", hop.body);
    assert!(
        !hop.body.contains('«'),
        "English quotes on English pages: {}",
        hop.body
    );
}

#[tokio::test]
async fn wrong_expired_and_revoked_codes_are_refused_clearly() {
    let app = spawn_app().await;
    let first = code_for(&app, "popova.ev").await;
    let (browser, _) = app.login("esia", "popova", Consent::Allow).await;
    let links = app.link_count().await;

    let hop = submit(&app, &browser, "0000-0000-0000").await;
    assert_eq!(hop.status, StatusCode::UNAUTHORIZED);
    assert!(hop.body.contains("Такого кода нет"), "{}", hop.body);
    let hop = submit(&app, &browser, "12345").await;
    assert!(hop.body.contains("12 символов"), "{}", hop.body);

    // The school issued a new sheet: the old code says so.
    let second = code_for(&app, "popova.ev").await;
    let hop = submit(&app, &browser, &first).await;
    assert!(hop.body.contains("новый код"), "{}", hop.body);

    sqlx::query("UPDATE activation_codes SET expires_at = 0 WHERE used_at IS NULL")
        .execute(app.store.pool())
        .await
        .expect("expire");
    let hop = submit(&app, &browser, &second).await;
    assert!(
        hop.body.contains("Срок действия кода истёк"),
        "{}",
        hop.body
    );
    assert_eq!(app.link_count().await, links, "nothing was linked");
    assert!(!code_used(&app, "popova.ev").await);
}

#[tokio::test]
async fn guessing_codes_hits_the_address_limit_shared_with_the_wizard() {
    let app = spawn_app().await;
    let code = code_for(&app, "popova.ev").await;
    let (browser, _) = app.login("esia", "popova", Consent::Allow).await;
    let mut last = StatusCode::OK;
    for _ in 0..10 {
        last = submit(&app, &browser, "ZZZZ-ZZZZ-ZZZZ").await.status;
    }
    assert_eq!(last, StatusCode::UNAUTHORIZED);
    let hop = submit(&app, &browser, &code).await;
    assert_eq!(
        hop.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right code waits: {}",
        hop.body
    );
    assert!(hop.body.contains("Подождите минуту"), "{}", hop.body);
    assert!(!code_used(&app, "popova.ev").await);

    // Without a State Services login waiting, the page explains.
    let stranger = ScriptedBrowser::new();
    let hop = stranger
        .get(&format!("{}/link/code", app.base))
        .await
        .expect("page");
    assert_eq!(hop.status, StatusCode::GONE);
    assert!(
        hop.body.contains("Время на привязку истекло"),
        "{}",
        hop.body
    );
}

/// A new school in `region` with one pending person (no SNILS: the school
/// did not record it); returns that person's code.
async fn school_person_code(app: &TestApp, region: i64, row: &str) -> String {
    let school = app
        .state
        .school()
        .create_school(region, "Школа № 12", "test")
        .await
        .expect("school");
    let csv = format!(
        "key,role,surname,given_name,patronymic,birth_date,snils,class,children,login\n{row}\n"
    );
    crate::helpers::import_csv(app, school.id, &csv).await;
    let mut codes = Vec::new();
    app.state
        .school()
        .issue_codes(school.id, &CodeScope::default(), 30, "test", &mut |batch| {
            codes.extend(batch.iter().map(|c| c.code.to_string()))
        })
        .await
        .expect("codes");
    codes.pop().expect("a code")
}

#[tokio::test]
async fn a_code_is_not_spent_on_a_link_the_next_login_would_refuse() {
    let app = spawn_app().await;
    // Лебедев's school is in a region without State Services login.
    let code = school_person_code(
        &app,
        50,
        "l1,parent,Лебедев,Игорь,Николаевич,1983-07-07,,,,lebedev.in",
    )
    .await;
    let (browser, run) = app.login("esia", "lebedev", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("no_account"));
    let links = app.link_count().await;
    let hop = submit(&app, &browser, &code).await;
    assert_eq!(hop.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(hop.body.contains("Код не израсходован"), "{}", hop.body);
    assert!(!code_used(&app, "lebedev.in").await);

    // Белов is an adult with a simplified State Services account.
    let code = school_person_code(
        &app,
        29,
        "b1,parent,Белов,Кирилл,Романович,1992-07-19,,,,belov.kr",
    )
    .await;
    let (browser, run) = app.login("esia", "belov", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("no_account"));
    let hop = submit(&app, &browser, &code).await;
    assert_eq!(hop.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(hop.body.contains("В вашем возрасте"), "{}", hop.body);
    assert!(!code_used(&app, "belov.kr").await);
    assert_eq!(app.link_count().await, links, "nothing was linked");
    assert_eq!(audited(&app, "belov.kr", "link.refused").await, 1);
}
