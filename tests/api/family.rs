//! Who may see whose diary (#10), as people drive it through the browser
//! and a school's system asks over the API: a parent confirms children in
//! two schools; only the addressed parent can answer; a trusted person is
//! invited by surname + SNILS, gets a lightweight account at the first
//! State Services login, accepts, waits for the delay, sees the granted
//! service and loses it the moment the parent revokes; invitations expire
//! and are sent again; a trusted person cannot invite; a parent cannot
//! invite for a child whose link is not confirmed; a pupil sees only
//! themselves. Time moves on the application's clock, never by sleeping.

use std::sync::Arc;

use chrono::Duration;
use esia_link::app::clock::SettableClock;
use esia_link::demo::browser::{Consent, ScriptedBrowser};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{
    audit_count, csrf_token, demo_account, fill_form, spawn_app, spawn_app_with, AppOptions,
    TestApp,
};

pub(crate) const LEBEDEV_SNILS: &str = "207-307-407 31";
pub(crate) const ZAITSEVA_SNILS: &str = "217-317-417 46";
const BELOV_SNILS: &str = "218-318-418 58";

/// The app's clock, which the test moves.
fn manual_clock(app: &TestApp) -> Arc<SettableClock> {
    app.clock.clone()
}

async fn import(app: &TestApp, school: Uuid, csv: &str) {
    let report = crate::helpers::import_csv(app, school, csv).await;
    assert!(report.relationships_added > 0, "{report:?}");
}

