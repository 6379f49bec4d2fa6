//! The school's own console at `/school`: a school administrator uploads a
//! roster (checked first, with spreadsheet row numbers), writes it, issues a
//! class's codes as one PDF packet; everyone else is refused, and another
//! school's class or person does not exist.

use esia_link::demo::browser::Consent;
use esia_link::demo::browser::ScriptedBrowser;
use reqwest::{Method, StatusCode};

use crate::helpers::{
    demo_account, fill_form, import_csv, make_school_admin, spawn_app, spawn_app_with, AppOptions,
    TestApp,
};

/// Windows-1251, as Russian Excel saves "CSV (разделители — точки с запятой)".
fn windows_1251(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'А'..='я' => (c as u32 - 0x0410 + 0xC0) as u8,
            'Ё' => 0xA8,
            'ё' => 0xB8,
            '№' => 0xB9,
            c if c.is_ascii() => c as u8,
            other => panic!("not in the test's Windows-1251 table: {other}"),
        })
        .collect()
}

/// The school administrator's browser, on the `/school` page.
pub(crate) async fn school_admin(app: &TestApp) -> (ScriptedBrowser, uuid::Uuid, String) {
    let school = make_school_admin(app, "smirnov.oa").await;
    let (browser, run) = app.login("esia", "smirnov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let home = browser
        .get(&format!("{}/school", app.base))
        .await
        .expect("school page");
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    (browser, school, home.body)
}

pub(crate) fn csrf_of(html: &str) -> String {
    fill_form(html, "/school/roster?lang=ru", &[])
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v)
        .expect("a CSRF token in the upload form")
}

/// Posts `file` to the upload form as a browser does (multipart).
async fn upload(
    app: &TestApp,
    browser: &ScriptedBrowser,
    csrf: &str,
    name: &str,
    file: &[u8],
) -> (StatusCode, String) {
    let response = upload_response(app, browser, csrf, name, file).await;
    let status = response.status();
    (status, response.text().await.expect("body"))
}

/// [`upload`]'s answer as it came (a large file's is a 303 to its job).
pub(crate) async fn upload_response(
    app: &TestApp,
    browser: &ScriptedBrowser,
    csrf: &str,
    name: &str,
    file: &[u8],
) -> reqwest::Response {
    let boundary = "----esia-link-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    browser
        .send(
            browser
                .request(Method::POST, &format!("{}/school/roster", app.base))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await
        .expect("upload")
}

/// `/Type /Page` objects, not the `/Type /Pages` tree.
pub(crate) fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && !w[needle.len()].is_ascii_alphanumeric())
        .count()
}

/// Whether the PDF's bookmarks (one per sheet, UTF-16BE hex) hold `text`.
pub(crate) fn pdf_bookmarks_contain(pdf: &[u8], text: &str) -> bool {
    let hex: String = text.encode_utf16().map(|u| format!("{u:04x}")).collect();
    String::from_utf8_lossy(pdf).to_lowercase().contains(&hex)
}

pub(crate) const ROSTER: &str = "ключ;роль;фамилия;имя;отчество;дата рождения;снилс;класс;дети\n\
    k-101;ученик;Белова;Вера;Ивановна;01.09.2014;;7Ю;\n\
    k-102;ученик;Гусев;Егор;Петрович;02.10.2014;123-456-789 00;7Ю;\n\
    k-201;родитель;Белова;Анна;Олеговна;03.03.1985;;;k-101\n";

