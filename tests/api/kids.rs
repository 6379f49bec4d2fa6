//! Children confirmed from State Services data (#10): a parent logs in
//! through the mock ESIA with the `kid_*` scopes; each child whose SNILS and
//! full name match a pupil whose school listed this parent is confirmed
//! (basis `esia_kids`, audited "confirmed by State Services data"); a child
//! no school lists, or a pupil whose school listed someone else, is left
//! alone ("ask the school"); the region switch turns it off; a refused kids
//! call does not break the login.
//!
//! Mock «ivanova» has three kids: Илья (ivanov.is) and Дарья (ivanova.ds),
//! pupils of her school in the demo roster, and Тимофей, in no roster. The
//! tests list the pupils as her children the way a school's roster does.

use esia_link::app::login::kids::KidsResult;
use esia_link::demo::browser::{Consent, ScriptedBrowser};
use esia_link::federation::FederatedKid;
use esia_link::store::Store;
use esia_link::web::AppState;
use mock_idp::Fault;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{demo_account, spawn_app};

const REASON: &str = "confirmed by State Services data";

/// The school of `parent` lists `pupil` as their child (roster keys are
/// the demo logins), as a roster import's `children` column does.
async fn school_lists(app: &Store, parent: &str, pupil: &str) {
    let school = app
        .find_account_by_login(parent)
        .await
        .expect("query")
        .and_then(|a| a.school_id)
        .expect("a roster account with a school");
    let added = app
        .propose_relationships(school, &[(parent.to_string(), pupil.to_string())], "test")
        .await
        .expect("propose");
    assert_eq!(added, 1, "{parent} → {pupil}");
}

#[derive(Debug, PartialEq)]
struct Link {
    status: String,
    basis: Option<String>,
    holder: Option<String>,
    decided: bool,
}

async fn link(app: &Store, parent: &str, pupil: &str) -> (Uuid, Link) {
    let row: (String, String, Option<String>, Option<String>, Option<i64>) = sqlx::query_as(
        "SELECT r.id, r.status, r.basis, r.holder_id, r.decided_at FROM relationships r
         JOIN accounts p ON p.id = r.parent_id JOIN accounts c ON c.id = r.pupil_id
         WHERE p.login = $1 AND c.login = $2",
    )
    .bind(parent)
    .bind(pupil)
    .fetch_one(app.pool())
    .await
    .unwrap_or_else(|e| panic!("{parent} → {pupil}: {e}"));
    (
        Uuid::parse_str(&row.0).expect("uuid"),
        Link {
            status: row.1,
            basis: row.2,
            holder: row.3,
            decided: row.4.is_some(),
        },
    )
}

fn proposed() -> Link {
    Link {
        status: "proposed".into(),
        basis: None,
        holder: None,
        decided: false,
    }
}

fn confirmed_by_esia(holder: Uuid) -> Link {
    Link {
        status: "confirmed".into(),
        basis: Some("esia_kids".into()),
        holder: Some(holder.to_string()),
        decided: true,
    }
}

/// Audit rows "relationship.confirmed" for `target` with the ESIA reason.
async fn esia_audits(app: &Store, target: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log
         WHERE action = 'relationship.confirmed' AND target_id = $1 AND reason = $2",
    )
    .bind(target.to_string())
    .bind(REASON)
    .fetch_one(app.pool())
    .await
    .expect("audit")
}

async fn count(app: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.pool())
        .await
        .expect("count")
}

