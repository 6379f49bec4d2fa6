//! Operators: a reference code from a failure page leads to the attempt,
//! what was compared and who must fix what — for every failing demo person,
//! through the use case and through `esia-link diagnose`.

use esia_link::demo::browser::Consent;
use esia_link::i18n::Lang;
use esia_link::texts::remedy::Side;

use crate::helpers::{csrf_token, demo_account, fill_form, make_school_admin, spawn_app, TestApp};

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
            .console()
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
        .console()
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
        .console()
        .diagnose(&reference, "test:privileged", true, Lang::Ru)
        .await
        .expect("diagnosis");
    assert!(unmasked.accounts[0].full_name.contains("Кузнецова"));

    let audit = app
        .store
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
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("look them up in the service log"),
        "says where else a reference code may be: {stderr}"
    );
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
        .store
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
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "no reason, no action"
    );
    // A reason too short (the browser's check bypassed): the same form
    // again, the input kept, the error beside the field, still in the console.
    let short = operator
        .post_form(&format!("{}/ops/unlink", app.base), &post("abc"))
        .await
        .expect("post");
    assert_eq!(short.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("id=\"unlink-error\""), "{}", short.body);
    assert!(short.body.contains(">abc</textarea>"), "{}", short.body);
    assert!(
        short.body.contains("action=\"/ops/unlink\""),
        "{}",
        short.body
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

/// Audit rows about an account, as (actor, action, reason, details).
async fn account_audit(app: &TestApp, account: uuid::Uuid) -> Vec<esia_link::store::AuditEntry> {
    app.store
        .audit_for_target("account", &account.to_string())
        .await
        .expect("audit")
}

/// "The identity was linked to the wrong diary account": the operator moves
/// it with a reason; the next login lands in the other account, both
/// accounts' audit trails say so, and the rows cannot be rewritten.
#[tokio::test]
async fn an_operator_relinks_an_identity_and_the_move_is_audited() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "morozov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let morozov = demo_account(&app, "morozov.sp").await;
    let testov = demo_account(&app, "testov.tt").await;
    let kravtsova = demo_account(&app, "kravtsova.ea").await;

    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let page = operator
        .get(&format!("{}/ops?q=morozov.sp&lang=en", app.base))
        .await
        .expect("ops");
    assert_eq!(page.status, reqwest::StatusCode::OK, "{}", page.body);
    let reason = "linked to the wrong diary account by mistake";
    let moved = operator
        .post_form(
            &format!("{}/ops/relink", app.base),
            &fill_form(
                &page.body,
                "/ops/relink",
                &[("to", &testov.id.to_string()), ("reason", reason)],
            ),
        )
        .await
        .expect("post");
    assert_eq!(
        moved.status,
        reqwest::StatusCode::SEE_OTHER,
        "{}",
        moved.body
    );
    assert!(
        moved
            .location
            .as_deref()
            .is_some_and(|l| l.contains("done=relinked")),
        "{:?}",
        moved.location
    );
    let store = app.store.clone();
    assert!(store
        .find_link_for_account("esia", morozov.id)
        .await
        .expect("query")
        .is_none());
    let link = store
        .find_link_for_account("esia", testov.id)
        .await
        .expect("query")
        .expect("the link is on the other account");
    assert_eq!(link.method, "operator");

    let into = account_audit(&app, testov.id).await;
    let row = into
        .iter()
        .find(|e| e.action == "link.relinked")
        .unwrap_or_else(|| panic!("{into:?}"));
    assert!(row.actor.starts_with("operator:"), "{}", row.actor);
    assert_eq!(row.reason.as_deref(), Some(reason));
    assert_eq!(row.details["from_account"], morozov.id.to_string());
    assert_eq!(row.details["to_account"], testov.id.to_string());
    assert!(account_audit(&app, morozov.id)
        .await
        .iter()
        .any(|e| e.action == "link.relinked_away" && e.reason.as_deref() == Some(reason)));

    // The identity now opens the other account.
    let (browser, run) = app.login("esia", "morozov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let account = browser
        .get(&format!("{}/account", app.base))
        .await
        .expect("account");
    assert!(account.body.contains("Тестов"), "{}", account.body);

    // A target that has a link with the provider already: refused, unchanged.
    let page = operator
        .get(&format!("{}/ops?q=testov.tt&lang=en", app.base))
        .await
        .expect("ops");
    let refused = operator
        .post_form(
            &format!("{}/ops/relink", app.base),
            &fill_form(
                &page.body,
                "/ops/relink",
                &[("to", &kravtsova.id.to_string()), ("reason", reason)],
            ),
        )
        .await
        .expect("post");
    // Back to the relink form, the input kept, the error beside the field.
    assert_eq!(
        refused.status,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("linked with this provider already"));
    assert!(
        refused.body.contains("id=\"relink-to-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains(&format!("value=\"{}\" aria-invalid=\"true\"", kravtsova.id)),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(&format!(">{reason}</textarea>")));
    assert!(store
        .find_link_for_account("esia", testov.id)
        .await
        .expect("query")
        .is_some());

    // The audit rows survive attempts to rewrite them.
    let update = sqlx::query(
        "UPDATE audit_log SET reason = 'nothing happened' WHERE action = 'link.relinked'",
    )
    .execute(store.pool())
    .await;
    assert!(update.is_err(), "UPDATE refused");
    let delete = sqlx::query("DELETE FROM audit_log WHERE action = 'link.relinked'")
        .execute(store.pool())
        .await;
    assert!(delete.is_err(), "DELETE refused");
    let after = account_audit(&app, testov.id).await;
    assert!(after
        .iter()
        .any(|e| e.action == "link.relinked" && e.reason.as_deref() == Some(reason)));
}

