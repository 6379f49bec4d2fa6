//! Large roster files in the school console: checked and written by a
//! background job whose page refreshes itself until the report is there;
//! one job per school at a time; a job whose instance died says so.

use esia_link::app::school::console::SchoolAdmin;
use esia_link::app::school::jobs::{JobKind, JobRecord};
use esia_link::app::school::roster::Phase;
use esia_link::demo::browser::ScriptedBrowser;
use reqwest::StatusCode;

use crate::helpers::{fill_form, spawn_app_with, AppOptions, TestApp};
use crate::school_console::{csrf_of, demo_roster_has_no, school_admin, upload_response, ROSTER};

/// Every upload, however small, goes to a job.
fn every_file_by_a_job() -> AppOptions {
    AppOptions {
        configure: Some(Box::new(|config| config.uploads.background_from_bytes = 1)),
        ..AppOptions::default()
    }
}

const REFRESH: &str = "<meta http-equiv=\"refresh\" content=\"2\">";

/// The job's page as a browser sees it: a 303 from the form, then the page
/// again and again while it refreshes itself; the last one.
async fn follow_job(
    app: &TestApp,
    browser: &ScriptedBrowser,
    answer: reqwest::Response,
) -> (String, StatusCode, String) {
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "a job's form answers with its page"
    );
    let location = answer
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("the job's page")
        .to_string();
    assert!(location.starts_with("/school/roster/"), "{location}");
    for _ in 0..600 {
        let page = browser
            .get(&format!("{}{location}", app.base))
            .await
            .expect("the job's page");
        if !page.body.contains(REFRESH) {
            return (location, page.status, page.body);
        }
        // A running job's page says what happens and how to come back.
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("Страница обновляется сама"),
            "{}",
            page.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job at {location} did not end in 30 s");
}

#[tokio::test]
async fn a_large_roster_is_checked_and_written_by_a_job_whose_page_refreshes_itself() {
    let app = spawn_app_with(every_file_by_a_job()).await;
    let (browser, _school, home) = school_admin(&app).await;
    let csrf = csrf_of(&home);

    let answer = upload_response(&app, &browser, &csrf, "7Ю.csv", ROSTER.as_bytes()).await;
    let (location, status, report) = follow_job(&app, &browser, answer).await;
    // The job's report is the one a small file gets within the request.
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(
        report.contains("Строк в файле: 3, без ошибок: 2, ошибок: 1."),
        "{report}"
    );
    let row = report
        .split("<tr class=\"problem-row\">")
        .nth(1)
        .expect("a problem row");
    assert!(
        row.contains("<td class=\"row\">3</td>") && row.contains("Гусев Егор Петрович"),
        "{row}"
    );
    assert!(
        demo_roster_has_no(&app, "k-101").await,
        "a check writes nothing"
    );

    // The report downloads from what the job kept, in either language.
    let csv = browser
        .get(&format!("{}{location}/report.csv?lang=en", app.base))
        .await
        .expect("report");
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body.contains("k-102") && csv.body.contains("11 digits"),
        "{}",
        csv.body
    );

    // "Write the good rows" runs as a job too.
    let action = format!("{location}/write?lang=ru");
    let form = fill_form(&report, &action, &[]);
    assert!(
        form.iter().any(|(k, v)| k == "mode" && v == "good"),
        "{form:?}"
    );
    let answer = browser
        .send(
            browser
                .request(reqwest::Method::POST, &format!("{}{action}", app.base))
                .form(&form),
        )
        .await
        .expect("write");
    let (_, status, written) = follow_job(&app, &browser, answer).await;
    assert_eq!(status, StatusCode::OK, "{written}");
    assert!(written.contains("Список записан"), "{written}");
    assert!(written.contains("Записано: новых — 2"), "{written}");
    assert!(
        !written.contains("id=\"write-good\""),
        "nothing is left to write"
    );
    assert!(
        !demo_roster_has_no(&app, "k-101").await,
        "the good rows are written"
    );
    assert!(
        demo_roster_has_no(&app, "k-102").await,
        "the bad row is not"
    );

    // The school console no longer points at a running job.
    let home = browser
        .get(&format!("{}/school", app.base))
        .await
        .expect("home");
    assert!(!home.body.contains("id=\"running-job\""), "{}", home.body);
}

