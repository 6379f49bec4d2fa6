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
        .school()
        .create_school(29, "Школа № 7 г. Архангельска", "test")
        .await
        .expect("school");
    let token = app
        .state
        .school()
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
        .fetch_one(app.store.pool())
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
    // Rows as the spreadsheet numbers them: the header is row 1.
    assert_eq!(
        problem_codes(&report),
        vec![
            (2, "snils".into(), "bad_snils_checksum".into()),
            (3, "surname".into(), "missing".into()),
            (4, "role".into(), "unknown_role".into()),
            (4, "birth_date".into(), "bad_date".into()),
            (6, "snils".into(), "duplicate_snils".into()),
            (7, "key".into(), "duplicate_key".into()),
            (8, "children".into(), "unknown_child".into()),
            (9, "snils".into(), "snils_taken".into()),
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
async fn a_login_held_at_another_school_is_reported_in_any_case() {
    let app = spawn_app().await;
    let (school, token) = school_with_token(&app).await;
    let accounts = count(&app, "SELECT COUNT(*) FROM accounts").await;
    // The demo roster's Фёдоров holds the login fedorov.pi.
    let csv = "key,role,surname,given_name,birth_date,class,login\n\
               p1,pupil,Смирнов,Олег,2014-09-01,5А,Fedorov.PI\n\
               p2,pupil,Котов,Иван,2014-09-01,5А,kotov.iv\n";
    let (status, report) = post_roster(&app, school, &token, "?lang=en", csv).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(
        problem_codes(&report),
        vec![(2, "login".into(), "login_taken".into())],
        "{report:#}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM accounts").await, accounts);
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
    assert_eq!(report["written_rows"], serde_json::json!([[2, 3], [5, 5]]));
    let people = |sql: &str| sql.replace("$SCHOOL", &school.to_string());
    assert_eq!(
        count(
            &app,
            &people("SELECT COUNT(*) FROM accounts WHERE school_id = '$SCHOOL'")
        )
        .await,
        3
    );

    // Fixed and sent again: the bad row goes in, the others are unchanged
    // (not "updated"), nothing is duplicated, no relationship is proposed
    // twice.
    let fixed = csv.replace("2010-01-01,,,", "2010-01-01,,9В,");
    let (status, report) = post_roster(&app, school, &token, "", &fixed).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (
            report["created"].clone(),
            report["updated"].clone(),
            report["unchanged"].clone()
        ),
        (1.into(), 0.into(), 3.into())
    );
    assert_eq!(report["relationships_added"], 0);
    let (_, again) = post_roster(&app, school, &token, "", &fixed).await;
    assert_eq!(
        (
            again["created"].clone(),
            again["updated"].clone(),
            again["unchanged"].clone()
        ),
        (0.into(), 0.into(), 4.into())
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
        .store
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
        .store
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
    // .ci/run hands the document to an independent validator.
    if let Some(out) = std::env::var_os("ESIA_LINK_OPENAPI_OUT") {
        std::fs::write(out, serde_json::to_vec_pretty(&doc).expect("json")).expect("write");
    }
    for path in [
        "/api/v1/schools/{school}/roster",
        "/api/v1/schools/{school}/people",
        "/api/v1/schools/{school}/codes",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} in {doc}");
    }
    let correct = &doc["paths"]["/api/v1/schools/{school}/people/{person}"]["patch"];
    assert!(correct["responses"]["422"].is_object(), "{correct}");
    assert!(doc["components"]["schemas"]["CorrectionRequest"]["properties"]["reason"].is_object());
    assert!(doc["components"]["securitySchemes"]["school_token"].is_object());
    // A query parameter declared as a path one breaks generated clients.
    let people = &doc["paths"]["/api/v1/schools/{school}/people"]["get"]["parameters"];
    for name in ["class", "after", "limit"] {
        let parameter = people
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == name))
            .unwrap_or_else(|| panic!("{name} in {people}"));
        assert_eq!(parameter["in"], "query", "{parameter}");
    }
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
         p2;ученик;Д'Арк-Королёва;Алёна;;02.02.2014;;5А;\n\
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
    assert!(stdout.contains("новых — 3"), "{stdout}");
    let sheets = dir.join("sheets.html");
    let pdf = dir.join("sheets.pdf");
    // A class's codes reach its pupils and their parents.
    let output = run(&[
        "codes",
        "issue",
        "--school",
        &school_arg,
        "--class",
        "5А",
        "--sheets",
        sheets.to_str().expect("path"),
        "--pdf",
        pdf.to_str().expect("path"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = String::from_utf8_lossy(&output.stdout);
    assert_eq!(csv.lines().count(), 4, "header and three codes: {csv}");
    let html = std::fs::read_to_string(&sheets).expect("sheets");
    assert_eq!(html.matches("class=\"sheet\"").count(), 3);
    assert_eq!(html.matches("<svg").count(), 3, "a QR code per sheet");
    assert!(html.contains("Смирнов Олег Ильич"));
    assert!(html.contains("Д'Арк-Королёва Алёна"));
    assert!(
        html.contains("Родитель ученика: Смирнов Олег Ильич, 5А"),
        "a parent's sheet names the child and the class: {html}"
    );
    // The PDF: one A4 page per person (`/Type /Page`, not the `/Pages`
    // tree), with the font that writes Russian embedded.
    let pdf = std::fs::read(&pdf).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let page = b"/Type /Page";
    let pages = pdf
        .windows(page.len() + 1)
        .filter(|w| w.starts_with(page) && !w[page.len()].is_ascii_alphanumeric())
        .count();
    assert_eq!(pages, 3);
    let has = |text: &str| pdf.windows(text.len()).any(|w| w == text.as_bytes());
    assert!(
        has("/FontFile2") && has("+LiberationSans"),
        "the font is embedded"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The school's people as `GET people` shows them.
async fn people_of(app: &TestApp, school: Uuid, token: &str) -> Vec<Value> {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/schools/{school}/people", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("json")
}

fn person_id(people: &[Value], key: &str) -> Uuid {
    let id = people
        .iter()
        .find(|p| p["key"] == key)
        .and_then(|p| p["id"].as_str())
        .expect("the person is listed");
    Uuid::parse_str(id).expect("uuid")
}

#[tokio::test]
async fn a_school_corrects_its_own_people_through_the_api_with_a_reason() {
    let app = spawn_app().await;
    let (school, token) = school_with_token(&app).await;
    let (other, other_token) = school_with_token(&app).await;
    let csv =
        format!("{HEADER}p1,pupil,Сокалов,Дмитрий,Алексеевич,2014-09-01,347-512-689 93,5А,\n");
    assert_eq!(post_roster(&app, school, &token, "", &csv).await.0, 200);
    let foreign_csv = format!("{HEADER}q1,pupil,Орлова,Дарья,,2013-04-04,,5Б,\n");
    assert_eq!(
        post_roster(&app, other, &other_token, "", &foreign_csv)
            .await
            .0,
        200
    );
    let before = people_of(&app, school, &token).await;
    let foreign_before = people_of(&app, other, &other_token).await;
    let pupil = person_id(&before, "p1");
    let foreigner = person_id(&foreign_before, "q1");
    let audit = count(&app, "SELECT COUNT(*) FROM audit_log").await;

    let client = reqwest::Client::new();
    let url = |school: Uuid, person: Uuid| {
        format!(
            "{}/api/v1/schools/{school}/people/{person}?lang=en",
            app.base
        )
    };
    let reason = "ЗАГС прислал свидетельство о рождении";
    let valid = serde_json::json!({"snils": "456-123-789 91", "reason": reason});
    let send = |bearer: Option<&str>, school: Uuid, person: Uuid, body: String| {
        let mut request = client
            .patch(url(school, person))
            .header("content-type", "application/json")
            .body(body);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    let answer = |response: reqwest::Response, what: &str| {
        let what = what.to_string();
        async move {
            let status = response.status().as_u16();
            let answer: Value = response.json().await.expect("a JSON error");
            let message = answer["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "{what}: {answer}");
            (status, message.to_string())
        }
    };
    // Who may not: (what, token, school in the path, person, status).
    let strangers = [
        ("no token", None, school, pupil, 401),
        (
            "another school's token",
            Some(&other_token),
            school,
            pupil,
            403,
        ),
        (
            "another school's person",
            Some(&token),
            school,
            foreigner,
            404,
        ),
        (
            "its person under another school",
            Some(&token),
            other,
            pupil,
            403,
        ),
    ];
    for (what, bearer, path_school, person, status) in strangers {
        let response = send(
            bearer.map(String::as_str),
            path_school,
            person,
            valid.to_string(),
        )
        .await
        .expect("request");
        assert_eq!(answer(response, what).await.0, status, "{what}");
    }
    // What must be fixed first: (what, body, a word of the message).
    let json = |v: Value| v.to_string();
    let invalid = [
        (
            "bad SNILS checksum",
            json(serde_json::json!({"snils": "456-123-789 92", "reason": reason})),
            "check number",
        ),
        (
            "bad date",
            json(serde_json::json!({"birth_date": "01.09.2014", "reason": reason})),
            "YYYY-MM-DD",
        ),
        (
            "empty given name",
            json(serde_json::json!({"surname": "Соколов", "given_name": " ", "reason": reason})),
            "name",
        ),
        (
            "nothing to correct",
            json(serde_json::json!({"reason": reason})),
            "nothing to correct",
        ),
        (
            "no reason",
            json(serde_json::json!({"snils": "456-123-789 91"})),
            "reason",
        ),
        (
            "a reason that says nothing",
            json(serde_json::json!({"snils": "456-123-789 91", "reason": "fix"})),
            "reason",
        ),
        ("not JSON", "snils=45612378991".to_string(), ""),
    ];
    for (what, body, fragment) in invalid {
        let response = send(Some(&token), school, pupil, body)
            .await
            .expect("request");
        let (status, message) = answer(response, what).await;
        assert_eq!(status, 422, "{what}: {message}");
        assert!(message.contains(fragment), "{what}: {message}");
    }
    assert_eq!(people_of(&app, school, &token).await, before);
    assert_eq!(people_of(&app, other, &other_token).await, foreign_before);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log").await, audit);

    // The name as a whole (no patronymic now), the birth date and the SNILS.
    let correction = serde_json::json!({
        "surname": "Соколов",
        "given_name": "Дмитрий",
        "birth_date": "2014-09-02",
        "snils": "45612378991",
        "reason": reason,
    });
    let correct = |body: Value| {
        client
            .patch(url(school, pupil))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let response = correct(correction.clone()).await.expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.json().await.expect("json");
    assert_eq!(
        answer["changed"],
        serde_json::json!(["surname", "patronymic", "birth_date", "snils"])
    );
    let after = people_of(&app, school, &token).await;
    let corrected = after.iter().find(|p| p["key"] == "p1").expect("listed");
    assert_eq!(corrected["surname"], "Соколов");
    assert_eq!(corrected["given_name"], "Дмитрий");
    assert_eq!(corrected["patronymic"], Value::Null);
    assert_eq!(corrected["birth_date"], "2014-09-02");
    assert_eq!(
        corrected["snils"]
            .as_str()
            .map(|s| s.replace(['-', ' '], "")),
        Some("45612378991".to_string())
    );
    let (actor, action, logged_reason, details): (String, String, Option<String>, String) =
        sqlx::query_as(&format!(
            "SELECT actor, action, reason, details_json FROM audit_log WHERE target_id = '{pupil}'
             ORDER BY id DESC LIMIT 1"
        ))
        .fetch_one(app.store.pool())
        .await
        .expect("an audit row");
    assert_eq!(actor, format!("school_token:{school}"));
    assert_eq!(action, "account.data_corrected");
    assert_eq!(logged_reason.as_deref(), Some(reason));
    assert!(
        !details.contains("Соколов") && !details.contains("45612378991"),
        "masked: {details}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log").await,
        audit + 1
    );
    // The person is told in their notification centre.
    let notices = format!(
        "SELECT COUNT(*) FROM notifications WHERE account_id = '{pupil}' AND kind = 'data_corrected'"
    );
    assert_eq!(count(&app, &notices).await, 1);

    // Sent again: the record already says so, nothing is written.
    let again: Value = correct(correction)
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(again["changed"], serde_json::json!([]));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM audit_log").await,
        audit + 1
    );
    assert_eq!(count(&app, &notices).await, 1);
}

/// `esia-link operator grant`: the school's administrator is made from the
/// command line, bound to the account's own school and audited; a wrong
/// login, an unknown role or a missing reason is refused with a message and
/// changes nothing.
#[tokio::test]
async fn the_cli_grants_a_school_admin_bound_to_the_accounts_school() {
    let app = spawn_app().await;
    let hmac = esia_link::demo::demo_base_config()
        .expect("demo config")
        .security
        .hmac_key
        .expose()
        .to_string();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_esia-link"))
            .args(args)
            .env("ESIA_LINK__DATABASE__URL", app.database_url())
            .env("ESIA_LINK__SECURITY__HMAC_KEY", &hmac)
            .output()
            .expect("runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    };
    let account = crate::helpers::demo_account(&app, "popova.ev").await;
    let refusals: &[(&[&str], &str)] = &[
        (
            &[
                "operator",
                "grant",
                "--login",
                "nobody.xx",
                "--role",
                "school_admin",
                "--reason",
                "новый завуч",
            ],
            "нет учётной записи с таким логином",
        ),
        (
            &[
                "operator",
                "grant",
                "--login",
                "popova.ev",
                "--role",
                "director",
                "--reason",
                "новый завуч",
            ],
            "support, privileged_support или school_admin",
        ),
        (
            &[
                "operator",
                "grant",
                "--login",
                "popova.ev",
                "--role",
                "school_admin",
                "--reason",
                "да",
            ],
            "укажите причину",
        ),
    ];
    for (args, expected) in refusals {
        let (ok, _, stderr) = run(args);
        assert!(!ok, "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert_eq!(
        app.store.operator_role(account.id).await.expect("query"),
        None,
        "a refusal grants nothing"
    );

    let (ok, stdout, stderr) = run(&[
        "operator",
        "grant",
        "--login",
        "popova.ev",
        "--role",
        "school_admin",
        "--reason",
        "новый завуч",
    ]);
    assert!(ok, "{stdout} {stderr}");
    assert!(
        stdout.contains("роль выдана popova.ev: school_admin"),
        "{stdout}"
    );
    assert_eq!(
        app.store.operator_role(account.id).await.expect("query"),
        Some(("school_admin".to_string(), account.school_id)),
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'operator.granted' AND actor = 'cli' AND reason = 'новый завуч'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("audit");
    assert_eq!(audited, 1);
}