async fn my_pupils(base: &str, browser: &ScriptedBrowser) -> Vec<String> {
    let url = format!("{base}/api/v1/me/access");
    let response = browser
        .send(browser.request(Method::GET, &url))
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    let mut ids: Vec<String> = body["pupils"]
        .as_array()
        .expect("pupils")
        .iter()
        .map(|p| p["pupil_id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

fn kid(surname: &str, given: &str, patronymic: &str, born: &str, snils: &str) -> FederatedKid {
    FederatedKid {
        surname: Some(surname.into()),
        given_name: Some(given.into()),
        patronymic: Some(patronymic.into()),
        birth_date: chrono::NaiveDate::parse_from_str(born, "%Y-%m-%d").ok(),
        snils: Some(snils.into()),
    }
}

/// Ivanova's kids as the mock lists them.
fn ivanova_kids() -> Vec<FederatedKid> {
    vec![
        kid(
            "Иванов",
            "Илья",
            "Сергеевич",
            "2013-05-14",
            "221-321-421 90",
        ),
        kid(
            "Иванова",
            "Дарья",
            "Сергеевна",
            "2016-09-02",
            "222-322-422 01",
        ),
        kid(
            "Иванов",
            "Тимофей",
            "Сергеевич",
            "2021-02-10",
            "223-323-423 13",
        ),
    ]
}

#[tokio::test]
async fn both_children_the_school_listed_are_confirmed_at_the_parent_s_login() {
    let app = spawn_app().await;
    school_lists(&app.store, "ivanova.mp", "ivanov.is").await;
    school_lists(&app.store, "ivanova.mp", "ivanova.ds").await;
    let parent = demo_account(&app, "ivanova.mp").await.id;
    let calls = app.idp.person_calls();

    let (browser, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    assert_eq!(
        app.idp.person_calls() - calls,
        2,
        "the person, then the kids"
    );

    let mut children = Vec::new();
    for pupil in ["ivanov.is", "ivanova.ds"] {
        let (id, state) = link(&app.store, "ivanova.mp", pupil).await;
        assert_eq!(state, confirmed_by_esia(parent), "{pupil}");
        assert_eq!(esia_audits(&app.store, id).await, 1, "{pupil}");
        let child = demo_account(&app, pupil).await.id;
        let told: Vec<String> = sqlx::query_scalar(
            "SELECT kind FROM notifications WHERE account_id = $1 AND subject_id = $2",
        )
        .bind(child.to_string())
        .bind(id.to_string())
        .fetch_all(app.store.pool())
        .await
        .expect("notifications");
        assert_eq!(told, vec!["relationship_confirmed"], "{pupil} is told");
        children.push(child.to_string());
    }
    children.sort();
    assert_eq!(
        my_pupils(&app.base, &browser).await,
        children,
        "she sees both diaries"
    );

    // The next login finds them confirmed and writes nothing.
    let audit = count(&app.store, "SELECT COUNT(*) FROM audit_log").await;
    let (_, again) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(again.landed_at(), Some("/account"));
    assert_eq!(
        count(&app.store, "SELECT COUNT(*) FROM audit_log").await,
        audit
    );
    let result = app
        .state
        .login()
        .confirm_kids_from_esia(parent, &ivanova_kids())
        .await
        .expect("confirm");
    assert!(result.confirmed.is_empty(), "{result:?}");
    assert_eq!(result.unchanged.len(), 2, "{result:?}");
    assert_eq!(result.ask_the_school, vec!["И***** Т. С.".to_string()]);
}

#[tokio::test]
async fn a_child_no_school_lists_is_ask_the_school_and_nothing_changes() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    assert_eq!(
        count(
            &app.store,
            "SELECT COUNT(*) FROM relationships WHERE status <> 'proposed'"
        )
        .await,
        0
    );
    let audit = count(&app.store, "SELECT COUNT(*) FROM audit_log").await;
    let parent = demo_account(&app, "ivanova.mp").await.id;
    let KidsResult {
        confirmed,
        unchanged,
        ask_the_school,
    } = app
        .state
        .login()
        .confirm_kids_from_esia(parent, &ivanova_kids())
        .await
        .expect("confirm");
    assert!(confirmed.is_empty() && unchanged.is_empty());
    assert_eq!(
        ask_the_school,
        vec![
            "И***** И. С.".to_string(),
            "И***** Д. С.".to_string(),
            "И***** Т. С.".to_string()
        ],
        "pupils with her children's SNILS exist, but no school listed her"
    );
    assert_eq!(
        count(&app.store, "SELECT COUNT(*) FROM audit_log").await,
        audit
    );
    // A kid whose SNILS is a pupil's but whose name is not: left alone too.
    school_lists(&app.store, "ivanova.mp", "ivanov.is").await;
    let stranger = kid(
        "Петров",
        "Илья",
        "Сергеевич",
        "2013-05-14",
        "221-321-421 90",
    );
    let result = app
        .state
        .login()
        .confirm_kids_from_esia(parent, &[stranger])
        .await
        .expect("confirm");
    assert_eq!(result.ask_the_school, vec!["П***** И. С.".to_string()]);
    assert_eq!(
        link(&app.store, "ivanova.mp", "ivanov.is").await.1,
        proposed()
    );
}

#[tokio::test]
async fn a_pupil_whose_school_listed_another_parent_is_left_alone() {
    let app = spawn_app().await;
    school_lists(&app.store, "ivanova.mp", "ivanov.is").await;
    school_lists(&app.store, "fedorov.pi", "ivanova.ds").await;
    let parent = demo_account(&app, "ivanova.mp").await.id;

    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let (ilya, state) = link(&app.store, "ivanova.mp", "ivanov.is").await;
    assert_eq!(state, confirmed_by_esia(parent));
    assert_eq!(esia_audits(&app.store, ilya).await, 1);
    let (darya, state) = link(&app.store, "fedorov.pi", "ivanova.ds").await;
    assert_eq!(state, proposed(), "another parent's link stays as it was");
    assert_eq!(esia_audits(&app.store, darya).await, 0);

    let result = app
        .state
        .login()
        .confirm_kids_from_esia(parent, &ivanova_kids())
        .await
        .expect("confirm");
    assert_eq!(
        result.ask_the_school,
        vec!["И***** Д. С.".to_string(), "И***** Т. С.".to_string()]
    );
    assert_eq!(result.unchanged.len(), 1);
}

#[tokio::test]
async fn a_mock_that_refuses_the_kids_call_does_not_break_the_login() {
    let app = spawn_app().await;
    school_lists(&app.store, "ivanova.mp", "ivanov.is").await;
    app.idp.set_fault(Fault::KidsRefused);
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    app.idp.clear_faults();
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    assert_eq!(app.link_count().await, 1, "linked as usual");
    assert_eq!(
        link(&app.store, "ivanova.mp", "ivanov.is").await.1,
        proposed()
    );
    // Without the fault, the next login confirms.
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let parent = demo_account(&app, "ivanova.mp").await.id;
    assert_eq!(
        link(&app.store, "ivanova.mp", "ivanov.is").await.1,
        confirmed_by_esia(parent)
    );
}

#[tokio::test]
async fn the_demo_roster_s_listed_child_is_confirmed_and_the_other_is_not() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "novikova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let parent = demo_account(&app, "novikova.oi").await.id;
    let (id, state) = link(&app.store, "novikova.oi", "novikov.ma").await;
    assert_eq!(state, confirmed_by_esia(parent));
    assert_eq!(esia_audits(&app.store, id).await, 1);
    // Софья's school (another region) listed nobody.
    assert_eq!(
        count(
            &app.store,
            "SELECT COUNT(*) FROM relationships r JOIN accounts c ON c.id = r.pupil_id
             WHERE c.login = 'novikova.sa'"
        )
        .await,
        0
    );
}

/// The demo app with State Services kids confirmation switched off in
/// region 29 (the schools of Иванова and her children).
struct SwitchedOff {
    base: String,
    idp: mock_idp::MockIdp,
    state: AppState,
    store: Store,
    certificates: std::path::PathBuf,
    _db: crate::helpers::TestDb,
}

impl Drop for SwitchedOff {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.certificates);
    }
}