/// Ivanova (logged in, linked to her account at school № 1) is listed as a
/// parent by two schools: at her own school for Анна (c2), and at school
/// № 5, as a second persona with her SNILS, for Пётр (c1) and Олег (c3).
/// Returns her browser and school № 5.
async fn ivanova_with_proposed_children(app: &TestApp) -> (ScriptedBrowser, Uuid) {
    let (browser, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let arkh1 = demo_account(app, "ivanova.mp")
        .await
        .school_id
        .expect("a school");
    import(
        app,
        arkh1,
        "key,role,surname,given_name,patronymic,birth_date,snils,class,children,login\n\
         c2,pupil,Иванова,Анна,Сергеевна,2012-01-10,,5А,,\n\
         ivanova.mp,parent,Иванова,Мария,Петровна,1985-04-12,201-301-401 60,,c2,ivanova.mp\n",
    )
    .await;
    let school5 = app
        .state
        .school()
        .create_school(78, "Школа № 5", "test")
        .await
        .expect("school");
    import(
        app,
        school5.id,
        "key,role,surname,given_name,patronymic,birth_date,snils,class,children,login\n\
         c1,pupil,Иванов,Пётр,Сергеевич,2014-03-03,,3Б,,\n\
         c3,pupil,Иванов,Олег,Сергеевич,2016-06-06,,1А,,\n\
         m1,parent,Иванова,Мария,Петровна,1985-04-12,201-301-401 60,,c1;c3,\n",
    )
    .await;
    (browser, school5.id)
}

async fn account_by_key(app: &TestApp, key: &str) -> Uuid {
    let id: String = sqlx::query_scalar("SELECT id FROM accounts WHERE roster_key = $1")
        .bind(key)
        .fetch_one(app.store.pool())
        .await
        .expect("account by key");
    Uuid::parse_str(&id).expect("uuid")
}

async fn relationship_of(app: &TestApp, pupil_key: &str) -> Uuid {
    let id: String = sqlx::query_scalar(
        "SELECT r.id FROM relationships r JOIN accounts c ON c.id = r.pupil_id WHERE c.roster_key = $1",
    )
    .bind(pupil_key)
    .fetch_one(app.store.pool())
    .await
    .expect("relationship");
    Uuid::parse_str(&id).expect("uuid")
}

async fn page(app: &TestApp, browser: &ScriptedBrowser, path: &str) -> String {
    let hop = browser
        .get(&format!("{}{path}", app.base))
        .await
        .expect("page");
    assert_eq!(hop.status, StatusCode::OK, "{path}: {}", hop.body);
    hop.body
}

/// Posts `fields` to `path`: (status, Location, body).
pub(crate) async fn post(
    app: &TestApp,
    browser: &ScriptedBrowser,
    path: &str,
    fields: &[(String, String)],
) -> (StatusCode, Option<String>, String) {
    let hop = browser
        .post_form(&format!("{}{path}", app.base), fields)
        .await
        .expect("post");
    (hop.status, hop.location, hop.body)
}

/// Someone the link or invitation is not addressed to posts `path` with
/// their own valid CSRF token: refused.
async fn refused_to_stranger(app: &TestApp, stranger: &ScriptedBrowser, path: &str) {
    let csrf = csrf_token(app, stranger).await;
    let (status, _, body) = post(app, stranger, path, &[("csrf".into(), csrf)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("family.not_addressed_to_you"), "{body}");
}

/// Presses the button of the form posting to `action` on `path`.
async fn press(
    app: &TestApp,
    browser: &ScriptedBrowser,
    path: &str,
    action: &str,
) -> (StatusCode, Option<String>, String) {
    let body = page(app, browser, path).await;
    let fields = fill_form(&body, action, &[]);
    post(app, browser, action, &fields).await
}

async fn json(browser: &ScriptedBrowser, url: &str) -> (StatusCode, Value) {
    let response = browser
        .send(browser.request(Method::GET, url))
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn my_access(app: &TestApp, browser: &ScriptedBrowser) -> Value {
    let (status, body) = json(browser, &format!("{}/api/v1/me/access", app.base)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn pupil_ids(access: &Value) -> Vec<String> {
    access["pupils"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["pupil_id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The service-to-service check with a school token.
async fn check(app: &TestApp, token: &str, viewer: Uuid, pupil: Uuid, service: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/access?viewer={viewer}&pupil={pupil}&service={service}",
            app.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn notification_kinds(app: &TestApp, account: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT kind FROM notifications WHERE account_id = $1 ORDER BY created_at, kind",
    )
    .bind(account.to_string())
    .fetch_all(app.store.pool())
    .await
    .expect("notifications")
}

/// Ivanova with Пётр (c1, school № 5) confirmed; returns her browser,
/// school № 5 and Пётр's id.
pub(crate) async fn parent_with_confirmed_child(app: &TestApp) -> (ScriptedBrowser, Uuid, Uuid) {
    let (browser, school5) = ivanova_with_proposed_children(app).await;
    let rel = relationship_of(app, "c1").await;
    let (status, location, body) = press(
        app,
        &browser,
        "/notifications",
        &format!("/family/relationships/{rel}/accept"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location.as_deref(), Some("/notifications?done=confirmed"));
    (browser, school5, account_by_key(app, "c1").await)
}

pub(crate) fn invite_fields(
    csrf: &str,
    pupil: Uuid,
    surname: &str,
    snils: &str,
    services: &[&str],
) -> Vec<(String, String)> {
    let mut fields = vec![
        ("csrf".to_string(), csrf.to_string()),
        ("pupil".to_string(), pupil.to_string()),
        ("surname".to_string(), surname.to_string()),
        ("snils".to_string(), snils.to_string()),
        ("phone".to_string(), String::new()),
    ];
    for s in services {
        fields.push((format!("service_{s}"), "1".to_string()));
    }
    fields
}

pub(crate) async fn invitation_for(app: &TestApp, surname: &str) -> Uuid {
    let id: String = sqlx::query_scalar(
        "SELECT id FROM invitations WHERE invitee_surname = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(surname)
    .fetch_one(app.store.pool())
    .await
    .expect("invitation");
    Uuid::parse_str(&id).expect("uuid")
}

#[tokio::test]
async fn a_parent_confirms_children_in_two_schools_and_sees_them_all() {
    let app = spawn_app().await;
    let (browser, _) = ivanova_with_proposed_children(&app).await;
    let ivanova = demo_account(&app, "ivanova.mp").await.id;

    let centre = page(&app, &browser, "/notifications").await;
    assert!(centre.contains("Школа № 5"), "{centre}");
    assert!(
        centre.contains("ученика Иванова Петра Сергеевича"),
        "{centre}"
    );
    assert!(
        centre.contains("ученицы Ивановой Анны Сергеевны"),
        "{centre}"
    );
    assert!(centre.contains("Непрочитанных: 3"), "{centre}");
    assert!(my_access(&app, &browser).await["pupils"]
        .as_array()
        .is_some_and(|p| p.is_empty()));

    // c2 at her own school (her own persona), c1 at school № 5 (a persona
    // with her SNILS): both are addressed to her.
    for key in ["c1", "c2"] {
        let rel = relationship_of(&app, key).await;
        let (status, location, body) = press(
            &app,
            &browser,
            "/notifications",
            &format!("/family/relationships/{rel}/accept"),
        )
        .await;
        assert_eq!(
            (status, location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/notifications?done=confirmed")),
            "{body}"
        );
        assert_eq!(
            audit_count(&app, "relationship.confirmed", &rel.to_string()).await,
            1
        );
    }
    let c3 = relationship_of(&app, "c3").await;
    let (status, _, _) = press(
        &app,
        &browser,
        "/notifications",
        &format!("/family/relationships/{c3}/decline"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        audit_count(&app, "relationship.declined", &c3.to_string()).await,
        1
    );

    let access = my_access(&app, &browser).await;
    let mut seen = pupil_ids(&access);
    seen.sort();
    let mut expected = vec![
        account_by_key(&app, "c1").await.to_string(),
        account_by_key(&app, "c2").await.to_string(),
    ];
    expected.sort();
    assert_eq!(seen, expected, "{access}");
    assert!(access["pupils"]
        .as_array()
        .expect("pupils")
        .iter()
        .all(|p| p["basis"] == "parent"
            && p["services"] == serde_json::json!(["diary", "attendance_meals"])
            && p["since"].is_string()));
    // The confirmed link is held by the account she logged in with.
    let holders: Vec<String> =
        sqlx::query_scalar("SELECT holder_id FROM relationships WHERE status = 'confirmed'")
            .fetch_all(app.store.pool())
            .await
            .expect("holders");
    assert_eq!(holders, vec![ivanova.to_string(); 2]);

    // Answered once: the buttons are gone and a replay is refused.
    let centre = page(&app, &browser, "/notifications").await;
    assert!(
        !centre.contains(&format!("/family/relationships/{c3}/accept")),
        "{centre}"
    );
    let csrf = csrf_token(&app, &browser).await;
    let (status, _, body) = post(
        &app,
        &browser,
        &format!("/family/relationships/{c3}/accept"),
        &[("csrf".into(), csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("family.already_answered"), "{body}");

    // The pupil is told a parent now sees the diary; the family page lists both children.
    let c1 = account_by_key(&app, "c1").await;
    assert_eq!(
        notification_kinds(&app, c1).await,
        vec!["relationship_confirmed"]
    );
    let family = page(&app, &browser, "/family").await;
    assert!(
        family.contains("Иванов Пётр Сергеевич") && family.contains("Иванова Анна Сергеевна"),
        "{family}"
    );
    assert!(
        !family.contains("Иванов Олег Сергеевич"),
        "the declined child is not listed: {family}"
    );
}

#[tokio::test]
async fn only_the_parent_a_school_link_names_can_answer_it() {
    let app = spawn_app().await;
    let (ivanova, _) = ivanova_with_proposed_children(&app).await;
    let rel = relationship_of(&app, "c1").await;

    let (fedorov, run) = app.login("esia", "fedorov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let centre = page(&app, &fedorov, "/notifications").await;
    assert!(
        !centre.contains("Иванов Пётр"),
        "not shown to others: {centre}"
    );
    refused_to_stranger(
        &app,
        &fedorov,
        &format!("/family/relationships/{rel}/accept"),
    )
    .await;

    // A form without the session's CSRF token changes nothing either.
    let (status, _, _) = post(
        &app,
        &ivanova,
        &format!("/family/relationships/{rel}/accept"),
        &[("csrf".into(), "forged".into())],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let status: String = sqlx::query_scalar("SELECT status FROM relationships WHERE id = $1")
        .bind(rel.to_string())
        .fetch_one(app.store.pool())
        .await
        .expect("status");
    assert_eq!(status, "proposed");
    let fedorov_id = demo_account(&app, "fedorov.pi").await.id;
    assert!(pupil_ids(&my_access(&app, &fedorov).await).is_empty());
    let token = app
        .state
        .school()
        .create_school_token(
            demo_account(&app, "ivanova.mp")
                .await
                .school_id
                .expect("school"),
            "diary",
            "test",
        )
        .await
        .expect("token");
    let c2 = account_by_key(&app, "c2").await;
    let answer = check(&app, &token, fedorov_id, c2, "diary").await;
    assert_eq!(
        (answer["allowed"].as_bool(), answer["reason"].as_str()),
        (Some(false), Some("no_relationship"))
    );
    let ivanova_id = demo_account(&app, "ivanova.mp").await.id;
    let answer = check(&app, &token, ivanova_id, c2, "diary").await;
    assert_eq!(
        (answer["allowed"].as_bool(), answer["reason"].as_str()),
        (Some(false), Some("not_confirmed")),
        "{answer}"
    );
}

#[tokio::test]
async fn a_trusted_person_is_invited_waits_for_the_delay_and_loses_access_on_revocation() {
    let app = spawn_app().await;
    let clock = manual_clock(&app);
    let (ivanova, school5, c1) = parent_with_confirmed_child(&app).await;
    let ivanova_id = demo_account(&app, "ivanova.mp").await.id;
    let token = app
        .state
        .school()
        .create_school_token(school5, "diary", "test")
        .await
        .expect("token");

    // Not invited yet: no account for Лебедев.
    let (_, run) = app.login("esia", "lebedev", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("no_account"));

    let csrf = csrf_token(&app, &ivanova).await;
    let family = page(&app, &ivanova, "/family").await;
    assert!(family.contains("id=\"invite-form\""), "{family}");
    let (status, location, body) = post(
        &app,
        &ivanova,
        "/family/invitations",
        &invite_fields(&csrf, c1, "Лебедев", LEBEDEV_SNILS, &["diary"]),
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/family?done=sent")),
        "{body}"
    );
    let invitation = invitation_for(&app, "Лебедев").await;
    assert_eq!(
        audit_count(&app, "invitation.sent", &invitation.to_string()).await,
        1
    );
    // Neither the SNILS nor its digits are stored in clear.
    let stored: String = sqlx::query_scalar(
        "SELECT match_hash || '|' || hint || '|' || invitee_surname || '|' || services FROM invitations WHERE id = $1",
    )
    .bind(invitation.to_string())
    .fetch_one(app.store.pool())
    .await
    .expect("row");
    assert!(
        !stored.contains("20730740731") && !stored.contains("207-307-407"),
        "{stored}"
    );
    let family = page(&app, &ivanova, "/family").await;
    assert!(family.contains("Лебедев (***-***-407 31)"), "{family}");
    assert!(family.contains("ждёт ответа до"), "{family}");

    // First State Services login after the invitation: a lightweight account.
    let (lebedev, run) = app.login("esia", "lebedev", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let lebedev_id = Uuid::parse_str(
        &sqlx::query_scalar::<_, String>("SELECT id FROM accounts WHERE role = 'trusted'")
            .fetch_one(app.store.pool())
            .await
            .expect("trusted account"),
    )
    .expect("uuid");
    let method: String =
        sqlx::query_scalar("SELECT method FROM federated_links WHERE account_id = $1")
            .bind(lebedev_id.to_string())
            .fetch_one(app.store.pool())
            .await
            .expect("link");
    assert_eq!(method, "invitation");
    assert_eq!(
        audit_count(&app, "account.created", &lebedev_id.to_string()).await,
        1
    );
    let centre = page(&app, &lebedev, "/notifications").await;
    assert!(
        centre.contains(
            "Иванова Мария Петровна приглашает вас доверенным лицом ученика Иванова Петра Сергеевича"
        ),
        "{centre}"
    );
    assert!(
        centre.contains(&format!("/family/invitations/{invitation}/accept")),
        "{centre}"
    );

    // Someone else cannot accept it.
    let (fedorov, _) = app.login("esia", "fedorov", Consent::Allow).await;
    refused_to_stranger(
        &app,
        &fedorov,
        &format!("/family/invitations/{invitation}/accept"),
    )
    .await;

    let (status, location, body) = press(
        &app,
        &lebedev,
        "/notifications",
        &format!("/family/invitations/{invitation}/accept"),
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/notifications?done=accepted")),
        "{body}"
    );
    assert_eq!(
        audit_count(&app, "invitation.accepted", &invitation.to_string()).await,
        1
    );
    let centre = page(&app, &lebedev, "/notifications").await;
    assert!(
        centre.contains(
            "Доступ к ученику Иванову Петру Сергеевичу (дневник (оценки, задания)) откроется"
        ),
        "{centre}"
    );
    let parent_centre = page(&app, &ivanova, "/notifications").await;
    assert!(
        parent_centre.contains("Лебедев Игорь Николаевич принял приглашение"),
        "{parent_centre}"
    );

    // Before the delay: denied, with when it opens.
    let answer = check(&app, &token, lebedev_id, c1, "diary").await;
    assert_eq!(answer["allowed"], false);
    assert_eq!(answer["reason"], "not_yet_open", "{answer}");
    assert!(answer["opens_at"].is_string());
    let access = my_access(&app, &lebedev).await;
    assert!(pupil_ids(&access).is_empty(), "{access}");
    assert_eq!(access["upcoming"][0]["pupil_id"], c1.to_string());
    let family = page(&app, &lebedev, "/family").await;
    assert!(family.contains("принято, доступ откроется"), "{family}");

    clock.advance(Duration::hours(24) + Duration::minutes(1));
    let answer = check(&app, &token, lebedev_id, c1, "diary").await;
    assert_eq!(
        (answer["allowed"].as_bool(), answer["basis"].as_str()),
        (Some(true), Some("trusted")),
        "{answer}"
    );
    let answer = check(&app, &token, lebedev_id, c1, "attendance_meals").await;
    assert_eq!(answer["reason"], "service_not_granted", "{answer}");
    let access = my_access(&app, &lebedev).await;
    assert_eq!(pupil_ids(&access), vec![c1.to_string()]);
    assert_eq!(access["pupils"][0]["basis"], "trusted");
    assert_eq!(
        access["pupils"][0]["services"],
        serde_json::json!(["diary"])
    );
    let parent_centre = page(&app, &ivanova, "/notifications").await;
    assert!(
        parent_centre.contains(
            "Доступ Лебедева Игоря Николаевича к ученику Иванову Петру Сергеевичу открыт"
        ),
        "{parent_centre}"
    );
    assert_eq!(
        audit_count(&app, "invitation.opened", &invitation.to_string()).await,
        1
    );

    // A trusted person cannot invite further.
    let csrf = csrf_token(&app, &lebedev).await;
    let (status, _, body) = post(
        &app,
        &lebedev,
        "/family/invitations",
        &invite_fields(&csrf, c1, "Зайцева", ZAITSEVA_SNILS, &["diary"]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("family.trusted_cannot_invite"), "{body}");
    assert!(page(&app, &lebedev, "/family")
        .await
        .contains("id=\"trusted-note\""));

    // Revocation takes effect at once, and both sides are told.
    let (status, location, body) = press(
        &app,
        &ivanova,
        "/family",
        &format!("/family/invitations/{invitation}/revoke"),
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/family?done=revoked")),
        "{body}"
    );
    let answer = check(&app, &token, lebedev_id, c1, "diary").await;
    assert_eq!(
        (answer["allowed"].as_bool(), answer["reason"].as_str()),
        (Some(false), Some("revoked")),
        "{answer}"
    );
    assert!(pupil_ids(&my_access(&app, &lebedev).await).is_empty());
    assert_eq!(
        audit_count(&app, "invitation.revoked", &invitation.to_string()).await,
        1
    );
    let kinds = notification_kinds(&app, lebedev_id).await;
    for kind in [
        "trusted_invitation",
        "invitation_accepted",
        "access_opened",
        "access_revoked",
    ] {
        assert!(kinds.contains(&kind.to_string()), "{kind} in {kinds:?}");
    }
    let kinds = notification_kinds(&app, ivanova_id).await;
    for kind in [
        "invitation_sent",
        "invitation_accepted",
        "access_opened",
        "access_revoked",
    ] {
        assert!(kinds.contains(&kind.to_string()), "{kind} in {kinds:?}");
    }

    // Invited again (without retyping the SNILS): a new pending invitation.
    let (status, location, _) = press(
        &app,
        &ivanova,
        "/family",
        &format!("/family/invitations/{invitation}/reinvite"),
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/family?done=sent"))
    );
    let again = invitation_for(&app, "Лебедев").await;
    assert_ne!(again, invitation);
    let centre = page(&app, &lebedev, "/notifications").await;
    assert!(
        centre.contains(&format!("/family/invitations/{again}/accept")),
        "{centre}"
    );
    // A second live invitation of the same person for the same child is refused.
    let csrf = csrf_token(&app, &ivanova).await;
    let (status, _, body) = post(
        &app,
        &ivanova,
        "/family/invitations",
        &invite_fields(
            &csrf,
            c1,
            "ЛЕБЕДЕВ",
            LEBEDEV_SNILS,
            &["diary", "attendance_meals"],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("уже приглашён"), "{body}");
}

#[tokio::test]
async fn an_unanswered_invitation_expires_and_can_be_sent_again() {
    let app = spawn_app().await;
    let clock = manual_clock(&app);
    let (ivanova, school5, c1) = parent_with_confirmed_child(&app).await;
    let token = app
        .state
        .school()
        .create_school_token(school5, "diary", "test")
        .await
        .expect("token");
    let csrf = csrf_token(&app, &ivanova).await;
    for (surname, snils) in [("Зайцева", ZAITSEVA_SNILS), ("Белов", BELOV_SNILS)] {
        let (status, _, body) = post(
            &app,
            &ivanova,
            "/family/invitations",
            &invite_fields(&csrf, c1, surname, snils, &["diary", "attendance_meals"]),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }
    let invitation = invitation_for(&app, "Зайцева").await;

    // A simplified State Services account's SNILS is unchecked: no account.
    let (_, run) = app.login("esia", "belov", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("no_account"));

    let (zaitseva, run) = app.login("esia", "zaitseva", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let zaitseva_id: String = sqlx::query_scalar(
        "SELECT id FROM accounts WHERE role = 'trusted' AND surname = 'Зайцева'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("her trusted account");
    let zaitseva_id = Uuid::parse_str(&zaitseva_id).expect("uuid");
    let body = page(&app, &zaitseva, "/notifications").await;
    assert!(
        body.contains(&format!("/family/invitations/{invitation}/accept")),
        "{body}"
    );

    clock.advance(Duration::days(7) + Duration::minutes(1));
    let body = page(&app, &zaitseva, "/notifications").await;
    assert!(
        !body.contains(&format!("/family/invitations/{invitation}/accept")),
        "no buttons once expired: {body}"
    );
    assert!(body.contains("срок истёк"), "{body}");
    let csrf_z = csrf_token(&app, &zaitseva).await;
    let (status, _, body) = post(
        &app,
        &zaitseva,
        &format!("/family/invitations/{invitation}/accept"),
        &[("csrf".into(), csrf_z.clone())],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("family.expired"), "{body}");
    let status_now: String = sqlx::query_scalar("SELECT status FROM invitations WHERE id = $1")
        .bind(invitation.to_string())
        .fetch_one(app.store.pool())
        .await
        .expect("status");
    assert_eq!(status_now, "expired");
    assert_eq!(
        audit_count(&app, "invitation.expired", &invitation.to_string()).await,
        1
    );
    let answer = check(&app, &token, zaitseva_id, c1, "diary").await;
    assert_eq!(answer["allowed"], false, "{answer}");

    // The parent sees it expired and is told; the second invitee, never logged
    // in, cannot get an account from an expired invitation.
    let family = page(&app, &ivanova, "/family").await;
    assert!(family.contains("срок истёк"), "{family}");
    let parent_centre = page(&app, &ivanova, "/notifications").await;
    assert!(
        parent_centre.contains("не принято вовремя"),
        "{parent_centre}"
    );

    let (status, location, _) = press(
        &app,
        &ivanova,
        "/family",
        &format!("/family/invitations/{invitation}/reinvite"),
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/family?done=sent"))
    );
    let again = invitation_for(&app, "Зайцева").await;
    let (status, location, body) = press(
        &app,
        &zaitseva,
        "/notifications",
        &format!("/family/invitations/{again}/decline"),
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/notifications?done=declined")),
        "{body}"
    );
    assert_eq!(
        audit_count(&app, "invitation.declined", &again.to_string()).await,
        1
    );
    let parent_centre = page(&app, &ivanova, "/notifications").await;
    assert!(
        parent_centre.contains("Зайцева Ирина Олеговна отклонила приглашение"),
        "{parent_centre}"
    );
}

#[tokio::test]
async fn family_pages_give_times_by_the_clock_of_the_viewers_region() {
    // Ivanova's school is in region 29, here on Yekaterinburg time (МСК+2).
    let app = spawn_app_with(AppOptions {
        region_time_zone: Some((29, "Asia/Yekaterinburg")),
        ..AppOptions::default()
    })
    .await;
    let (ivanova, _, c1) = parent_with_confirmed_child(&app).await;
    let csrf = csrf_token(&app, &ivanova).await;
    let (status, _, body) = post(
        &app,
        &ivanova,
        "/family/invitations",
        &invite_fields(&csrf, c1, "Лебедев", LEBEDEV_SNILS, &["diary"]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let expires_ms: i64 = sqlx::query_scalar("SELECT expires_at FROM invitations")
        .fetch_one(app.store.pool())
        .await
        .expect("invitation");
    let expires = chrono::DateTime::from_timestamp_millis(expires_ms)
        .expect("time")
        .with_timezone(&chrono_tz::Asia::Yekaterinburg);

    let family = page(&app, &ivanova, "/family").await;
    let expected = format!(
        "ждёт ответа до {} (МСК+2)",
        expires.format("%d.%m.%Y %H:%M")
    );
    assert!(family.contains(&expected), "{expected} in {family}");
    let family = page(&app, &ivanova, "/family?lang=en").await;
    let expected = format!(
        "awaiting an answer until {} (UTC+5)",
        expires.format("%-d %b %Y %H:%M")
    );
    assert!(family.contains(&expected), "{expected} in {family}");

    // The notification centre dates its items by the same clock (back to
    // Russian: `?lang=en` was remembered in a cookie).
    let notifications = page(&app, &ivanova, "/notifications?lang=ru").await;
    assert!(notifications.contains("(МСК+2)"), "{notifications}");
    // Nothing is left on the old fixed Moscow clock ("14:30 МСК").
    assert!(!notifications.contains(" МСК"), "{notifications}");
}

#[tokio::test]
async fn a_parent_invites_only_for_a_child_whose_link_is_confirmed() {
    let app = spawn_app().await;
    let (ivanova, _) = ivanova_with_proposed_children(&app).await;
    let csrf = csrf_token(&app, &ivanova).await;
    let c1 = account_by_key(&app, "c1").await;
    let family = page(&app, &ivanova, "/family").await;
    assert!(
        family.contains("id=\"no-children\"") && family.contains("id=\"proposals\""),
        "{family}"
    );

    for pupil in [c1, demo_account(&app, "novikov.ma").await.id] {
        let (status, _, body) = post(
            &app,
            &ivanova,
            "/family/invitations",
            &invite_fields(&csrf, pupil, "Лебедев", LEBEDEV_SNILS, &["diary"]),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.contains("family.not_confirmed_parent"), "{body}");
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invitations")
        .fetch_one(app.store.pool())
        .await
        .expect("count");
    assert_eq!(count, 0);

    // Confirmed now; the form's own mistakes come back with the form.
    let rel = relationship_of(&app, "c1").await;
    press(
        &app,
        &ivanova,
        "/notifications",
        &format!("/family/relationships/{rel}/accept"),
    )
    .await;
    let cases = [
        (
            invite_fields(&csrf, c1, "Лебедев", "207-307-407 32", &["diary"]),
            "СНИЛС указан неверно",
        ),
        (
            invite_fields(&csrf, c1, "Лебедев", "", &["diary"]),
            "Укажите СНИЛС или номер",
        ),
        (
            invite_fields(&csrf, c1, "", LEBEDEV_SNILS, &["diary"]),
            "Укажите фамилию",
        ),
        (
            invite_fields(&csrf, c1, "Лебедев", LEBEDEV_SNILS, &[]),
            "Выберите хотя бы один сервис",
        ),
        (
            invite_fields(&csrf, c1, "Иванова", "201-301-401 60", &["diary"]),
            "family.self_invitation",
        ),
    ];
    for (fields, expected) in cases {
        let (status, _, body) = post(&app, &ivanova, "/family/invitations", &fields).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::FORBIDDEN,
            "{status}: {body}"
        );
        assert!(body.contains(expected), "{expected}: {body}");
    }
    let (status, _, body) = post(
        &app,
        &ivanova,
        "/family/invitations",
        &invite_fields(&csrf, c1, "Лебедев", "207-307-407 32", &["diary"]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("value=\"207-307-407 32\""),
        "the form keeps what was typed: {body}"
    );
    let (status, _, _) = post(
        &app,
        &ivanova,
        "/family/invitations",
        &invite_fields("forged", c1, "Лебедев", LEBEDEV_SNILS, &["diary"]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // English on request.
    let (status, _, body) = post(
        &app,
        &ivanova,
        "/family/invitations?lang=en",
        &invite_fields(&csrf, c1, "Лебедев", "", &["diary"]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("SNILS or mobile phone number.") && body.contains("lang=\"en\""),
        "{body}"
    );
}

#[tokio::test]
async fn a_pupil_sees_only_themselves_and_the_access_api_says_why() {
    let app = spawn_app().await;
    let (volkova, run) = app.login("esia", "volkova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let volkova_id = demo_account(&app, "volkova.ad").await.id;
    let access = my_access(&app, &volkova).await;
    assert_eq!(pupil_ids(&access), vec![volkova_id.to_string()]);
    assert_eq!(access["pupils"][0]["basis"], "self");

    let arkh1 = demo_account(&app, "volkova.ad")
        .await
        .school_id
        .expect("school");
    let token = app
        .state
        .school()
        .create_school_token(arkh1, "diary", "test")
        .await
        .expect("token");
    let volkov = demo_account(&app, "volkov.ad").await.id;
    let answer = check(&app, &token, volkova_id, volkov, "diary").await;
    assert_eq!(
        (answer["allowed"].as_bool(), answer["reason"].as_str()),
        (Some(false), Some("no_relationship")),
        "{answer}"
    );
    let answer = check(&app, &token, volkova_id, volkova_id, "attendance_meals").await;
    assert_eq!(
        (answer["allowed"].as_bool(), answer["basis"].as_str()),
        (Some(true), Some("self")),
        "{answer}"
    );
    let parent = demo_account(&app, "ivanova.mp").await.id;
    let answer = check(&app, &token, parent, parent, "diary").await;
    assert_eq!(answer["reason"], "not_a_pupil", "{answer}");
    let other_school = demo_account(&app, "novikova.sa").await.id;
    let answer = check(&app, &token, other_school, other_school, "diary").await;
    assert_eq!(answer["reason"], "outside_school", "{answer}");

    let client = reqwest::Client::new();
    let url = format!(
        "{}/api/v1/access?viewer={volkova_id}&pupil={volkova_id}&service=diary",
        app.base
    );
    let status = client.get(&url).send().await.expect("request").status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let status = client
        .get(&url)
        .bearer_auth("elk_not-a-token")
        .send()
        .await
        .expect("request")
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
    let status = client
        .get(format!(
            "{}/api/v1/access?viewer={volkova_id}&pupil={volkova_id}&service=marks",
            app.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request")
        .status();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = json(
        &ScriptedBrowser::new(),
        &format!("{}/api/v1/me/access", app.base),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn notifications_are_read_through_the_page_and_the_json_api() {
    let app = spawn_app().await;
    let (ivanova, _) = ivanova_with_proposed_children(&app).await;
    let url = format!("{}/api/v1/me/notifications", app.base);
    let (status, body) = json(&ivanova, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["unread"], 3, "{body}");
    let first = &body["items"][0];
    assert_eq!(first["kind"], "relationship_invitation");
    assert!(
        first["answer"]["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/family/relationships/")),
        "{first}"
    );
    assert!(
        first["text"]
            .as_str()
            .is_some_and(|t| t.contains("указала вас родителем")),
        "{first}"
    );
    let id = first["id"].as_str().expect("id").to_string();

    let csrf = csrf_token(&app, &ivanova).await;
    let read = |token: String| {
        let url = format!("{}/api/v1/me/notifications/{id}/read", app.base);
        let request = ivanova
            .request(Method::POST, &url)
            .header("x-csrf-token", token);
        let ivanova = &ivanova;
        async move { ivanova.send(request).await.expect("request").status() }
    };
    assert_eq!(read("forged".into()).await, StatusCode::FORBIDDEN);
    assert_eq!(read(csrf.clone()).await, StatusCode::OK);
    let (_, body) = json(&ivanova, &url).await;
    assert_eq!(body["unread"], 2, "{body}");

    // Someone else's notification is not found for them.
    let (fedorov, _) = app.login("esia", "fedorov", Consent::Allow).await;
    let fedorov_csrf = csrf_token(&app, &fedorov).await;
    let url = format!("{}/api/v1/me/notifications/{id}/read", app.base);
    let status = fedorov
        .send(
            fedorov
                .request(Method::POST, &url)
                .header("x-csrf-token", fedorov_csrf),
        )
        .await
        .expect("request")
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The page's own button marks the next one read.
    let centre = page(&app, &ivanova, "/notifications").await;
    let next = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["read"] == false)
        .and_then(|i| i["id"].as_str())
        .expect("an unread one")
        .to_string();
    let fields = fill_form(&centre, &format!("/notifications/{next}/read"), &[]);
    let (status, location, _) = post(
        &app,
        &ivanova,
        &format!("/notifications/{next}/read"),
        &fields,
    )
    .await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/notifications"))
    );
    let centre = page(&app, &ivanova, "/notifications?lang=en").await;
    assert!(centre.contains("Unread: 1"), "{centre}");
    assert!(centre.contains("lists you as a parent of"), "{centre}");
}

/// `esia-link bench access` on a small school: the mix answers both ways.
#[tokio::test]
async fn the_access_benchmark_runs_on_a_small_school() {
    let db = crate::helpers::fresh_database().await;
    let mut config = esia_link::demo::demo_base_config().expect("config");
    config.database.url = esia_link::config::Secret::new(db.url.as_str());
    let mut bench = esia_link::demo::bench_access::AccessBench {
        pupils: 40,
        parents: 60,
        trusted: 10,
        checks: 2000,
        concurrency: 8,
        ..Default::default()
    };
    let cached = esia_link::demo::bench_access::access(config.clone(), &bench)
        .await
        .expect("bench runs");
    assert_eq!(cached.checks, 2000);
    assert!(cached.allowed > 500 && cached.allowed < 2000, "{cached:?}");
    assert!(cached.p99_ms >= cached.p50_ms && cached.checks_per_second > 0.0);
    // The same checks without the cache: the same answers, none from it.
    bench.cache = false;
    let uncached = esia_link::demo::bench_access::access(config, &bench)
        .await
        .expect("bench runs");
    assert_eq!(uncached.allowed, cached.allowed);
    assert_eq!(uncached.cache_hits, 0);
    assert!(cached.cache_hits > 0, "{cached:?}");
}

#[tokio::test]
async fn the_account_page_leads_to_diaries_invitations_and_the_family_page() {
    let app = spawn_app().await;
    let clock = manual_clock(&app);
    let (ivanova, _, c1) = parent_with_confirmed_child(&app).await;
    let home = page(&app, &ivanova, "/account").await;
    for expected in [
        format!("id=\"diary-{c1}\""),
        "Дневник: Иванов Пётр Сергеевич (Школа № 5, 3Б)".to_string(),
        "href=\"/family\"".to_string(),
        "id=\"to-notifications\"".to_string(),
    ] {
        assert!(home.contains(&expected), "{expected}: {home}");
    }
    assert!(
        !home.contains("id=\"link-esia\""),
        "State Services is linked already"
    );
    assert!(
        !home.contains("id=\"to-console\""),
        "no console for a parent"
    );

    let csrf = csrf_token(&app, &ivanova).await;
    let (status, _, body) = post(
        &app,
        &ivanova,
        "/family/invitations",
        &invite_fields(&csrf, c1, "Лебедев", LEBEDEV_SNILS, &["diary"]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let invitation = invitation_for(&app, "Лебедев").await;

    // The invited person's first login lands on the invitation, answerable
    // there; no empty school or region rows, no empty tables.
    let (lebedev, run) = app.login("esia", "lebedev", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let home = page(&app, &lebedev, "/account").await;
    assert!(
        home.contains(&format!("id=\"invitation-{invitation}\"")),
        "{home}"
    );
    assert!(home.contains("Иванова Мария Петровна"), "{home}");
    assert!(home.contains("Уведомления: новых 1"), "{home}");
    assert!(!home.contains("<th>Школа</th>"), "{home}");
    assert!(!home.contains("id=\"diaries\""), "{home}");
    assert!(!home.contains("id=\"to-family\""), "{home}");
    let (status, _, body) = press(
        &app,
        &lebedev,
        "/account",
        &format!("/family/invitations/{invitation}/accept"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let home = page(&app, &lebedev, "/account").await;
    assert!(home.contains("откроется"), "the waiting period: {home}");
    assert!(!home.contains(&format!("id=\"diary-{c1}\"")), "{home}");
    clock.advance(Duration::hours(24) + Duration::minutes(1));
    let home = page(&app, &lebedev, "/account").await;
    assert!(home.contains(&format!("id=\"diary-{c1}\"")), "{home}");
    // A later login is no error: people without a school are normal.
    let (_, run) = app.login("esia", "lebedev", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
}
