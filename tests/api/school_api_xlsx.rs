//! An Excel workbook through the school API (#25): the same reader, limits
//! and row numbers as the school console's upload — every bad row by the
//! number the spreadsheet shows, with its key, name, reason and fix; a
//! workbook with a formula is refused as a file; the fixed workbook is
//! written, and sent again changes nothing.

use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};
use crate::school_console::workbook;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn school_with_token(app: &TestApp) -> (Uuid, String) {
    let school = app
        .state
        .school()
        .create_school(29, "Школа № 8 г. Архангельска", "test")
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

async fn post(
    app: &TestApp,
    school: Uuid,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/api/v1/schools/{school}/roster", app.base))
        .bearer_auth(token)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.expect("json report"))
}

fn row<'a>(
    key: &'a str,
    role: &'a str,
    surname: &'a str,
    given: &'a str,
    born: &'a str,
    class: &'a str,
    children: &'a str,
) -> [&'a str; 8] {
    [key, role, surname, given, "", born, class, children]
}

#[tokio::test]
async fn an_xlsx_roster_through_the_api_is_reported_by_spreadsheet_rows_and_written() {
    let app = spawn_app().await;
    let (school, token) = school_with_token(&app).await;
    let bad = [
        row("x-1", "ученик", "Белова", "Вера", "01.09.2014", "8Ы", ""),
        row("x-2", "ученик", "", "Егор", "02.10.2014", "8Ы", ""),
        row("x-3", "директор", "Котов", "Иван", "03.03.2014", "8Ы", ""),
        row("x-4", "ученик", "Орлова", "Дарья", "31.02.2014", "8Ы", ""),
        row("x-5", "родитель", "Белова", "Анна", "03.03.1985", "", "x-1"),
    ];
    let (status, report) = post(
        &app,
        school,
        &token,
        Some(XLSX),
        workbook(&bad, false, false),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    // The header is row 1: the bad rows are 3, 4 and 5, as in the console.
    let problems: Vec<(u64, String, String)> = report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            assert!(p["message"].as_str().is_some_and(|m| !m.is_empty()), "{p}");
            assert!(p["fix"].as_str().is_some_and(|f| !f.is_empty()), "{p}");
            (
                p["row"].as_u64().expect("row"),
                p["key"].as_str().unwrap_or_default().to_string(),
                p["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (3, "x-2", "Егор"),
            (4, "x-3", "Котов Иван"),
            (5, "x-4", "Орлова Дарья"),
        ]
        .map(|(r, k, n)| (r, k.to_string(), n.to_string())),
        "{report}"
    );
    assert_eq!(report["written"], false);

    // A formula instead of a value: refused as a file, nothing written.
    let (status, report) = post(
        &app,
        school,
        &token,
        Some(XLSX),
        workbook(&bad[..1], true, false),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert!(report["file_problem"]["message"].is_string(), "{report}");

    // Fixed, the workbook is written (recognised without a content type);
    // sent again, every row is unchanged.
    let fixed = [
        row("x-1", "ученик", "Белова", "Вера", "01.09.2014", "8Ы", ""),
        row("x-2", "ученик", "Гусев", "Егор", "02.10.2014", "8Ы", ""),
        row("x-5", "родитель", "Белова", "Анна", "03.03.1985", "", "x-1"),
    ];
    let (status, report) = post(&app, school, &token, None, workbook(&fixed, false, false)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["created"].as_u64(), report["written"].as_bool()),
        (Some(3), Some(true)),
        "{report}"
    );
    assert_eq!(report["relationships_added"], 1, "{report}");
    let (status, again) = post(
        &app,
        school,
        &token,
        Some(XLSX),
        workbook(&fixed, false, false),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["unchanged"].as_u64(), again["updated"].as_u64()),
        (Some(3), Some(0)),
        "{again}"
    );
}
