//! The console's reset-activation and confirm-relationship actions: a
//! reason is required, a school administrator acts only in their school,
//! each action is audited, and a reset activation works with the new code.

use esia_link::demo::browser::Consent;
use reqwest::StatusCode;

use crate::helpers::{audit_count, demo_account, fill_form, make_school_admin, spawn_app};

#[tokio::test]
async fn a_reset_activation_gives_a_working_code_and_needs_a_reason() {
    let app = spawn_app().await;
    let fedorov = demo_account(&app, "fedorov.pi").await;
    sqlx::query("UPDATE accounts SET status = 'active', password_hash = 'x' WHERE id = $1")
        .bind(fedorov.id.to_string())
        .execute(app.store.pool())
        .await
        .expect("activate");
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let page = operator
        .get(&format!("{}/ops?q=fedorov.pi&lang=en", app.base))
        .await
        .expect("ops");
    assert!(page.body.contains("/ops/reset-activation"), "{}", page.body);

    let refused = operator
        .post_form(
            &format!("{}/ops/reset-activation?lang=en", app.base),
            &fill_form(&page.body, "/ops/reset-activation", &[("reason", "  ")]),
        )
        .await
        .expect("post");
    // Back to the console's reset form, the error beside the reason.
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"reset-reason-error\""),
        "{}",
        refused.body
    );
    assert_eq!(
        app.store
            .get_account(fedorov.id)
            .await
            .expect("account")
            .status,
        "active",
        "nothing changed"
    );

    let done = operator
        .post_form(
            &format!("{}/ops/reset-activation?lang=en", app.base),
            &fill_form(
                &page.body,
                "/ops/reset-activation",
                &[("reason", "lost the password and the e-mail")],
            ),
        )
        .await
        .expect("post");
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let code = done
        .body
        .split_whitespace()
        .find(|w| w.len() == 15 && w.matches('-').count() == 2)
        .map(|w| w.trim_end_matches('.'))
        .expect("the new code is shown")
        .to_string();
    let account = app.store.get_account(fedorov.id).await.expect("account");
    assert_eq!(account.status, "pending");
    assert!(account.password_hash.is_none());
    assert_eq!(
        audit_count(&app, "account.activation_reset", &fedorov.id.to_string()).await,
        1
    );
    // The new code opens the wizard.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let wizard = browser
        .get(format!("{}/activate?code={code}", app.base))
        .send()
        .await
        .expect("wizard");
    assert_eq!(wizard.status(), StatusCode::OK);
    assert!(wizard.text().await.expect("body").contains("Федоров"));
}

