//! The school side: roster import (every bad row reported, nothing written
//! unless all are good or `partial`, idempotent re-import), the school
//! admin API and its tokens, activation codes (hashed at rest, reissue
//! revokes), the OpenAPI document and the CLI.

use esia_link::domain::code::ActivationCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

const HEADER: &str = "key,role,surname,given_name,patronymic,birth_date,snils,class,children\n";

/// A school of the test app's own, with an API token.
async fn school_with_token(app: &TestApp) -> (Uuid, String) {
    let school = app
        .state
        .create_school(29, "Школа № 7 г. Архангельска", "test")
        .await
        .expect("school");
    let token = app
        .state
        .create_school_token(school.id, "test", "test")
        .await
        .expect("token");
    (school.id, token)
}

async fn post_roster(
    app: &TestApp,
    school: Uuid,
    token: &str,
    query: &str,
    csv: &str,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/schools/{school}/roster{query}",
            app.base
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json report"))
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(app.state.store().pool())
        .await
        .expect("count")
}

fn problem_codes(report: &Value) -> Vec<(u64, String, String)> {
    report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["row"].as_u64().expect("row"),
                p["column"].as_str().unwrap_or("").to_string(),
                p["code"].as_str().expect("code").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_bad_row_is_reported_and_nothing_is_written() {
    let app = spawn_app().await;
    let (school, token) = school_with_token(&app).await;
    let accounts = count(&app, "SELECT COUNT(*) FROM accounts").await;
    let audit = count(&app, "SELECT COUNT(*) FROM audit_log").await;
    // The demo roster holds 212-312-412 87 (Новиков Максим, another school).
    let csv = format!(
        "{HEADER}\
         p1,pupil,Смирнов,Олег,Ильич,2014-09-01,112-233-445 96,5А,\n\
         p2,pupil,,Вера,,2015-01-01,,5А,\n\
         p3,директор,Котов,Иван,,31.02.2010,,,\n\
         p4,pupil,Лисин,Павел,,2013-03-03,112-233-445 95,5Б,\n\
         p5,pupil,Орлова,Дарья,,2013-04-04,112-233-445 95,5Б,\n\
         p4,teacher,Котова,Анна,,1970-01-01,,,\n\
         m1,parent,Лисина,Мария,,1985-05-05,,,p4 p9\n\
         p6,pupil,Чужой,Максим,,2014-09-01,212-312-412 87,5А,\n"
    );
    let (status, report) = post_roster(&app, school, &token, "?lang=en", &csv).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(
        problem_codes(&report),
        vec![
            (1, "snils".into(), "bad_snils_checksum".into()),
            (2, "surname".into(), "missing".into()),
            (3, "role".into(), "unknown_role".into()),
            (3, "birth_date".into(), "bad_date".into()),
            (5, "snils".into(), "duplicate_snils".into()),
            (6, "key".into(), "duplicate_key".into()),
            (7, "children".into(), "unknown_child".into()),
            (8, "snils".into(), "snils_taken".into()),
        ],
        "{report:#}"
    );
    assert_eq!(report["problems_total"], 8);
    assert_eq!(report["written"], false);
    assert!(
        report["problems"][0]["message"]
            .as_str()
            .expect("message")
            .contains("check number"),
        "English on request: {report}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM accounts").await, accounts);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log").await, audit);

    // The same file in Russian, as the CLI shows it.
    let (_, report) = post_roster(&app, school, &token, "", &csv).await;
    assert!(
        report["problems"][1]["message"]
            .as_str()
            .expect("message")
            .contains("не заполнено"),
        "{report}"
    );
}