#[tokio::test]
async fn a_windows_1251_roster_is_checked_with_spreadsheet_rows_then_written() {
    let app = spawn_app().await;
    let (browser, _school, home) = school_admin(&app).await;
    let csrf = csrf_of(&home);

    let (status, report) = upload(&app, &browser, &csrf, "7Ю.csv", &windows_1251(ROSTER)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // The bad SNILS is on the spreadsheet's row 3 (the header is row 1),
    // named by key and person, with how to fix it.
    let row = report
        .split("<tr class=\"problem-row\">")
        .nth(1)
        .expect("a problem row");
    assert!(row.contains("<td class=\"row\">3</td>"), "{row}");
    assert!(
        row.contains("k-102") && row.contains("Гусев Егор Петрович"),
        "{row}"
    );
    assert!(row.contains("СНИЛС") && row.contains("11 цифр"), "{row}");
    assert!(
        report.contains("Строк в файле: 3, без ошибок: 2, ошибок: 1."),
        "{report}"
    );
    assert!(
        !report.contains("id=\"write-all\""),
        "not all rows are good"
    );
    assert!(
        demo_roster_has_no(&app, "k-101").await,
        "a check writes nothing"
    );

    // The report downloads as CSV with the same row.
    let link = report
        .split("href=\"")
        .find(|s| s.starts_with("/school/roster/"))
        .and_then(|s| s.split('"').next())
        .expect("the report's link");
    let csv = browser
        .get(&format!("{}{link}", app.base))
        .await
        .expect("report CSV");
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body.contains("3;k-102;Гусев Егор Петрович;СНИЛС;"),
        "{}",
        csv.body
    );

    // Write the good rows.
    let action = link.replace("/report.csv?lang=ru", "/write?lang=ru");
    let written = browser
        .post_form(
            &format!("{}{action}", app.base),
            &fill_form(&report, &action, &[("mode", "good")]),
        )
        .await
        .expect("write");
    assert_eq!(written.status, StatusCode::OK, "{}", written.body);
    assert!(
        written
            .body
            .contains("новых — 2, обновлено — 0, без изменений — 0"),
        "{}",
        written.body
    );
    assert!(!demo_roster_has_no(&app, "k-101").await);

    // The fixed file again: the written rows are unchanged, not updated.
    let fixed = ROSTER.replace("123-456-789 00", "");
    let (status, report) = upload(&app, &browser, &csrf, "7Ю.csv", &windows_1251(&fixed)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let action = fill_form(&report, &action_of(&report), &[("mode", "all")]);
    let written = browser
        .post_form(&format!("{}{}", app.base, action_of(&report)), &action)
        .await
        .expect("write");
    assert!(
        written
            .body
            .contains("новых — 1, обновлено — 0, без изменений — 2"),
        "{}",
        written.body
    );
}

fn action_of(report: &str) -> String {
    report
        .split("action=\"")
        .find(|s| s.starts_with("/school/roster/") && s.contains("/write"))
        .and_then(|s| s.split('"').next())
        .expect("a write form")
        .to_string()
}

pub(crate) async fn demo_roster_has_no(app: &TestApp, key: &str) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts WHERE roster_key = $1")
        .bind(key.to_string())
        .fetch_one(app.store.pool())
        .await
        .expect("count")
        == 0
}

