//! The demo in a real browser: headless Chromium clicks «Войти через
//! Госуслуги», logs in at the mock IdP, allows the data and lands on the
//! account page; then a parent with a mistyped surname gets a reference
//! code, and an operator looks it up at /ops and sees the remedy. It needs Debian's chromium and chromium-driver, so it is
//! ignored by default; `.ci/run` installs them and runs it with `--ignored`.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::helpers::spawn_app;

fn chromedriver() -> Option<&'static str> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

/// A headless Chromium driven through chromedriver; dropped with the test.
struct Browser {
    client: fantoccini::Client,
    chromedriver: tokio::process::Child,
    profile: std::path::PathBuf,
}

impl Browser {
    async fn start() -> Browser {
        let driver = chromedriver()
            .expect("chromedriver installed (apt-get install chromium chromium-driver)");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let chromedriver = tokio::process::Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let profile =
            std::env::temp_dir().join(format!("esia-link-chromium-{}", uuid::Uuid::new_v4()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--allow-file-access-from-files",
                    format!("--user-data-dir={}", profile.display()),
                    "--lang=ru-RU",
                ],
                // The people of these journeys read Russian pages.
                "prefs": { "intl.accept_languages": "ru-RU,ru" }
            }),
        );
        for _ in 0..50 {
            if let Ok(client) = ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                return Browser {
                    client,
                    chromedriver,
                    profile,
                };
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no WebDriver session with Chromium");
    }

    /// Where the browser is and what it shows: for a failure's message.
    async fn describe(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let source = self.client.source().await.unwrap_or_default();
        format!("at {url}:\n{source}")
    }

    async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.chromedriver.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Logs in through the mock IdP as `person` (password "demo"), allowing.
async fn log_in_via_esia(
    client: &fantoccini::Client,
    base: &str,
    person: &str,
) -> Result<(), fantoccini::error::CmdError> {
    client.goto(&format!("{base}/?region=29")).await?;
    client
        .find(Locator::Id("login-esia"))
        .await?
        .click()
        .await?;
    client
        .wait()
        .for_element(Locator::Css("input[name=login]"))
        .await?
        .send_keys(person)
        .await?;
    client
        .find(Locator::Css("input[name=password]"))
        .await?
        .send_keys("demo")
        .await?;
    let submit = client.find(Locator::Css("form [type=submit]")).await?;
    navigating(submit.click().await)?;
    let allow = client
        .wait()
        .for_element(Locator::Css("button[value=allow]"))
        .await?;
    navigating(allow.click().await)?;
    Ok(())
}

/// A click that starts a navigation may be answered "aborted by
/// navigation" by chromedriver when the new page begins loading before the
/// click command returns: the click happened, which is what was asked.
fn navigating(
    clicked: Result<(), fantoccini::error::CmdError>,
) -> Result<(), fantoccini::error::CmdError> {
    match clicked {
        Err(fantoccini::error::CmdError::NotW3C(message))
            if message.as_str() == Some("aborted by navigation") =>
        {
            Ok(())
        }
        other => other,
    }
}

async fn fill(
    client: &fantoccini::Client,
    id: &str,
    text: &str,
) -> Result<(), fantoccini::error::CmdError> {
    let field = client.wait().for_element(Locator::Id(id)).await?;
    field.clear().await?;
    field.send_keys(text).await
}

async fn click(client: &fantoccini::Client, id: &str) -> Result<(), fantoccini::error::CmdError> {
    let element = client.wait().for_element(Locator::Id(id)).await?;
    navigating(element.click().await)
}

