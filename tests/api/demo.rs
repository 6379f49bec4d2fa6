//! What `esia-link demo` seeds for the journeys of #26 and its clock
//! control, checked through the app as the people see it: the parent's
//! two confirmed children in schools of two regions, the grandmother's
//! open grant and the invitation waiting for her, the school administrator
//! and the operator reaching their consoles, and `/demo` naming them all
//! and moving the clock so that an accepted invitation opens.

use esia_link::demo::browser::{Consent, ScriptedBrowser};
use esia_link::demo::journeys;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{demo_account, fill_form, spawn_app_with, AppOptions, TestApp};

async fn demo_app() -> TestApp {
    spawn_app_with(AppOptions {
        demo: true,
        ..AppOptions::default()
    })
    .await
}

async fn access(app: &TestApp, browser: &ScriptedBrowser) -> Value {
    let response = browser
        .send(browser.request(Method::GET, &format!("{}/api/v1/me/access", app.base)))
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// (name, school) of each pupil the access list shows.
fn pupils(access: &Value, list: &str) -> Vec<(String, String)> {
    let mut pupils: Vec<(String, String)> = access[list]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["full_name"].as_str().unwrap_or_default().to_string(),
                        p["school"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    pupils.sort();
    pupils
}

async fn get(app: &TestApp, browser: &ScriptedBrowser, path: &str) -> (StatusCode, String) {
    let hop = browser
        .get(&format!("{}{path}", app.base))
        .await
        .expect("page");
    (hop.status, hop.body)
}

async fn region_of_school(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT region_code FROM schools WHERE name = $1")
        .bind(name)
        .fetch_one(app.store.pool())
        .await
        .expect("school")
}

fn full_name(account: &esia_link::store::Account) -> String {
    format!(
        "{} {} {}",
        account.surname,
        account.given_name,
        account.patronymic.as_deref().unwrap_or_default()
    )
}

#[tokio::test]
async fn the_demo_has_a_parent_a_grandmother_a_school_admin_and_an_operator() {
    let app = demo_app().await;

    // The parent: two children, both hers (confirmed), in two regions.
    let (parent, run) = app.login("esia", journeys::PARENT, Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let mine = access(&app, &parent).await;
    let children = pupils(&mine, "pupils");
    assert_eq!(children.len(), 2, "{mine}");
    let maxim = full_name(&demo_account(&app, journeys::OPEN_FOR).await);
    let sofya = full_name(&demo_account(&app, journeys::PENDING_FOR).await);
    assert!(children.iter().any(|(name, _)| *name == maxim), "{mine}");
    assert!(children.iter().any(|(name, _)| *name == sofya), "{mine}");
    assert!(mine["pupils"]
        .as_array()
        .expect("pupils")
        .iter()
        .all(|p| p["basis"] == "parent"));
    let regions = [
        region_of_school(&app, &children[0].1).await,
        region_of_school(&app, &children[1].1).await,
    ];
    assert_ne!(regions[0], regions[1], "{children:?}");
    let (status, family) = get(&app, &parent, "/family").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        family.contains(&maxim) && family.contains(&sofya),
        "{family}"
    );

    // The grandmother: one grant open, one invitation waiting for her.
    let (grandma, run) = app
        .login("esia", journeys::GRANDMOTHER, Consent::Allow)
        .await;
    assert!(
        run.landed_at()
            .is_some_and(|at| !at.starts_with("/auth/outcome")),
        "{:?}",
        run.outcome
    );
    let hers = access(&app, &grandma).await;
    assert_eq!(pupils(&hers, "pupils").len(), 1, "{hers}");
    assert_eq!(pupils(&hers, "pupils")[0].0, maxim, "{hers}");
    assert_eq!(hers["pupils"][0]["basis"], "trusted", "{hers}");
    assert!(pupils(&hers, "upcoming").is_empty(), "{hers}");
    let (_, centre) = get(&app, &grandma, "/notifications").await;
    assert!(
        centre.contains("/family/invitations/") && centre.contains("/accept"),
        "{centre}"
    );

    // The school administrator and the operator reach their consoles.
    let (admin, run) = app.login("esia", "school_admin", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    assert_eq!(get(&app, &admin, "/school").await.0, StatusCode::OK);
    let (operator, run) = app.login("esia", "operator", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    assert_eq!(get(&app, &operator, "/ops").await.0, StatusCode::OK);

    // `/demo` names each of them as the data does, with their login.
    let (status, guide) = get(&app, &ScriptedBrowser::new(), "/demo").await;
    assert_eq!(status, StatusCode::OK);
    let admin_account = demo_account(&app, "lebedeva.tv").await;
    let operator_account = demo_account(&app, "kravtsova.ea").await;
    for (login, name) in [
        (
            journeys::PARENT,
            full_name(&demo_account(&app, "novikova.oi").await),
        ),
        (
            journeys::GRANDMOTHER,
            "Новикова Галина Петровна".to_string(),
        ),
        ("school_admin", full_name(&admin_account)),
        ("operator", full_name(&operator_account)),
    ] {
        assert!(guide.contains(&format!("<b>{login}</b>")), "{guide}");
        assert!(guide.contains(&name), "{name}: {guide}");
    }
    for (_, school) in &children {
        assert!(guide.contains(school.as_str()), "{school}: {guide}");
    }
}

#[tokio::test]
async fn the_demo_clock_lets_a_visitor_see_the_waiting_period_pass() {
    let app = demo_app().await;
    let sofya = full_name(&demo_account(&app, journeys::PENDING_FOR).await);
    let (grandma, _) = app
        .login("esia", journeys::GRANDMOTHER, Consent::Allow)
        .await;

    // She accepts the invitation waiting for her: access opens in 24 hours.
    let (_, centre) = get(&app, &grandma, "/notifications").await;
    let at = centre.find("/family/invitations/").expect("an invitation");
    let end = at + centre[at..].find("/accept").expect("accept") + "/accept".len();
    let accept = centre[at..end].to_string();
    let fields = fill_form(&centre, &accept, &[]);
    let hop = grandma
        .post_form(&format!("{}{accept}", app.base), &fields)
        .await
        .expect("post");
    assert_eq!(hop.status, StatusCode::SEE_OTHER, "{}", hop.body);
    let hers = access(&app, &grandma).await;
    assert!(!pupils(&hers, "pupils").iter().any(|(n, _)| *n == sofya));
    assert!(pupils(&hers, "upcoming").iter().any(|(n, _)| *n == sofya));

    // A press of «+24 ч» on /demo, and Софья's diary is open to her.
    let visitor = ScriptedBrowser::new();
    let (_, page) = get(&app, &visitor, "/demo").await;
    assert!(page.contains("как настоящие"), "{page}");
    let fields = fill_form(&page, "/demo/clock", &[]);
    let hop = visitor
        .post_form(&format!("{}/demo/clock", app.base), &fields)
        .await
        .expect("post");
    assert_eq!(hop.status, StatusCode::SEE_OTHER, "{}", hop.body);
    assert_eq!(hop.location.as_deref(), Some("/demo"));
    let (_, page) = get(&app, &visitor, "/demo").await;
    assert!(page.contains("впереди настоящих на 24 часа"), "{page}");
    let hers = access(&app, &grandma).await;
    assert!(
        pupils(&hers, "pupils").iter().any(|(n, _)| *n == sofya),
        "{hers}"
    );
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'demo.clock_advanced'")
            .fetch_one(app.store.pool())
            .await
            .expect("audit");
    assert_eq!(audited, 1);

    // In English on request; a post from another site moves nothing.
    let (_, english) = get(&app, &visitor, "/demo?lang=en").await;
    assert!(
        english.contains("ahead of the real one by 24 hours"),
        "{english}"
    );
    let forged = reqwest::Client::new()
        .post(format!("{}/demo/clock", app.base))
        .header("origin", "https://evil.example")
        .form(&[("hours", "24")])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.clock.offset().num_hours(), 24);
}

#[test]
fn hours_read_as_russian_counts_them() {
    use esia_link::demo::page::hours;
    use esia_link::i18n::Lang;
    for (n, ru) in [
        (1, "1 час"),
        (2, "2 часа"),
        (5, "5 часов"),
        (11, "11 часов"),
        (21, "21 час"),
        (24, "24 часа"),
        (48, "48 часов"),
        (72, "72 часа"),
        (112, "112 часов"),
    ] {
        assert_eq!(hours(n, Lang::Ru), ru);
    }
    assert_eq!(hours(1, Lang::En), "1 hour");
    assert_eq!(hours(24, Lang::En), "24 hours");
}
