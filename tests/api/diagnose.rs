//! Operators: a reference code from a failure page leads to the attempt,
//! what was compared and who must fix what — for every failing demo person,
//! through the use case and through `esia-link diagnose`.

use esia_link::app::remedy::Side;
use esia_link::demo::browser::Consent;
use esia_link::i18n::Lang;

use crate::helpers::{spawn_app, TestApp};

/// Runs `esia-link ARGS` against the test app's database with the demo key.
fn esia_link(app: &TestApp, args: &[&str]) -> std::process::Output {
    let hmac = esia_link::demo::demo_base_config()
        .expect("demo config")
        .security
        .hmac_key
        .expose()
        .to_string();
    std::process::Command::new(env!("CARGO_BIN_EXE_esia-link"))
        .args(args)
        .env("ESIA_LINK__DATABASE__URL", app.database_url())
        .env("ESIA_LINK__SECURITY__HMAC_KEY", hmac)
        .output()
        .expect("runs")
}

#[tokio::test]
async fn every_failing_demo_person_gets_an_outcome_and_a_remedy() {
    let app = spawn_app().await;
    // morozov links first, so that morozov2 (a second State Services
    // account of the same person) finds the account taken.
    let (_, run) = app.login("esia", "morozov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let cases = [
        ("kuznetsova", "name_mismatch", Side::School, "patronymic"),
        ("popova", "snils_missing", Side::Person, "add the SNILS"),
        (
            "lebedev",
            "no_account",
            Side::School,
            "record the person's SNILS",
        ),
        (
            "morozov2",
            "linked_elsewhere",
            Side::Support,
            "linked to OID",
        ),
        ("volkov", "tier_too_low", Side::Person, "must be confirmed"),
        ("pavlov", "ambiguous", Side::School, "share this SNILS"),
        ("orlov", "region_disabled", Side::Integration, "region"),
    ];
    for (person, outcome, side, needle) in cases {
        let (_, run) = app.login("esia", person, Consent::Allow).await;
        assert_eq!(run.outcome.as_deref(), Some(outcome), "{person}");
        let reference = run.reference.expect("reference on the page");
        let diagnosis = app
            .state
            .diagnose(&reference, "test:operator", false, Lang::En)
            .await
            .expect("diagnosis");
        let attempt = diagnosis
            .attempts
            .iter()
            .find(|a| a.looked_up)
            .unwrap_or_else(|| panic!("{person}: the looked-up attempt is listed"));
        assert_eq!(attempt.outcome, outcome, "{person}");
        assert_eq!(attempt.remedy.side, side, "{person}: {:?}", attempt.remedy);
        assert!(
            attempt.remedy.steps.iter().any(|s| s.contains(needle)),
            "{person}: {:?}",
            attempt.remedy.steps
        );
    }
}

#[tokio::test]
async fn lookups_are_audited_and_names_stay_masked_unless_asked() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "kuznetsova", Consent::Allow).await;
    let reference = run.reference.expect("reference");
    let masked = app
        .state
        .diagnose(&reference, "test:support", false, Lang::Ru)
        .await
        .expect("diagnosis");
    let account = masked
        .accounts
        .first()
        .expect("the account that was compared");
    assert!(
        !account.full_name.contains("Кузнецова"),
        "{}",
        account.full_name
    );
    assert!(account.full_name.starts_with('К'), "{}", account.full_name);
    let json = serde_json::to_string(&masked).expect("json");
    assert!(!json.contains("Кузнецова"), "no name in the masked view");

    let unmasked = app
        .state
        .diagnose(&reference, "test:privileged", true, Lang::Ru)
        .await
        .expect("diagnosis");
    assert!(unmasked.accounts[0].full_name.contains("Кузнецова"));

    let audit = app
        .state
        .store()
        .audit_for_target("diagnosis", "reference")
        .await
        .expect("audit");
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert!(
        actions.contains(&("test:support", "diagnose.lookup")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("test:privileged", "diagnose.lookup_unmasked")),
        "{actions:?}"
    );
}

#[tokio::test]
async fn the_cli_prints_the_outcome_and_the_remedy_for_a_reference() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "popova", Consent::Allow).await;
    let reference = run.reference.expect("reference");
    let output = esia_link(&app, &["--lang", "en", "diagnose", &reference]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&reference), "{stdout}");
    assert!(stdout.contains("snils_missing"), "{stdout}");
    assert!(
        stdout.contains("add the SNILS to the State Services profile"),
        "{stdout}"
    );

    let unknown = esia_link(&app, &["--lang", "en", "diagnose", "ZZZZ-ZZZZ"]);
    assert!(!unknown.status.success(), "nothing found is an error exit");
}