#[tokio::test]
async fn partial_import_writes_the_good_rows_and_reimport_changes_nothing_twice() {
    let app = spawn_app().await;
    let (school, token) = school_with_token(&app).await;
    let csv = format!(
        "{HEADER}\
         p1,pupil,Смирнов,Олег,Ильич,2014-09-01,112-233-445 95,5А,\n\
         p2,pupil,Смирнова,Вера,Ильинична,2016-01-01,,2А,\n\
         p3,pupil,Котов,Иван,,2010-01-01,,,\n\
         m1,parent,Смирнова,Ольга,Петровна,1985-05-05,,,p1;p2\n"
    );
    let (status, report) = post_roster(&app, school, &token, "?partial=true", &csv).await;
    assert_eq!(status, 422, "a bad row is still reported: {report}");
    assert_eq!(report["written"], true);
    assert_eq!(report["created"], 3);
    assert_eq!(report["relationships_added"], 2);
    assert_eq!(report["written_rows"], serde_json::json!([[1, 2], [4, 4]]));
    let people = |sql: &str| sql.replace("$SCHOOL", &school.to_string());
    assert_eq!(
        count(
            &app,
            &people("SELECT COUNT(*) FROM accounts WHERE school_id = '$SCHOOL'")
        )
        .await,
        3
    );

    // Fixed and sent again: the bad row goes in, the others are updated,
    // nothing is duplicated, no relationship is proposed twice.
    let fixed = csv.replace("2010-01-01,,,", "2010-01-01,,9В,");
    let (status, report) = post_roster(&app, school, &token, "", &fixed).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["created"].clone(), report["updated"].clone()),
        (1.into(), 3.into())
    );
    assert_eq!(report["relationships_added"], 0);
    let (_, again) = post_roster(&app, school, &token, "", &fixed).await;
    assert_eq!(
        (again["created"].clone(), again["updated"].clone()),
        (0.into(), 4.into())
    );
    assert_eq!(
        count(
            &app,
            &people("SELECT COUNT(*) FROM accounts WHERE school_id = '$SCHOOL'")
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &app,
            &people(
                "SELECT COUNT(*) FROM relationships r JOIN accounts a ON a.id = r.parent_id
                 WHERE a.school_id = '$SCHOOL' AND r.status = 'proposed'"
            )
        )
        .await,
        2
    );
    // A dry run checks and writes nothing.
    let audit = count(&app, "SELECT COUNT(*) FROM audit_log").await;
    let (status, dry) = post_roster(&app, school, &token, "?dry_run=true", &fixed).await;
    assert_eq!((status, dry["written"].clone()), (200, false.into()));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log").await, audit);
}

#[tokio::test]
async fn the_same_person_at_another_school_is_a_warning_not_an_error() {
    let app = spawn_app().await;
    let (school, token) = school_with_token(&app).await;
    // Новиков Максим Андреевич, 2014-09-01, 212-312-412 87 is a pupil of
    // the demo's spb2 school; here he is (also) a pupil, and a different
    // person claims another demo SNILS.
    let csv = format!(
        "{HEADER}\
         x1,pupil,Новиков,Максим,Андреевич,01.09.2014,21231241287,3А,\n"
    );
    let (status, report) = post_roster(&app, school, &token, "", &csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["warnings"][0]["kind"], "same_person_elsewhere");
}

#[tokio::test]
async fn a_token_acts_for_its_own_school_only() {
    let app = spawn_app().await;
    let (school, token) = school_with_token(&app).await;
    let (other, _) = school_with_token(&app).await;
    let client = reqwest::Client::new();
    let people = |school: Uuid| format!("{}/api/v1/schools/{school}/people", app.base);
    let status = |r: reqwest::Response| r.status().as_u16();
    let no_token = client.get(people(school)).send().await.expect("request");
    assert_eq!(status(no_token), 401);
    let foreign = client
        .get(people(other))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(status(foreign), 403);
    let guessed = client
        .get(people(school))
        .bearer_auth("elk_guessed")
        .send()
        .await
        .expect("request");
    assert_eq!(status(guessed), 403);
    let own = client
        .get(people(school))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(status(own), 200);
    // Stored hashed: the plaintext is nowhere in the database.
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM school_tokens WHERE token_hash = '{token}'")
        )
        .await,
        0
    );
}