#[tokio::test]
async fn a_school_runs_one_job_at_a_time() {
    let app = spawn_app_with(every_file_by_a_job()).await;
    let (browser, school, home) = school_admin(&app).await;
    let csrf = csrf_of(&home);
    let first = upload_response(&app, &browser, &csrf, "7Ю.csv", ROSTER.as_bytes()).await;
    let (first_page, status, _) = follow_job(&app, &browser, first).await;
    assert_eq!(status, StatusCode::OK);

    // While the school's job runs (held here as its instance holds it),
    // another file is refused with the way to the running one.
    let first_id = first_page.trim_start_matches("/school/roster/");
    let lock = esia_link::app::school::jobs::running_key(school);
    app.state
        .ephemeral()
        .put(
            &lock,
            first_id.as_bytes(),
            std::time::Duration::from_secs(30),
        )
        .await
        .expect("held");
    let second = upload_response(&app, &browser, &csrf, "7Ю.csv", ROSTER.as_bytes()).await;
    let status = second.status();
    let busy = second.text().await.expect("body");
    assert_eq!(status, StatusCode::CONFLICT, "{busy}");
    assert!(
        busy.contains("Школа обрабатывает один файл за раз"),
        "{busy}"
    );
    assert!(
        busy.contains(&first_page),
        "the refusal names the running job's page: {busy}"
    );
    let home = browser
        .get(&format!("{}/school", app.base))
        .await
        .expect("home");
    assert!(
        home.body
            .contains(&format!("id=\"running-job\"><a href=\"{first_page}\"")),
        "the console points at the running job: {}",
        home.body
    );

    // Once it ends, the school uploads again.
    app.state.ephemeral().delete(&lock).await.expect("released");
    let again = upload_response(&app, &browser, &csrf, "7Ю.csv", ROSTER.as_bytes()).await;
    let (again_page, status, _) = follow_job(&app, &browser, again).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(again_page, first_page, "a job of its own");
}

#[tokio::test]
async fn an_interrupted_job_says_what_to_do_and_an_unknown_one_is_not_found() {
    let app = spawn_app_with(every_file_by_a_job()).await;
    let (browser, school, _) = school_admin(&app).await;
    let admin = SchoolAdmin {
        school_id: school,
        school_name: String::new(),
        actor: "test".into(),
        csrf: String::new(),
    };
    // A job running now: its page says where it stands and refreshes itself.
    let now = chrono::Utc::now();
    let running = JobRecord {
        kind: JobKind::WriteAll,
        phase: Some(Phase::Writing),
        rows: 1500,
        expected_rows: Some(4000),
        started_at: now,
        beat_at: now,
        finished_at: None,
        report: None,
        failed: false,
    };
    let id = "00112233445566778899aabbccddeeff";
    app.state
        .school()
        .save_job(&admin, id, &running)
        .await
        .expect("saved");
    let page = browser
        .get(&format!("{}/school/roster/{id}", app.base))
        .await
        .expect("page");
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for says in [
        REFRESH,
        "<title>Запись списка",
        "Строки записываются…",
        "Обработано строк: 1500 из 4000.",
        "<progress id=\"job-bar\" value=\"1500\" max=\"4000\">",
        "Страница обновляется сама",
    ] {
        assert!(page.body.contains(says), "{says} in {}", page.body);
    }
    let english = browser
        .get(&format!("{}/school/roster/{id}?lang=en", app.base))
        .await
        .expect("page");
    assert!(
        english.body.contains("Rows done: 1500 of 4000."),
        "{}",
        english.body
    );
    let csv = browser
        .get(&format!(
            "{}/school/roster/{id}/report.csv?lang=ru",
            app.base
        ))
        .await
        .expect("report");
    assert_eq!(csv.status, StatusCode::CONFLICT, "{}", csv.body);
    assert!(csv.body.contains("Отчёт ещё не готов"), "{}", csv.body);

    // Jobs whose instance stopped a minute ago, in the middle of their work.
    let beat = chrono::Utc::now() - chrono::Duration::seconds(60);
    for (id, kind, says) in [
        (
            "0123456789abcdef0123456789abcdef",
            JobKind::Check,
            "Ничего не записано",
        ),
        (
            "fedcba9876543210fedcba9876543210",
            JobKind::WriteAll,
            "Часть строк могла быть записана",
        ),
    ] {
        let record = JobRecord {
            kind,
            phase: Some(Phase::Checking),
            rows: 500,
            expected_rows: None,
            started_at: beat,
            beat_at: beat,
            finished_at: None,
            report: None,
            failed: false,
        };
        app.state
            .school()
            .save_job(&admin, id, &record)
            .await
            .expect("saved");
        let page = browser
            .get(&format!("{}/school/roster/{id}?lang=ru", app.base))
            .await
            .expect("page");
        assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
        assert!(page.body.contains("Обработка прервалась"), "{}", page.body);
        assert!(page.body.contains(says), "{}", page.body);
        assert!(
            !page.body.contains(REFRESH),
            "an interrupted job's page stays put"
        );
        let csv = browser
            .get(&format!("{}/school/roster/{id}/report.csv", app.base))
            .await
            .expect("report");
        assert_eq!(
            csv.status,
            StatusCode::CONFLICT,
            "no report yet: {}",
            csv.body
        );
    }
    // Unknown ids (and another school's, which are kept under its own
    // name) are not found; so is a malformed one.
    for id in ["00000000000000000000000000000000", "not-an-id"] {
        let page = browser
            .get(&format!("{}/school/roster/{id}", app.base))
            .await
            .expect("page");
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{id}: {}", page.body);
    }
}