#[tokio::test]
async fn the_outcomes_report_counts_what_happened() {
    let app = spawn_app().await;
    for person in ["ivanova", "kuznetsova", "sokolov", "popova"] {
        app.login("esia", person, Consent::Allow).await;
    }
    app.state.flush().await;
    let output = esia_link(
        &app,
        &["--lang", "en", "report", "outcomes", "--since", "1h"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Login attempts in the last 1h: 4"),
        "{stdout}"
    );
    assert!(stdout.contains("name_mismatch             2"), "{stdout}");
    assert!(stdout.contains("snils_missing             1"), "{stdout}");
    assert!(stdout.contains("linked                    1"), "{stdout}");
}

#[tokio::test]
async fn metrics_count_attempts_idp_errors_and_latency() {
    let app = spawn_app().await;
    app.login("esia", "ivanova", Consent::Allow).await;
    app.login("esia", "popova", Consent::Allow).await;
    app.login("esia", "ivanova", Consent::Deny).await;
    let text = reqwest::get(format!("{}/metrics", app.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    for needle in [
        "esia_link_login_attempts_total{outcome=\"linked\",provider=\"esia\"}",
        "esia_link_login_attempts_total{outcome=\"snils_missing\",provider=\"esia\"}",
        "esia_link_idp_errors_total{provider=\"esia\",code=\"ESIA-007004\"}",
        "esia_link_idp_seconds_bucket{provider=\"esia\",le=\"",
    ] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
}

#[tokio::test]
async fn the_ops_console_shows_the_remedy_to_operators_only() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "sokolov", Consent::Allow).await;
    let reference = run.reference.expect("reference");

    let anonymous = esia_link::demo::browser::ScriptedBrowser::new();
    let hop = anonymous
        .get(&format!("{}/ops", app.base))
        .await
        .expect("ops");
    assert_eq!(hop.status, reqwest::StatusCode::SEE_OTHER, "log in first");

    let (parent, _) = app.login("esia", "ivanova", Consent::Allow).await;
    let hop = parent
        .get(&format!("{}/ops?q={reference}", app.base))
        .await
        .expect("ops");
    assert_eq!(
        hop.status,
        reqwest::StatusCode::FORBIDDEN,
        "parents see nothing"
    );
    assert!(!hop.body.contains(&reference));

    let (operator, run) = app.login("esia", "operator", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let page = operator
        .get(&format!("{}/ops?q={reference}&lang=en", app.base))
        .await
        .expect("ops");
    assert_eq!(page.status, reqwest::StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("data-outcome=\"name_mismatch\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("The school must correct the surname in the diary"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Соколов"), "masked by default");
    let unmasked = operator
        .get(&format!("{}/ops?q={reference}&unmask=1", app.base))
        .await
        .expect("ops");
    assert!(
        unmasked.body.contains("Сокалов"),
        "privileged support may unmask"
    );
    let audit = app
        .state
        .store()
        .audit_for_target("diagnosis", "reference")
        .await
        .expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.actor.starts_with("operator:") && e.action == "diagnose.lookup_unmasked"),
        "the unmasked lookup is audited"
    );
}

/// "The person has two State Services accounts": the operator unlinks the
/// old one with a reason (refused without one), and the other account is no
/// longer refused as linked elsewhere. The audit log and the duplicates
/// report show it.
#[tokio::test]
async fn an_operator_unlinks_with_a_reason_and_the_link_no_longer_blocks() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "morozov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let (_, run) = app.login("esia", "morozov2", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("linked_elsewhere"));
    let reference = run.reference.expect("reference");

    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let page = operator
        .get(&format!("{}/ops?q={reference}", app.base))
        .await
        .expect("ops");
    let unlink_at = page
        .body
        .find("action=\"/ops/unlink\"")
        .and_then(|at| page.body[..at].rfind("<form"))
        .unwrap_or_else(|| panic!("an unlink form for the linked identity: {}", page.body));
    let form = esia_link::demo::browser::parse_form(&page.body[unlink_at..]).expect("form");
    assert_eq!(form.action, "/ops/unlink");
    let post = |reason: &str| {
        let mut fields = form.fields.clone();
        fields.retain(|(k, _)| k != "reason");
        fields.push(("reason".into(), reason.into()));
        fields
    };
    let refused = operator
        .post_form(&format!("{}/ops/unlink", app.base), &post("  "))
        .await
        .expect("post");
    assert_eq!(
        refused.status,
        reqwest::StatusCode::BAD_REQUEST,
        "no reason, no action"
    );
    assert_eq!(
        app.link_count().await,
        2,
        "morozov's and the operator's links stay"
    );

    let (parent, _) = app.login("esia", "ivanova", Consent::Allow).await;
    let mut parent_fields = post("I want to");
    for (k, v) in parent_fields.iter_mut() {
        if k == "csrf" {
            *v = "forged".into();
        }
    }
    let forbidden = parent
        .post_form(&format!("{}/ops/unlink", app.base), &parent_fields)
        .await
        .expect("post");
    assert_eq!(forbidden.status, reqwest::StatusCode::FORBIDDEN);

    let done = operator
        .post_form(
            &format!("{}/ops/unlink", app.base),
            &post("the parent lost access to the old State Services account"),
        )
        .await
        .expect("post");
    assert_eq!(done.status, reqwest::StatusCode::SEE_OTHER, "{}", done.body);

    // The old link no longer stands in the way; what is left is the second
    // account's own tier (simplified: an unverified passport).
    let (_, run) = app.login("esia", "morozov2", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("tier_too_low"));

    let audit = esia_link(&app, &["--lang", "en", "audit", "--action", "link.deleted"]);
    let text = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.status.success());
    assert!(text.contains("operator:"), "{text}");
    assert!(
        text.contains("lost access to the old State Services account"),
        "{text}"
    );

    let (_, run) = app.login("esia", "pavlov", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("ambiguous"));
    let report = esia_link(&app, &["--lang", "en", "report", "duplicates"]);
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(report.status.success());
    assert!(text.contains("***-***-"), "a shared, masked SNILS: {text}");
    assert!(
        text.contains("1 other identities"),
        "morozov's account was contested: {text}"
    );
}