#[tokio::test]
async fn an_operator_confirms_a_listed_relationship_within_their_school() {
    let app = spawn_app().await;
    // A school lists a parent for a pupil (proposed).
    let school = app
        .state
        .school()
        .create_school(29, "Школа № 12", "test")
        .await
        .expect("school");
    let csv = "key,role,surname,given_name,patronymic,birth_date,snils,class,children\n\
               p1,pupil,Зайцев,Иван,,2015-01-01,,3А,\n\
               m1,parent,Зайцева,Анна,,1988-01-01,,,p1\n";
    crate::helpers::import_csv(&app, school.id, csv).await;
    let people = app
        .state
        .school()
        .school_people(school.id, None, None, 10)
        .await
        .expect("people");
    let id_of = |key: &str| {
        people
            .iter()
            .find(|p| p.key.as_deref() == Some(key))
            .map(|p| p.id)
            .expect("imported")
    };
    let (parent, pupil) = (id_of("m1"), id_of("p1"));

    // A school admin of another school does not see them.
    make_school_admin(&app, "kravtsova.ea").await;
    let (admin, _) = app.login("esia", "operator", Consent::Allow).await;
    let page = admin
        .get(&format!("{}/ops?q=kravtsova.ea&lang=en", app.base))
        .await
        .expect("ops");
    let form = fill_form(
        &page.body,
        "/ops/confirm-relationship",
        &[
            ("parent", &parent.to_string()),
            ("pupil", &pupil.to_string()),
            ("reason", "confirmed in person at the school office"),
        ],
    );
    let outside = admin
        .post_form(&format!("{}/ops/confirm-relationship", app.base), &form)
        .await
        .expect("post");
    assert_eq!(outside.status, StatusCode::NOT_FOUND, "{}", outside.body);

    // Support (privileged) may; the row is confirmed with basis operator.
    sqlx::query("UPDATE operators SET role = 'privileged_support', school_id = NULL")
        .execute(app.store.pool())
        .await
        .expect("role back");
    let page = admin
        .get(&format!("{}/ops?q=kravtsova.ea&lang=en", app.base))
        .await
        .expect("ops");
    let form = fill_form(
        &page.body,
        "/ops/confirm-relationship",
        &[
            ("parent", &parent.to_string()),
            ("pupil", &pupil.to_string()),
            ("reason", "confirmed in person at the school office"),
        ],
    );
    let done = admin
        .post_form(&format!("{}/ops/confirm-relationship", app.base), &form)
        .await
        .expect("post");
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let (status, basis): (String, String) = sqlx::query_as(
        "SELECT status, basis FROM relationships WHERE parent_id = $1 AND pupil_id = $2",
    )
    .bind(parent.to_string())
    .bind(pupil.to_string())
    .fetch_one(app.store.pool())
    .await
    .expect("row");
    assert_eq!((status.as_str(), basis.as_str()), ("confirmed", "operator"));
    assert_eq!(
        audit_count(&app, "relationship.confirmed", &pupil.to_string()).await,
        1
    );
    // Twice: nothing proposed any more.
    let again = admin
        .post_form(&format!("{}/ops/confirm-relationship", app.base), &form)
        .await
        .expect("post");
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn readiness_reports_whether_each_idp_answers() {
    let app = spawn_app().await;
    let ready: serde_json::Value = reqwest::get(format!("{}/readyz", app.base))
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["idp"]["esia"], "ok", "{ready}");
    assert_eq!(ready["idp"]["oidc"], "ok", "{ready}");
    assert_eq!(ready["database"], "ok", "{ready}");
}