#[tokio::test]
async fn relink_and_correction_without_a_reason_change_nothing() {
    let app = spawn_app().await;
    app.login("esia", "morozov", Consent::Allow).await;
    let morozov = demo_account(&app, "morozov.sp").await;
    let testov = demo_account(&app, "testov.tt").await;
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let page = operator
        .get(&format!("{}/ops?q=morozov.sp&lang=en", app.base))
        .await
        .expect("ops");
    for blank in ["", "   ", "ok"] {
        let refused = operator
            .post_form(
                &format!("{}/ops/relink", app.base),
                &fill_form(
                    &page.body,
                    "/ops/relink",
                    &[("to", &testov.id.to_string()), ("reason", blank)],
                ),
            )
            .await
            .expect("post");
        assert_eq!(
            refused.status,
            reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            "{blank:?}"
        );
        assert!(
            refused.body.contains("id=\"relink-reason-error\"")
                && refused.body.contains("Write a reason"),
            "{}",
            refused.body
        );
        assert!(refused.body.contains(&testov.id.to_string()));
    }
    assert!(
        app.store
            .find_link_for_account("esia", morozov.id)
            .await
            .expect("query")
            .is_some(),
        "the link stays where it was"
    );

    make_school_admin(&app, "smirnov.oa").await;
    let (admin, run) = app.login("esia", "smirnov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let page = admin
        .get(&format!("{}/ops?q=sokolov.da&lang=en", app.base))
        .await
        .expect("ops");
    assert_eq!(page.status, reqwest::StatusCode::OK, "{}", page.body);
    let refused = admin
        .post_form(
            &format!("{}/ops/correct", app.base),
            &fill_form(
                &page.body,
                "/ops/correct",
                &[
                    ("surname", "Соколов"),
                    ("given_name", "Дмитрий"),
                    ("patronymic", "Алексеевич"),
                    ("reason", " \n "),
                ],
            ),
        )
        .await
        .expect("post");
    assert_eq!(refused.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"correct-reason-error\"")
            && refused.body.contains("value=\"Соколов\""),
        "{}",
        refused.body
    );
    assert_eq!(demo_account(&app, "sokolov.da").await.surname, "Сокалов");

    let audit = app
        .store
        .audit_entries(&esia_link::store::AuditFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("audit");
    assert!(
        !audit
            .iter()
            .any(|e| e.action == "link.relinked" || e.action == "account.data_corrected"),
        "nothing done, nothing logged"
    );
}

#[tokio::test]
async fn support_may_not_correct_personal_data() {
    let app = spawn_app().await;
    let sokolov = demo_account(&app, "sokolov.da").await;
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let page = operator
        .get(&format!("{}/ops?q=sokolov.da&lang=en", app.base))
        .await
        .expect("ops");
    assert!(
        !page.body.contains("action=\"/ops/correct\""),
        "support gets no correction form"
    );
    let csrf = csrf_token(&app, &operator).await;
    let fields: Vec<(String, String)> = [
        ("csrf", csrf.as_str()),
        ("account", &sokolov.id.to_string()),
        ("surname", "Соколов"),
        ("given_name", "Дмитрий"),
        ("patronymic", "Алексеевич"),
        ("birth_date", ""),
        ("snils", ""),
        ("reason", "the parent asked support to fix the surname"),
        ("q", "sokolov.da"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let refused = operator
        .post_form(&format!("{}/ops/correct", app.base), &fields)
        .await
        .expect("post");
    assert_eq!(
        refused.status,
        reqwest::StatusCode::FORBIDDEN,
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("Only the school corrects personal data"),
        "{}",
        refused.body
    );
    assert_eq!(demo_account(&app, "sokolov.da").await.surname, "Сокалов");
    assert!(!account_audit(&app, sokolov.id)
        .await
        .iter()
        .any(|e| e.action == "account.data_corrected"));
}

/// A school administrator fixes the typo that made the login fail, and the
/// person logs in; people of another school do not exist for them.
#[tokio::test]
async fn a_school_admin_corrects_data_in_their_own_school_only() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "sokolov", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("name_mismatch"));
    let (_, run) = app.login("esia", "kuznetsova", Consent::Allow).await;
    let other_reference = run.reference.expect("reference");
    let sokolov = demo_account(&app, "sokolov.da").await;
    let kuznetsova = demo_account(&app, "kuznetsova.as").await;
    let smirnov = demo_account(&app, "smirnov.oa").await;
    make_school_admin(&app, "smirnov.oa").await;
    let (admin, run) = app.login("esia", "smirnov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));

    let page = admin
        .get(&format!("{}/ops?q=sokolov.da&lang=en", app.base))
        .await
        .expect("ops");
    assert_eq!(page.status, reqwest::StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&sokolov.id.to_string()));
    assert!(!page.body.contains("Сокалов"), "masked for school admins");
    let unmask = admin
        .get(&format!("{}/ops?q=sokolov.da&unmask=1", app.base))
        .await
        .expect("ops");
    assert_eq!(unmask.status, reqwest::StatusCode::FORBIDDEN);

    let reason = "the school register had a typo in the surname";
    let done = admin
        .post_form(
            &format!("{}/ops/correct", app.base),
            &fill_form(
                &page.body,
                "/ops/correct",
                &[
                    ("surname", "Соколов"),
                    ("given_name", "Дмитрий"),
                    ("patronymic", "Алексеевич"),
                    ("reason", reason),
                ],
            ),
        )
        .await
        .expect("post");
    assert_eq!(done.status, reqwest::StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(demo_account(&app, "sokolov.da").await.surname, "Соколов");
    let audit = account_audit(&app, sokolov.id).await;
    let row = audit
        .iter()
        .find(|e| e.action == "account.data_corrected")
        .unwrap_or_else(|| panic!("{audit:?}"));
    assert_eq!(row.actor, format!("operator:{}", smirnov.id));
    assert_eq!(row.reason.as_deref(), Some(reason));
    assert_eq!(row.details["fields"], serde_json::json!(["surname"]));
    let details = row.details.to_string();
    assert!(
        !details.contains("Соколов") && !details.contains("Сокалов"),
        "{details}"
    );

    // The login that failed on the typo now links, and the notification
    // centre says what the school changed.
    let (sokolov_browser, run) = app.login("esia", "sokolov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    let notices = sokolov_browser
        .get(&format!("{}/notifications", app.base))
        .await
        .expect("notifications");
    assert!(
        notices
            .body
            .contains("Школа исправила ваши данные в дневнике: фамилия."),
        "{}",
        notices.body
    );

    // Another school's person: the same answer as for no one at all.
    for query in ["kuznetsova.as", other_reference.as_str(), "nobody.at.all"] {
        let page = admin
            .get(&format!("{}/ops?q={query}&lang=en", app.base))
            .await
            .expect("ops");
        assert_eq!(page.status, reqwest::StatusCode::OK);
        assert!(
            page.body.contains("id=\"nothing\""),
            "{query}: {}",
            page.body
        );
        assert!(!page.body.contains(&kuznetsova.id.to_string()), "{query}");
        assert!(!page.body.contains("data-outcome"), "{query}: no attempts");
        // A query shaped as a reference code is told where else such a
        // code may be (by its shape alone: the real attempt above reads as
        // an unknown one).
        let reference_shaped = query == other_reference.as_str();
        assert_eq!(
            page.body.contains("look them up in the service log"),
            reference_shaped,
            "{query}: {}",
            page.body
        );
    }
    let csrf = csrf_token(&app, &admin).await;
    let fields = |account: uuid::Uuid| -> Vec<(String, String)> {
        [
            ("csrf", csrf.clone()),
            ("account", account.to_string()),
            ("surname", "Кузнецова".to_string()),
            ("given_name", "Анна".to_string()),
            ("patronymic", String::new()),
            ("reason", "trying another school's pupil".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    };
    let refused = admin
        .post_form(&format!("{}/ops/correct", app.base), &fields(kuznetsova.id))
        .await
        .expect("post");
    assert_eq!(refused.status, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(
        demo_account(&app, "kuznetsova.as")
            .await
            .patronymic
            .as_deref(),
        Some("Сергеевна")
    );
    let relink: Vec<(String, String)> = [
        ("csrf", csrf.clone()),
        ("account", smirnov.id.to_string()),
        ("provider", "esia".to_string()),
        ("to", kuznetsova.id.to_string()),
        ("reason", "trying another school's account".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let refused = admin
        .post_form(&format!("{}/ops/relink", app.base), &relink)
        .await
        .expect("post");
    assert_eq!(refused.status, reqwest::StatusCode::NOT_FOUND);
    assert!(app
        .store
        .find_link_for_account("esia", smirnov.id)
        .await
        .expect("query")
        .is_some());

    // Their audit viewer shows their school's accounts only.
    let viewer = admin
        .get(&format!("{}/ops/audit?lang=en", app.base))
        .await
        .expect("audit");
    assert_eq!(viewer.status, reqwest::StatusCode::OK);
    assert!(viewer.body.contains("account.data_corrected"));
    assert!(viewer.body.contains(&sokolov.id.to_string()));
    assert!(
        !viewer.body.contains(&kuznetsova.id.to_string()),
        "{}",
        viewer.body
    );
}

#[tokio::test]
async fn the_audit_viewer_filters_by_action() {
    let app = spawn_app().await;
    app.login("esia", "morozov", Consent::Allow).await;
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    operator
        .get(&format!("{}/ops?q=morozov.sp", app.base))
        .await
        .expect("a lookup, audited");

    let all = operator
        .get(&format!("{}/ops/audit?lang=en", app.base))
        .await
        .expect("audit");
    assert_eq!(all.status, reqwest::StatusCode::OK, "{}", all.body);
    assert!(
        all.body.contains("data-action=\"link.created\""),
        "{}",
        all.body
    );
    assert!(all.body.contains("data-action=\"diagnose.lookup\""));

    let links = operator
        .get(&format!(
            "{}/ops/audit?action=link.created&since=1h",
            app.base
        ))
        .await
        .expect("audit");
    assert_eq!(links.status, reqwest::StatusCode::OK);
    assert!(links.body.contains("data-action=\"link.created\""));
    assert!(
        !links.body.contains("data-action=\"diagnose.lookup\""),
        "{}",
        links.body
    );

    let morozov = demo_account(&app, "morozov.sp").await;
    let by_subject = operator
        .get(&format!("{}/ops/audit?subject={}", app.base, morozov.id))
        .await
        .expect("audit");
    assert!(by_subject.body.contains("data-action=\"link.created\""));
    assert!(!by_subject.body.contains("data-action=\"diagnose.lookup\""));

    let older = operator
        .get(&format!("{}/ops/audit?until=1h", app.base))
        .await
        .expect("audit");
    assert!(
        older.body.contains("id=\"nothing\""),
        "nothing older than an hour"
    );
    let bad = operator
        .get(&format!("{}/ops/audit?since=yesterday", app.base))
        .await
        .expect("audit");
    assert_eq!(bad.status, reqwest::StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"problem\""));

    let (parent, _) = app.login("esia", "ivanova", Consent::Allow).await;
    let forbidden = parent
        .get(&format!("{}/ops/audit", app.base))
        .await
        .expect("audit");
    assert_eq!(forbidden.status, reqwest::StatusCode::FORBIDDEN);
    assert!(!forbidden.body.contains("link.created"));
}

#[tokio::test]
async fn the_ops_front_page_charts_attempts_per_hour_by_outcome() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "sokolov", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("name_mismatch"));
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    app.state.flush().await;

    let page = operator
        .get(&format!("{}/ops?lang=en", app.base))
        .await
        .expect("ops");
    assert_eq!(page.status, reqwest::StatusCode::OK, "{}", page.body);
    let svg_at = page
        .body
        .find("<svg")
        .unwrap_or_else(|| panic!("{}", page.body));
    let svg = &page.body[svg_at..];
    // The legend speaks the reader's language, not outcome codes.
    assert!(svg.contains("data-series=\"name mismatch\""), "{svg}");
    assert!(svg.contains("name mismatch: 1</title>"), "{svg}");
    assert!(
        svg.contains("data-series=\"accounts linked\""),
        "the operator's own login: {svg}"
    );
    assert!(page.body.contains("Login attempts per hour"));

    let elsewhere = operator
        .get(&format!("{}/ops?region=78", app.base))
        .await
        .expect("ops");
    assert!(elsewhere.body.contains("<svg"));
    assert!(
        !elsewhere.body.contains("data-series=\"ФИО не совпадает\""),
        "another region's chart: {}",
        elsewhere.body
    );
}

/// What a person reads on a page without unfolding anything: the text
/// outside tags, styles, scripts and closed `<details>` (ids and the audit's
/// raw details are shown only on request).
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let tail = &rest[open..];
        let skip_to = ["style", "script", "details"]
            .into_iter()
            .find(|t| tail.starts_with(&format!("<{t}")))
            .and_then(|t| tail.find(&format!("</{t}>")));
        let from = skip_to.unwrap_or(0);
        rest = match tail[from..].find('>') {
            Some(close) => &tail[from + close + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn russian_pages_of_the_demo_show_no_codes() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "morozov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let (operator, _) = app.login("esia", "operator", Consent::Allow).await;
    let mut pages = Vec::new();
    for person in [
        "kuznetsova",
        "popova",
        "lebedev",
        "morozov2",
        "volkov",
        "pavlov",
        "orlov",
        "sokolov",
    ] {
        let (_, run) = app.login("esia", person, Consent::Allow).await;
        let reference = run.reference.clone().expect("a reference");
        let outcome = run.outcome_page.expect("the outcome page");
        pages.push((format!("{person}: outcome page"), outcome.body));
        for path in [
            format!("/ops?q={reference}"),
            format!("/ops?q={reference}&unmask=1"),
        ] {
            let hop = operator
                .get(&format!("{}{path}", app.base))
                .await
                .expect("console");
            assert_eq!(hop.status, reqwest::StatusCode::OK, "{path}");
            pages.push((format!("{person}: {path}"), hop.body));
        }
    }
    for path in ["/ops", "/account", "/ops/audit"] {
        let hop = operator
            .get(&format!("{}{path}", app.base))
            .await
            .expect("page");
        pages.push((path.to_string(), hop.body));
    }
    let mut codes: Vec<&str> = esia_link::domain::OutcomeCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    codes.extend([
        "surname",
        "given_name",
        "patronymic",
        "differs",
        "equal",
        "simplified",
        "standard",
        "verified",
        "diagnose.lookup",
        "link.created",
    ]);
    let mut shown = 0;
    for (name, html) in &pages {
        let text = visible_text(html);
        for code in &codes {
            assert!(!text.contains(code), "{name} shows «{code}»:\n{text}");
        }
        shown += usize::from(text.contains("ФИО не совпадает"));
    }
    assert!(shown > 0, "the name mismatch is said in words");
}