/// Waits (up to 10 s) until `element`'s page was replaced: a form posted or
/// a link followed, so that the next lookup finds the new page's elements.
async fn wait_until_replaced(element: &fantoccini::elements::Element) {
    for _ in 0..200 {
        if element.is_displayed().await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

const PASSWORD: &str = "тихий-ручей-под-ивой";

/// What a person types into the activation wizard; `login: None` keeps
/// the login the wizard proposes.
struct Wizard<'a> {
    email: &'a str,
    phone: &'a str,
    login: Option<&'a str>,
}

/// Walks the activation wizard from its first page (the code's address
/// already open): data confirmed, contacts, password, login; then opens the
/// confirmation link from the e-mail in `outbox` and logs in as `log_in_as`
/// with the new password. Returns what the wizard's last page said.
async fn activate_and_log_in(
    client: &fantoccini::Client,
    outbox: &std::path::Path,
    wizard: &Wizard<'_>,
    log_in_as: &str,
) -> Result<String, fantoccini::error::CmdError> {
    click(client, "data-ok").await?;
    fill(client, "email", wizard.email).await?;
    fill(client, "phone", wizard.phone).await?;
    click(client, "contacts-submit").await?;
    fill(client, "password", PASSWORD).await?;
    fill(client, "repeat", PASSWORD).await?;
    click(client, "password-submit").await?;
    match wizard.login {
        Some(login) => fill(client, "new_login", login).await?,
        None => {
            client
                .wait()
                .for_element(Locator::Id("new_login"))
                .await?
                .clear()
                .await?
        }
    }
    click(client, "finish").await?;
    let sent = client
        .wait()
        .for_element(Locator::Id("wizard-sent"))
        .await?
        .text()
        .await?;
    let link = esia_link::notify::FileOutbox::read(outbox)
        .iter()
        .flat_map(|m| {
            m.body
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .find(|w| w.contains("/activate/confirm?token="))
        .expect("a confirmation link in the outbox");
    client.goto(&link).await?;
    click(client, "to-login").await?;
    fill(client, "login", log_in_as).await?;
    fill(client, "password", PASSWORD).await?;
    click(client, "password-submit").await?;
    Ok(sent)
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"]
async fn the_activation_wizard_from_a_printed_sheet_to_the_account_page_in_chromium() {
    let app = spawn_app().await;
    let school = app
        .state
        .school()
        .create_school(29, "Школа № 11", "test")
        .await
        .expect("school");
    let csv = "key,role,surname,given_name,patronymic,birth_date,snils,class\n\
               t1,teacher,Белова,Анна,Сергеевна,1980-03-03,,\n";
    crate::helpers::import_csv(&app, school.id, csv).await;
    // The school prints the sheets; the person holds one.
    let mut html = esia_link::ops::sheets::header(&school.name);
    let base = app.base.clone();
    app.state
        .school()
        .issue_codes(
            school.id,
            &Default::default(),
            30,
            "test",
            &mut |batch: &[esia_link::app::school::IssuedCode]| {
                for issued in batch {
                    let url = format!("{base}/activate?code={}", issued.code);
                    html.push_str(&esia_link::ops::sheets::sheet(issued, &school.name, &url));
                }
            },
        )
        .await
        .expect("codes");
    html.push_str(esia_link::ops::sheets::FOOTER);
    let sheet = std::env::temp_dir().join(format!("esia-link-sheet-{}.html", uuid::Uuid::new_v4()));
    std::fs::write(&sheet, html).expect("sheet");

    let browser = Browser::start().await;
    let client = browser.client.clone();
    let outbox = app.outbox_dir.clone();
    let result = async {
        client.goto(&format!("file://{}", sheet.display())).await?;
        let url = client
            .wait()
            .for_element(Locator::Css(".url"))
            .await?
            .text()
            .await?;
        client.goto(&url).await?;
        let wizard = Wizard {
            email: "belova@mail.ru",
            phone: "+7 912 000-11-22",
            login: Some("belova.as"),
        };
        activate_and_log_in(&client, &outbox, &wizard, "belova.as").await?;
        let name = client
            .wait()
            .for_element(Locator::Id("full-name"))
            .await?
            .text()
            .await?;
        Ok::<_, fantoccini::error::CmdError>(name)
    }
    .await;
    if result.is_err() {
        eprintln!("{}", browser.describe().await);
    }
    browser.stop().await;
    let _ = std::fs::remove_file(&sheet);
    assert_eq!(
        result.expect("the wizard completes"),
        "Белова Анна Сергеевна"
    );
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"]
async fn a_person_without_snils_links_by_password_then_logs_in_directly_in_chromium() {
    let app = spawn_app().await;
    let hash = esia_link::app::account::password::hash(secrecy::SecretString::from(PASSWORD))
        .await
        .expect("hash");
    sqlx::query(
        "UPDATE accounts SET password_hash = $1, status = 'active', email = 'p@mail.ru', email_verified = 1 WHERE login = 'popova.ev'",
    )
    .bind(hash)
    .execute(app.store.pool())
    .await
    .expect("password");
    let browser = Browser::start().await;
    let client = browser.client.clone();
    let result = async {
        log_in_via_esia(&client, &app.base, "popova").await?;
        click(&client, "link-by-password").await?;
        fill(&client, "login", "popova.ev").await?;
        fill(&client, "password", PASSWORD).await?;
        click(&client, "password-submit").await?;
        let linked = client
            .wait()
            .for_element(Locator::Id("full-name"))
            .await?
            .text()
            .await?;
        log_in_via_esia(&client, &app.base, "popova").await?;
        let direct = client
            .wait()
            .for_element(Locator::Id("full-name"))
            .await?
            .text()
            .await?;
        let url = client.current_url().await?;
        Ok::<_, fantoccini::error::CmdError>((linked, direct, url))
    }
    .await;
    if result.is_err() {
        eprintln!("{}", browser.describe().await);
    }
    browser.stop().await;
    let (linked, direct, url) = result.expect("the browser flow completes");
    assert_eq!(linked, "Попова Елена Викторовна");
    assert_eq!(direct, "Попова Елена Викторовна");
    assert_eq!(url.path(), "/account");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"]
async fn demo_login_in_headless_chromium() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    let client = browser.client.clone();
    let log_in = |person: &'static str| log_in_via_esia(&client, &app.base, person);
    let result = async {
        log_in("ivanova").await?;
        let name = client
            .wait()
            .for_element(Locator::Id("full-name"))
            .await?
            .text()
            .await?;
        let url = client.current_url().await?;

        // A parent whose surname the school mistyped sees a reference code;
        // the operator types it into /ops and sees what to do.
        log_in("sokolov").await?;
        let reference = client
            .wait()
            .for_element(Locator::Id("reference"))
            .await?
            .text()
            .await?;
        log_in("operator").await?;
        client.wait().for_element(Locator::Id("full-name")).await?;
        client.goto(&format!("{}/ops", app.base)).await?;
        client
            .wait()
            .for_element(Locator::Id("q"))
            .await?
            .send_keys(&reference)
            .await?;
        client.find(Locator::Id("lookup")).await?.click().await?;
        let remedy = client
            .wait()
            .for_element(Locator::Css(".looked-up .remedy"))
            .await?
            .text()
            .await?;
        Ok::<_, fantoccini::error::CmdError>((name, url, reference, remedy))
    }
    .await;
    if result.is_err() {
        eprintln!("{}", browser.describe().await);
    }
    browser.stop().await;

    let (name, url, reference, remedy) = result.expect("the browser flow completes");
    assert_eq!(name, "Иванова Мария Петровна");
    assert_eq!(url.path(), "/account");
    assert_eq!(
        reference.len(),
        9,
        "a reference code was shown: {reference}"
    );
    // Headless Chromium asks for English (Accept-Language: en-US).
    assert!(
        remedy.contains("The school must correct the surname in the diary")
            || remedy.contains("Школа должна исправить фамилию в дневнике"),
        "the operator sees the remedy: {remedy}"
    );
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"]
async fn a_parent_without_a_login_activates_and_reaches_her_childs_diary_in_chromium() {
    let app = spawn_app().await;
    let school = app
        .state
        .school()
        .create_school(29, "Школа № 12", "test")
        .await
        .expect("school");
    // The school's sheet has no login column.
    let csv = "key,role,surname,given_name,patronymic,birth_date,snils,class,children\n\
               p1,pupil,Фёдорова,Алёна,Сергеевна,2013-05-05,,4А,\n\
               m1,parent,Фёдорова,Ольга,Ивановна,1986-02-02,,,p1\n";
    crate::helpers::import_csv(&app, school.id, csv).await;
    let mut codes = Vec::new();
    app.state
        .school()
        .issue_codes(
            school.id,
            &Default::default(),
            30,
            "test",
            &mut |batch: &[esia_link::app::school::IssuedCode]| {
                codes.extend(batch.iter().map(|i| (i.full_name(), i.code.to_string())));
            },
        )
        .await
        .expect("codes");
    let code = codes
        .iter()
        .find(|(name, _)| name.contains("Ольга"))
        .map(|(_, code)| code.clone())
        .expect("the parent's code");
    let pupil: String = sqlx::query_scalar("SELECT id FROM accounts WHERE roster_key = 'p1'")
        .fetch_one(app.store.pool())
        .await
        .expect("pupil");

    let browser = Browser::start().await;
    let client = browser.client.clone();
    let outbox = app.outbox_dir.clone();
    let result = async {
        // The QR code of her sheet: the only address not reached by a click
        // (and the e-mail's link, opened from her mailbox).
        client
            .goto(&format!("{}/activate?code={code}", app.base))
            .await?;
        // The login is left empty: the proposal is kept.
        let wizard = Wizard {
            email: "fedorova@mail.ru",
            phone: "+7 912 000-33-44",
            login: None,
        };
        let sent = activate_and_log_in(&client, &outbox, &wizard, "fedorova.oi").await?;
        // The home: the school's link to her daughter waits for her answer.
        click(&client, "to-proposals").await?;
        let accept = client
            .wait()
            .for_element(Locator::Css("form[action$='/accept'] button"))
            .await?;
        accept.click().await?;
        // The page it posts to has the same "to the account" link: click
        // it there, not on the page being left.
        wait_until_replaced(&accept).await;
        click(&client, "to-account").await?;
        let diary = client
            .wait()
            .for_element(Locator::Id(&format!("diary-{pupil}")))
            .await?;
        let text = diary.text().await?;
        let href = diary.attr("href").await?.unwrap_or_default();
        Ok::<_, fantoccini::error::CmdError>((sent, text, href))
    }
    .await;
    if result.is_err() {
        eprintln!("{}", browser.describe().await);
    }
    browser.stop().await;
    let (sent, text, href) = result.expect("the journey completes");
    assert!(sent.contains("fedorova.oi"), "the login is told: {sent}");
    assert!(text.contains("Фёдорова Алёна Сергеевна"), "{text}");
    assert!(href.contains(&pupil), "{href}");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"]
async fn a_grandmother_accepts_on_her_first_landing_page_and_sees_the_child_after_the_delay_in_chromium(
) {
    use crate::family::{
        invitation_for, invite_fields, parent_with_confirmed_child, post, ZAITSEVA_SNILS,
    };
    let app = spawn_app().await;
    let (ivanova, _, child) = parent_with_confirmed_child(&app).await;
    let csrf = crate::helpers::csrf_token(&app, &ivanova).await;
    let (status, _, body) = post(
        &app,
        &ivanova,
        "/family/invitations",
        &invite_fields(&csrf, child, "Зайцева", ZAITSEVA_SNILS, &["diary"]),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER, "{body}");
    let invitation = invitation_for(&app, "Зайцева").await;

    let browser = Browser::start().await;
    let client = browser.client.clone();
    let result = async {
        // Her first State Services login lands on the invitation.
        log_in_via_esia(&client, &app.base, "zaitseva").await?;
        let text = client
            .wait()
            .for_element(Locator::Id(&format!("invitation-{invitation}")))
            .await?
            .text()
            .await?;
        let accept = client
            .wait()
            .for_element(Locator::Id(&format!("accept-{invitation}")))
            .await?;
        navigating(accept.click().await)?;
        wait_until_replaced(&accept).await;
        click(&client, "to-account").await?;
        let waiting = client
            .wait()
            .for_element(Locator::Id("diaries"))
            .await?
            .text()
            .await?;
        // The waiting period passes on the test's clock.
        app.clock
            .advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
        client.refresh().await?;
        let diary = client
            .wait()
            .for_element(Locator::Id(&format!("diary-{child}")))
            .await?
            .text()
            .await?;
        Ok::<_, fantoccini::error::CmdError>((text, waiting, diary))
    }
    .await;
    if result.is_err() {
        eprintln!("{}", browser.describe().await);
    }
    browser.stop().await;
    let (text, waiting, diary) = result.expect("the journey completes");
    assert!(text.contains("Иванова Мария Петровна"), "{text}");
    assert!(waiting.contains("откроется"), "{waiting}");
    assert!(diary.contains("Иванов Пётр Сергеевич"), "{diary}");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"]
async fn an_operator_looks_up_a_name_mismatch_and_reads_the_answer_in_russian_in_chromium() {
    let app = spawn_app().await;
    // The parent reads her reference code off the outcome page.
    let (_, run) = app
        .login(
            "esia",
            "kuznetsova",
            esia_link::demo::browser::Consent::Allow,
        )
        .await;
    assert_eq!(run.outcome.as_deref(), Some("name_mismatch"));
    let reference = run.reference.expect("a reference");

    let browser = Browser::start().await;
    let client = browser.client.clone();
    let result = async {
        log_in_via_esia(&client, &app.base, "operator").await?;
        click(&client, "to-console").await?;
        fill(&client, "q", &reference).await?;
        click(&client, "lookup").await?;
        let answer = client
            .wait()
            .for_element(Locator::Css("section.looked-up"))
            .await?
            .text()
            .await?;
        Ok::<_, fantoccini::error::CmdError>(answer)
    }
    .await;
    if result.is_err() {
        eprintln!("{}", browser.describe().await);
    }
    browser.stop().await;
    let answer = result.expect("the lookup completes");
    assert!(answer.contains("ФИО не совпадает"), "{answer}");
    assert!(answer.contains(&reference), "{answer}");
    assert!(answer.contains("отчество"), "the part in words: {answer}");
    for code in [
        "name_mismatch",
        "patronymic",
        "differs",
        "equal",
        "standard",
        "simplified",
    ] {
        assert!(!answer.contains(code), "«{code}» in: {answer}");
    }
    // Every Latin word is the reference, the time zone or the provider's id.
    let latin: Vec<&str> = answer
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .filter(|w| !reference.contains(*w) && !["UTC", "esia"].contains(w))
        .collect();
    assert!(latin.is_empty(), "{latin:?} in: {answer}");
}
/// The browser's cookies for `base`, as a `Cookie` header (to fetch a
/// download as this browser would).
async fn cookie_header(client: &fantoccini::Client) -> String {
    client
        .get_all_cookies()
        .await
        .expect("cookies")
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The value of hidden field `name` in the form `form_id` of `html`.
fn field_in(html: &str, form_id: &str, name: &str) -> String {
    let form = html
        .split(&format!("id=\"{form_id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("form {form_id}"));
    form.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("{name} in {form_id}"))
        .to_string()
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"]
async fn a_school_admin_uploads_fixes_writes_and_prints_a_class_packet_in_chromium() {
    use crate::school_console::{pdf_bookmarks_contain, pdf_pages, workbook};
    // Both files go through the background job a large file gets: the
    // report comes once the job's page, refreshing itself, shows it.
    let app = crate::helpers::spawn_app_with(crate::helpers::AppOptions {
        configure: Some(Box::new(|config| config.uploads.background_from_bytes = 1)),
        ..crate::helpers::AppOptions::default()
    })
    .await;
    let rows = [
        [
            "c-1",
            "ученик",
            "Белова",
            "Вера",
            "Ивановна",
            "01.09.2014",
            "8Ы",
            "",
        ],
        ["c-2", "ученик", "", "Егор", "", "02.10.2014", "8Ы", ""],
        [
            "c-3",
            "директор",
            "Котов",
            "Иван",
            "",
            "03.03.2014",
            "8Ы",
            "",
        ],
        [
            "c-4",
            "ученик",
            "Орлова",
            "Дарья",
            "",
            "31.02.2014",
            "8Ы",
            "",
        ],
        [
            "c-5",
            "родитель",
            "Белова",
            "Анна",
            "Олеговна",
            "03.03.1985",
            "",
            "c-1",
        ],
    ];
    let fixed = [
        rows[0],
        ["c-2", "ученик", "Гусев", "Егор", "", "02.10.2014", "8Ы", ""],
        ["c-3", "ученик", "Котов", "Иван", "", "03.03.2014", "8Ы", ""],
        [
            "c-4",
            "ученик",
            "Орлова",
            "Дарья",
            "",
            "28.02.2014",
            "8Ы",
            "",
        ],
        rows[4],
    ];
    let dir = std::env::temp_dir().join(format!("esia-link-upload-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (bad_file, fixed_file) = (dir.join("8Ы.xlsx"), dir.join("8Ы-fixed.xlsx"));
    std::fs::write(&bad_file, workbook(&rows, false, false)).expect("xlsx");
    std::fs::write(&fixed_file, workbook(&fixed, false, false)).expect("xlsx");

    let browser = Browser::start().await;
    let client = browser.client.clone();
    let http = reqwest::Client::new();
    let outbox = app.outbox_dir.clone();
    let result = async {
        log_in_via_esia(&client, &app.base, "school_admin").await?;
        client.wait().for_element(Locator::Id("full-name")).await?;
        // The file with errors: the report names spreadsheet rows and people.
        client.goto(&format!("{}/school", app.base)).await?;
        client
            .wait()
            .for_element(Locator::Css("input[type=file]"))
            .await?
            .send_keys(&bad_file.display().to_string())
            .await?;
        click(&client, "check").await?;
        client.wait().for_element(Locator::Id("problems")).await?;
        let report_url = client.current_url().await?.path().to_string();
        let mut problems = Vec::new();
        for row in client.find_all(Locator::Css("tr.problem-row")).await? {
            let number = row.find(Locator::Css(".row")).await?.text().await?;
            let name = row.find(Locator::Css(".name")).await?.text().await?;
            problems.push((number, name));
        }
        // The report downloads as CSV.
        let href = client
            .find(Locator::Id("download-report"))
            .await?
            .attr("href")
            .await?
            .unwrap_or_default();
        let csv = http
            .get(format!("{}{href}", app.base))
            .header("cookie", cookie_header(&client).await)
            .send()
            .await
            .expect("report")
            .text()
            .await
            .expect("report text");
        // The fixed file is written whole.
        client.goto(&format!("{}/school", app.base)).await?;
        client
            .wait()
            .for_element(Locator::Css("input[type=file]"))
            .await?
            .send_keys(&fixed_file.display().to_string())
            .await?;
        click(&client, "check").await?;
        client
            .wait()
            .for_element(Locator::Css("#write-all button"))
            .await?
            .click()
            .await?;
        let written = client
            .wait()
            .for_element(Locator::Id("written"))
            .await?
            .text()
            .await?;
        // The class's codes as one packet.
        client
            .goto(&format!("{}/school/class?name=8Ы", app.base))
            .await?;
        client
            .wait()
            .for_element(Locator::Id("issue-class"))
            .await?;
        let page = client.source().await?;
        let pdf = http
            .post(format!("{}/school/class/codes", app.base))
            .header("cookie", cookie_header(&client).await)
            .form(&[
                ("csrf", field_in(&page, "issue-class", "csrf")),
                ("name", "8Ы".to_string()),
            ])
            .send()
            .await
            .expect("packet")
            .bytes()
            .await
            .expect("pdf");
        // The parent's sheet comes last; its QR code links the activation.
        let text = String::from_utf8_lossy(&pdf).to_string();
        let parent_url = text
            .rsplit("/URI (")
            .next()
            .and_then(|s| s.split(')').next())
            .expect("a link on the last sheet")
            .to_string();
        // The parent activates from the sheet, in a browser of their own.
        client.delete_all_cookies().await?;
        client.goto(&parent_url).await?;
        let wizard = Wizard {
            email: "belova.anna@mail.ru",
            phone: "+7 912 000-33-44",
            login: Some("belova.ao"),
        };
        activate_and_log_in(&client, &outbox, &wizard, "belova.ao").await?;
        let name = client
            .wait()
            .for_element(Locator::Id("full-name"))
            .await?
            .text()
            .await?;
        Ok::<_, fantoccini::error::CmdError>((report_url, problems, csv, written, pdf, name))
    }
    .await;
    if result.is_err() {
        eprintln!("{}", browser.describe().await);
    }
    browser.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    let (report_url, problems, csv, written, pdf, name) =
        result.expect("the school's journey completes");
    assert!(
        report_url.starts_with("/school/roster/"),
        "the job's page: {report_url}"
    );
    assert_eq!(
        problems,
        [("3", "Егор"), ("4", "Котов Иван"), ("5", "Орлова Дарья")]
            .map(|(r, n)| (r.to_string(), n.to_string())),
    );
    assert!(csv.contains("5;c-4;Орлова Дарья;"), "{csv}");
    assert!(
        written.contains("new 5,") || written.contains("новых — 5,"),
        "{written}"
    );
    // A cover page, four pupils, one parent; the parent's sheet names the child.
    assert_eq!(pdf_pages(&pdf), 6);
    assert!(pdf_bookmarks_contain(&pdf, "Белова Вера Ивановна, 8Ы"));
    assert_eq!(name, "Белова Анна Олеговна");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"]
async fn the_audit_log_reads_at_1280_pixels_with_its_details_folded_in_chromium() {
    let app = spawn_app().await;
    // Something for the log beyond the roster import: an operator's unlink.
    let (browser_login, run) = app
        .login("esia", "ivanova", esia_link::demo::browser::Consent::Allow)
        .await;
    assert_eq!(run.landed_at(), Some("/account"));
    let cookie = browser_login
        .cookie(&app.base, "el_session")
        .expect("a session");
    let account = app
        .state
        .account()
        .session(Some(&cookie))
        .await
        .expect("session")
        .data
        .account_id;
    app.state
        .console()
        .unlink(
            "operator:test",
            account,
            "esia",
            "Человек потерял доступ к учётной записи на Госуслугах и просит связать новую",
        )
        .await
        .expect("unlink");

    let browser = Browser::start().await;
    let client = browser.client.clone();
    let result = async {
        client.set_window_size(1280, 900).await?;
        log_in_via_esia(&client, &app.base, "operator").await?;
        click(&client, "to-console").await?;
        click(&client, "audit-link").await?;
        client
            .wait()
            .for_element(Locator::Css("table, details"))
            .await?;
        let measured = client
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, \
                 document.querySelectorAll('details').length, document.querySelectorAll('details[open]').length];",
                vec![],
            )
            .await?;
        Ok::<_, fantoccini::error::CmdError>(measured)
    }
    .await;
    if result.is_err() {
        eprintln!("{}", browser.describe().await);
    }
    browser.stop().await;
    let measured = result.expect("the audit page opens");
    let numbers: Vec<i64> = measured
        .as_array()
        .expect("four numbers")
        .iter()
        .map(|n| n.as_i64().unwrap_or(-1))
        .collect();
    let [scroll, client_width, details, open] = numbers[..] else {
        panic!("four numbers: {numbers:?}");
    };
    assert!(client_width <= 1280 && client_width > 1000, "{numbers:?}");
    assert!(
        scroll <= client_width,
        "no sideways scrolling at 1280 px: {numbers:?}"
    );
    assert!(
        details > 0,
        "the rows' details are there, folded: {numbers:?}"
    );
    assert_eq!(open, 0, "folded: {numbers:?}");
}