/// The first `<p>` of the account block: the person as the console shows them.
fn account_summary(body: &str) -> &str {
    let at = body
        .find("<div class=\"account\"><p>")
        .unwrap_or_else(|| panic!("an account: {body}"));
    let rest = &body[at..];
    &rest[..rest.find("</p>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn the_console_names_the_school_and_keeps_each_refused_form_with_its_error() {
    let app = spawn_app().await;
    let fedorov = demo_account(&app, "fedorov.pi").await;
    let school = app
        .state
        .school()
        .get(fedorov.school_id.expect("a school"))
        .await
        .expect("school")
        .name;
    // Фёдоров has a link, so the link forms show too.
    app.login("esia", "fedorov", Consent::Allow).await;
    make_school_admin(&app, "smirnov.oa").await;
    let (admin, _) = app.login("esia", "smirnov", Consent::Allow).await;
    let page = admin
        .get(&format!("{}/ops?q=fedorov.pi", app.base))
        .await
        .expect("ops");
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        account_summary(&page.body).contains(&school),
        "{}",
        page.body
    );

    let post = |action: &'static str, values: Vec<(&'static str, &'static str)>| {
        let fields = fill_form(&page.body, action, &values);
        let admin = &admin;
        let url = format!("{}{action}", app.base);
        async move { admin.post_form(&url, &fields).await.expect("post") }
    };
    let kept = |body: &str, id: &str, texts: &[&str]| {
        assert!(body.contains(&format!("id=\"{id}\"")), "{id}: {body}");
        assert!(body.contains("aria-invalid=\"true\""), "{body}");
        for text in texts {
            assert!(body.contains(text), "{text}: {body}");
        }
    };

    // Reset: a reason too short.
    let refused = post("/ops/reset-activation", vec![("reason", "abc")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    kept(
        &refused.body,
        "reset-reason-error",
        &[
            ">abc</textarea>",
            "<details class=\"more-actions\" open>",
            "не короче пяти знаков",
        ],
    );

    // Confirm: the pupil's id is not an id; then a reason too short.
    let refused = post(
        "/ops/confirm-relationship",
        vec![("pupil", "12"), ("reason", "at the school office")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    kept(
        &refused.body,
        "confirm-pupil-error",
        &["value=\"12\"", ">at the school office</textarea>"],
    );
    let pupil = demo_account(&app, "volkova.ad").await.id.to_string();
    let fields = fill_form(
        &page.body,
        "/ops/confirm-relationship",
        &[("pupil", &pupil), ("reason", "ok")],
    );
    let refused = admin
        .post_form(&format!("{}/ops/confirm-relationship", app.base), &fields)
        .await
        .expect("post");
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    kept(
        &refused.body,
        "confirm-reason-error",
        &[&format!("value=\"{pupil}\""), ">ok</textarea>"],
    );

    // Correct: a SNILS that is not one; the names and the reason stay.
    let refused = post(
        "/ops/correct",
        vec![
            ("surname", "Фёдоров"),
            ("given_name", "Пётр"),
            ("patronymic", "Ильич"),
            ("snils", "123"),
            ("reason", "checked the passport"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    kept(
        &refused.body,
        "correct-snils-error",
        &[
            "value=\"Фёдоров\"",
            "value=\"123\"",
            ">checked the passport</textarea>",
        ],
    );
    assert_eq!(demo_account(&app, "fedorov.pi").await.snils, fedorov.snils);

    // Relink: the target is not an id.
    let refused = post(
        "/ops/relink",
        vec![("to", "someone"), ("reason", "moved to the right account")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    kept(
        &refused.body,
        "relink-to-error",
        &[
            "value=\"someone\"",
            ">moved to the right account</textarea>",
        ],
    );
    assert_eq!(
        app.link_count().await,
        2,
        "Фёдоров's and Смирнов's links stay"
    );

    // Nothing above reached the audit log as a change.
    assert_eq!(
        audit_count(&app, "account.activation_reset", &fedorov.id.to_string()).await,
        0
    );

    // In English (remembered from here on): the school, the error in English.
    let english = admin
        .get(&format!("{}/ops?q=fedorov.pi&lang=en", app.base))
        .await
        .expect("ops");
    assert!(account_summary(&english.body).contains(&school));
    let refused = post("/ops/reset-activation", vec![("reason", "abc")]).await;
    kept(
        &refused.body,
        "reset-reason-error",
        &["at least five characters"],
    );
}

#[tokio::test]
async fn the_audit_log_names_people_by_masked_name_login_and_school() {
    let app = spawn_app().await;
    let fedorov = demo_account(&app, "fedorov.pi").await;
    let school = app
        .state
        .school()
        .get(fedorov.school_id.expect("a school"))
        .await
        .expect("school")
        .name;
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let page = operator
        .get(&format!("{}/ops?q=fedorov.pi", app.base))
        .await
        .expect("ops");
    let done = operator
        .post_form(
            &format!("{}/ops/reset-activation", app.base),
            &fill_form(
                &page.body,
                "/ops/reset-activation",
                &[("reason", "lost the password and the e-mail")],
            ),
        )
        .await
        .expect("post");
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    let audit = operator
        .get(&format!(
            "{}/ops/audit?action=account.activation_reset",
            app.base
        ))
        .await
        .expect("audit");
    assert_eq!(audit.status, StatusCode::OK);
    // The person acted on, and the operator who acted: masked name, login,
    // school; the ids stay folded.
    assert!(
        audit
            .body
            .contains(&format!("Ф****** П*** И****, логин: fedorov.pi, {school}")),
        "{}",
        audit.body
    );
    assert!(
        audit
            .body
            .contains("К******* Е**** А********, логин: kravtsova.ea"),
        "{}",
        audit.body
    );
    assert!(!audit.body.contains("Федоров"), "{}", audit.body);
    assert!(
        audit.body.contains(&format!(
            "<summary>id</summary><code class=\"wrap\">{}",
            fedorov.id
        )),
        "{}",
        audit.body
    );
}