#[tokio::test]
async fn a_class_packet_has_a_cover_page_and_a_parents_sheet_names_the_child() {
    let app = spawn_app().await;
    let (browser, school, _) = school_admin(&app).await;
    import_csv(
        &app,
        school,
        "key,role,surname,given_name,patronymic,birth_date,class,children\n\
         p1,pupil,Белова,Вера,Ивановна,2014-09-01,7Ю,\n\
         p2,pupil,Гусев,Егор,Петрович,2014-10-02,7Ю,\n\
         m1,parent,Белова,Анна,Олеговна,1985-03-03,,p1\n",
    )
    .await;
    let page = browser
        .get(&format!("{}/school/class?name=7Ю", app.base))
        .await
        .expect("class page");
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body.matches("data-stage=\"not-issued\"").count(), 3);
    assert!(page.body.contains("родитель: Белова Вера"), "{}", page.body);

    let form = fill_form(&page.body, "/school/class/codes?lang=ru", &[]);
    let response = browser
        .send(
            browser
                .request(Method::POST, &format!("{}/school/class/codes", app.base))
                .form(&form),
        )
        .await
        .expect("packet");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    let pdf = response.bytes().await.expect("pdf");
    // A cover page, then the two pupils and the parent.
    assert_eq!(pdf_pages(&pdf), 4);
    assert!(pdf_bookmarks_contain(
        &pdf,
        "Белова Анна Олеговна — Родитель ученика: Белова Вера Ивановна, 7Ю"
    ));
    // Each sheet's QR code, read off the page as a phone would, is the
    // activation address with that sheet's code (the sheet's link says the
    // same), and the parent's opens her activation.
    let qr = crate::pdf_qr::qr_codes(&pdf);
    assert_eq!(qr.len(), 3, "one QR code per sheet: {qr:?}");
    let links = crate::pdf_qr::link_uris(&pdf);
    let mut names = Vec::new();
    for address in &qr {
        let code = address
            .strip_prefix(&format!("{}/activate?code=", app.base))
            .unwrap_or_else(|| panic!("{address}"));
        assert_eq!(code.len(), 14, "{code}");
        assert!(links.contains(address), "{address}: {links:?}");
        let person = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let wizard = person.get(address.as_str()).send().await.expect("wizard");
        assert_eq!(wizard.status(), StatusCode::OK);
        names.push(wizard.text().await.expect("body"));
    }
    assert_eq!(
        names.iter().filter(|page| page.contains("Анна")).count(),
        1,
        "the parent's sheet opens her activation"
    );

    // Now the class shows the codes and when they expire; the expired
    // filter shows nobody yet.
    let page = browser
        .get(&format!("{}/school/class?name=7Ю&lang=en", app.base))
        .await
        .expect("class page");
    assert_eq!(page.body.matches("data-stage=\"code-issued\"").count(), 3);
    assert!(page.body.contains("valid until"), "{}", page.body);
    let expired = browser
        .get(&format!(
            "{}/school/class?name=7Ю&filter=code_expired",
            app.base
        ))
        .await
        .expect("filtered");
    assert!(expired.body.contains("id=\"nobody\""), "{}", expired.body);

    // People: found by name; one lost sheet reissued, the earlier code
    // revoked.
    let found = browser
        .get(&format!("{}/school/people?q=белова&lang=ru", app.base))
        .await
        .expect("search");
    assert_eq!(
        found.body.matches("class=\"person\"").count(),
        2,
        "{}",
        found.body
    );
    let vera: String = sqlx::query_scalar("SELECT id FROM accounts WHERE roster_key = 'p1'")
        .fetch_one(app.store.pool())
        .await
        .expect("id");
    let person = browser
        .get(&format!("{}/school/person/{vera}?lang=ru", app.base))
        .await
        .expect("person");
    assert!(
        person.body.contains("Белова Анна Олеговна"),
        "{}",
        person.body
    );
    let action = format!("/school/person/{vera}/code?lang=ru");
    let response = browser
        .send(
            browser
                .request(Method::POST, &format!("{}{action}", app.base))
                .form(&fill_form(&person.body, &action, &[])),
        )
        .await
        .expect("sheet");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(pdf_pages(&response.bytes().await.expect("pdf")), 1);
    let person = browser
        .get(&format!("{}/school/person/{vera}?lang=ru", app.base))
        .await
        .expect("person");
    assert!(person.body.contains("отозван"), "{}", person.body);
    assert!(person.body.contains("действует"), "{}", person.body);
    app.clock.advance(chrono::Duration::days(400));
    let expired = browser
        .get(&format!(
            "{}/school/class?name=7Ю&filter=code_expired",
            app.base
        ))
        .await
        .expect("filtered");
    assert_eq!(
        expired.body.matches("data-stage=\"code-expired\"").count(),
        3
    );
}