async fn spawn_switched_off() -> SwitchedOff {
    use esia_link::demo::{demo_base_config, demo_clients, demo_config, write_esia_certificates};
    crate::helpers::install_crypto();
    let idp = mock_idp::spawn(mock_idp::MockIdpConfig::default())
        .await
        .expect("mock IdP starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let db = crate::helpers::fresh_database().await;
    let certificates =
        std::env::temp_dir().join(format!("esia-link-test-{}.pem", Uuid::new_v4().simple()));
    write_esia_certificates(&idp, &certificates).expect("certificates");
    let mut config = demo_config(
        demo_base_config().expect("demo config"),
        &base,
        &idp.base_url(),
        &db.url,
        &certificates,
    );
    config.server.listen = listener.local_addr().expect("addr");
    config.log.filter = "warn".into();
    config.notify.dir =
        std::env::temp_dir().join(format!("esia-link-outbox-{}", Uuid::new_v4().simple()));
    for region in &mut config.regions {
        if region.code == 29 {
            region.esia_kids_confirmation = false;
        }
    }
    idp.set_clients(demo_clients(&config));
    let app = esia_link::startup::Application::build_with_listener(config, listener)
        .await
        .expect("app builds");
    let state = app.state();
    let store = app.store();
    esia_link::ops::roster::seed(&state, &store, esia_link::ops::roster::DEMO_ROSTER, "test")
        .await
        .expect("roster seeds");
    tokio::spawn(app.run_until_stopped());
    SwitchedOff {
        base,
        idp,
        state,
        store,
        certificates,
        _db: db,
    }
}

#[tokio::test]
async fn with_the_region_switch_off_nothing_is_confirmed() {
    let app = spawn_switched_off().await;
    assert!(!app.state.login().kids_confirmation_enabled(Some(29)));
    assert!(app.state.login().kids_confirmation_enabled(Some(78)));
    school_lists(&app.store, "ivanova.mp", "ivanov.is").await;
    school_lists(&app.store, "ivanova.mp", "ivanova.ds").await;
    let run = ScriptedBrowser::new()
        .login(
            &app.base,
            &format!("{}/auth/start/esia", app.base),
            "ivanova",
            "demo",
            Consent::Allow,
        )
        .await
        .expect("the flow runs");
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    assert!(app.idp.person_calls() > 0);
    for pupil in ["ivanov.is", "ivanova.ds"] {
        assert_eq!(
            link(&app.store, "ivanova.mp", pupil).await.1,
            proposed(),
            "{pupil}"
        );
    }
    let confirmations = count(
        &app.store,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'relationship.confirmed'",
    )
    .await;
    assert_eq!(confirmations, 0);
}