#[tokio::test]
async fn codes_are_hashed_at_rest_and_reissuing_revokes_the_previous_one() {
    let app = spawn_app().await;
    let (school, token) = school_with_token(&app).await;
    let csv = format!(
        "{HEADER}\
         p1,pupil,Смирнов,Олег,Ильич,2014-09-01,,5А,\n\
         p2,pupil,Смирнова,Вера,,2016-01-01,,2А,\n"
    );
    assert_eq!(post_roster(&app, school, &token, "", &csv).await.0, 200);
    let issue = |body: Value| {
        let client = reqwest::Client::new();
        let url = format!("{}/api/v1/schools/{school}/codes", app.base);
        let token = token.clone();
        async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status().as_u16(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    let first = issue(serde_json::json!({"class": "5А"})).await;
    assert_eq!(first["issued"], 1);
    let code = first["codes"][0]["code"]
        .as_str()
        .expect("code")
        .to_string();
    assert!(first["codes"][0]["activation_url"]
        .as_str()
        .expect("url")
        .ends_with(&format!("/activate?code={code}")));
    let parsed = ActivationCode::parse(&code).expect("a code reads back");
    let hash = app.state.codes().hash(&parsed);
    let stored = app
        .state
        .store()
        .find_activation_code(&hash)
        .await
        .expect("query")
        .expect("stored under its hash");
    assert!(stored.revoked_at.is_none());
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM activation_codes WHERE code_hash LIKE '%{code}%'")
        )
        .await,
        0,
        "no plaintext at rest"
    );
    let all = issue(serde_json::json!({})).await;
    assert_eq!(all["issued"], 2);
    let revoked = app
        .state
        .store()
        .find_activation_code(&hash)
        .await
        .expect("query")
        .expect("kept");
    assert!(
        revoked.revoked_at.is_some(),
        "reissuing revokes the first code"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_school_api() {
    let app = spawn_app().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    for path in [
        "/api/v1/schools/{school}/roster",
        "/api/v1/schools/{school}/people",
        "/api/v1/schools/{school}/codes",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} in {doc}");
    }
    assert!(doc["components"]["securitySchemes"]["school_token"].is_object());
}

#[tokio::test]
async fn the_cli_imports_a_file_and_issues_codes_with_sheets() {
    let app = spawn_app().await;
    let (school, _) = school_with_token(&app).await;
    let dir = std::env::temp_dir().join(format!("esia-link-roster-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("roster.csv");
    // Semicolons and Russian headers, as Excel writes them.
    std::fs::write(
        &file,
        "Ключ;Роль;Фамилия;Имя;Отчество;Дата рождения;СНИЛС;Класс;Дети\n\
         p1;ученик;Смирнов;Олег;Ильич;01.09.2014;;5А;\n\
         m1;родитель;Смирнова;Ольга;;05.05.1985;;;p1\n",
    )
    .expect("write");
    let hmac = esia_link::demo::demo_base_config()
        .expect("demo config")
        .security
        .hmac_key
        .expose()
        .to_string();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_esia-link"))
            .args(args)
            .env("ESIA_LINK__DATABASE__URL", app.database_url())
            .env("ESIA_LINK__SECURITY__HMAC_KEY", &hmac)
            .output()
            .expect("runs")
    };
    let school_arg = school.to_string();
    let output = run(&[
        "roster",
        "import",
        file.to_str().expect("path"),
        "--school",
        &school_arg,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("новых — 2"), "{stdout}");
    let sheets = dir.join("sheets.html");
    let output = run(&[
        "codes",
        "issue",
        "--school",
        &school_arg,
        "--sheets",
        sheets.to_str().expect("path"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = String::from_utf8_lossy(&output.stdout);
    assert_eq!(csv.lines().count(), 3, "header and two codes: {csv}");
    let html = std::fs::read_to_string(&sheets).expect("sheets");
    assert_eq!(html.matches("class=\"sheet\"").count(), 2);
    assert_eq!(html.matches("<svg").count(), 2, "a QR code per sheet");
    assert!(html.contains("Смирнов Олег Ильич"));
    let _ = std::fs::remove_dir_all(&dir);
}