#[tokio::test]
async fn the_school_console_refuses_others_stale_forms_and_bad_files() {
    let app = spawn_app_with(AppOptions {
        max_upload_bytes: Some(4096),
        ..AppOptions::default()
    })
    .await;
    // Without a session: the login page, coming back here.
    let anonymous = ScriptedBrowser::new()
        .get(&format!("{}/school", app.base))
        .await
        .expect("school");
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(anonymous
        .location
        .as_deref()
        .unwrap_or_default()
        .contains("return_to=%2Fschool"));
    // A person without the role: 403.
    let (someone, _) = app.login("esia", "ivanova", Consent::Allow).await;
    let refused = someone
        .get(&format!("{}/school?lang=en", app.base))
        .await
        .expect("school");
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("school administrators only"),
        "{}",
        refused.body
    );

    let (browser, _school, home) = school_admin(&app).await;
    let csrf = csrf_of(&home);
    // Too large, wrong format, stale form: refused, nothing kept.
    let big = format!(
        "key;role;surname;given_name;birth_date\n{}",
        "x;".repeat(4000)
    );
    let (status, body) = upload(&app, &browser, &csrf, "big.csv", big.as_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("Файл слишком большой"), "{body}");
    let (status, body) = upload(
        &app,
        &browser,
        &csrf,
        "list.pdf",
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"file-problem\""), "{body}");
    assert!(!body.contains("/write"), "{body}");
    let (status, _) = upload(&app, &browser, "stale-token", "7Ю.csv", ROSTER.as_bytes()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another school's class and person are not there.
    let other = app
        .state
        .school()
        .create_school(78, "Школа № 2 Санкт-Петербурга", "test")
        .await
        .expect("school");
    import_csv(
        &app,
        other.id,
        "key,role,surname,given_name,birth_date,class\nz1,pupil,Жукова,Зоя,2013-05-05,9Я\n",
    )
    .await;
    let stranger: String = sqlx::query_scalar("SELECT id FROM accounts WHERE roster_key = 'z1'")
        .fetch_one(app.store.pool())
        .await
        .expect("id");
    for path in [
        "/school/class?name=9Я".to_string(),
        format!("/school/person/{stranger}"),
    ] {
        let page = browser
            .get(&format!("{}{path}", app.base))
            .await
            .expect("get");
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
    }
    let codes = browser
        .post_form(
            &format!("{}/school/person/{stranger}/code", app.base),
            &[("csrf".to_string(), csrf.clone())],
        )
        .await
        .expect("post");
    assert_eq!(codes.status, StatusCode::NOT_FOUND);
    let codes = browser
        .post_form(
            &format!("{}/school/class/codes", app.base),
            &[
                ("csrf".to_string(), csrf.clone()),
                ("name".to_string(), "9Я".to_string()),
            ],
        )
        .await
        .expect("post");
    assert_eq!(codes.status, StatusCode::NOT_FOUND);

    // A correction without a reason changes nothing.
    let sokolov = demo_account(&app, "sokolov.da").await;
    let page = browser
        .get(&format!("{}/school/person/{}", app.base, sokolov.id))
        .await
        .expect("person");
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let action = format!("/school/person/{}/correct?lang=ru", sokolov.id);
    let done = browser
        .post_form(
            &format!("{}{action}", app.base),
            &fill_form(
                &page.body,
                &action,
                &[("surname", "Соколов"), ("reason", "")],
            ),
        )
        .await
        .expect("post");
    assert_eq!(done.status, StatusCode::BAD_REQUEST, "{}", done.body);
    assert_eq!(
        demo_account(&app, "sokolov.da").await.surname,
        sokolov.surname
    );
    // With a reason it is corrected (and audited by the console's use case).
    let done = browser
        .post_form(
            &format!("{}{action}", app.base),
            &fill_form(
                &page.body,
                &action,
                &[
                    ("surname", "Соколов"),
                    ("given_name", "Дмитрий"),
                    ("patronymic", "Алексеевич"),
                    ("reason", "опечатка в фамилии в журнале"),
                ],
            ),
        )
        .await
        .expect("post");
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(demo_account(&app, "sokolov.da").await.surname, "Соколов");
    // A stale form is refused.
    let stale = browser
        .post_form(
            &format!("{}{action}", app.base),
            &fill_form(
                &page.body,
                &action,
                &[("csrf", "stale"), ("reason", "опечатка в фамилии")],
            ),
        )
        .await
        .expect("post");
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
}

/// The demo's school administrator (mock person `school_admin`) opens the
/// console of their school straight after logging in.
#[tokio::test]
async fn the_demo_school_admin_opens_their_schools_console() {
    let app = spawn_app().await;
    let (browser, run) = app.login("esia", "school_admin", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let home = browser
        .get(&format!("{}/school?lang=en", app.base))
        .await
        .expect("school");
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(
        home.body.contains("Школа № 1 г. Архангельска"),
        "{}",
        home.body
    );
    assert!(home.body.contains("id=\"classes\""), "{}", home.body);
}

/// A workbook as a school secretary fills it in: dates as Excel dates,
/// with `rows` under the header on row 1.
pub(crate) fn workbook(rows: &[[&str; 8]], formula: bool, second_sheet: bool) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "Ключ",
        "Роль",
        "Фамилия",
        "Имя",
        "Отчество",
        "Дата рождения",
        "Класс",
        "Дети",
    ];
    for (column, title) in header.iter().enumerate() {
        sheet.write_string(0, column as u16, *title).unwrap();
    }
    for (index, row) in rows.iter().enumerate() {
        for (column, value) in row.iter().enumerate() {
            if !value.is_empty() {
                sheet
                    .write_string(index as u32 + 1, column as u16, *value)
                    .unwrap();
            }
        }
    }
    if formula {
        sheet
            .write_formula(1, 4, "=CONCAT(\"И\",\"вановна\")")
            .unwrap();
    }
    if second_sheet {
        let other = book.add_worksheet();
        other.write_string(0, 0, "Ключ").unwrap();
        other.write_string(1, 0, "x1").unwrap();
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn an_xlsx_roster_reports_spreadsheet_rows_and_hostile_workbooks_are_refused() {
    let app = spawn_app().await;
    let (browser, _school, home) = school_admin(&app).await;
    let csrf = csrf_of(&home);
    let rows = [
        [
            "x-1",
            "ученик",
            "Белова",
            "Вера",
            "Ивановна",
            "01.09.2014",
            "8Ы",
            "",
        ],
        ["x-2", "ученик", "", "Егор", "", "02.10.2014", "8Ы", ""],
        [
            "x-3",
            "директор",
            "Котов",
            "Иван",
            "",
            "03.03.2014",
            "8Ы",
            "",
        ],
        [
            "x-4",
            "ученик",
            "Орлова",
            "Дарья",
            "",
            "31.02.2014",
            "8Ы",
            "",
        ],
        [
            "x-5",
            "родитель",
            "Белова",
            "Анна",
            "",
            "03.03.1985",
            "",
            "x-1",
        ],
    ];
    let (status, report) = upload(
        &app,
        &browser,
        &csrf,
        "8Ы.xlsx",
        &workbook(&rows, false, false),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let problems: Vec<(String, String)> = report
        .split("<tr class=\"problem-row\">")
        .skip(1)
        .map(|row| {
            let cell = |class: &str| {
                row.split(&format!("<td class=\"{class}\">"))
                    .nth(1)
                    .and_then(|s| s.split("</td>").next())
                    .unwrap_or_default()
                    .to_string()
            };
            (cell("row"), cell("key"))
        })
        .collect();
    assert_eq!(
        problems,
        [("3", "x-2"), ("4", "x-3"), ("5", "x-4")].map(|(r, k)| (r.to_string(), k.to_string())),
        "{report}"
    );
    assert!(report.contains("id=\"write-good\""), "{report}");

    // A formula instead of a value, or a second sheet with data: the file
    // is refused with a message, and nothing can be written from it.
    for (name, file) in [
        ("formula.xlsx", workbook(&rows[..1], true, false)),
        ("two-sheets.xlsx", workbook(&rows[..1], false, true)),
    ] {
        let (status, report) = upload(&app, &browser, &csrf, name, &file).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {report}");
        assert!(report.contains("id=\"file-problem\""), "{name}: {report}");
        assert!(!report.contains("/write"), "{name}: {report}");
    }
    assert!(demo_roster_has_no(&app, "x-1").await);
}
