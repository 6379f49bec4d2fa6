//! The production binary's guard rails: `serve` refuses the published demo
//! secrets and insecure cookies on a public address, and says which.

use std::process::Command;

fn esia_link() -> Command {
    Command::new(env!("CARGO_BIN_EXE_esia-link"))
}

#[test]
fn serve_refuses_the_demo_secrets_and_names_them() {
    let dir = std::env::temp_dir().join(format!("esia-link-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("unsafe.toml");
    std::fs::write(
        &file,
        format!(
            "[server]\npublic_url = \"https://diary.example\"\nsecure_cookies = false\nlisten = \"127.0.0.1:0\"\n\n[database]\nurl = \"sqlite://{}/x.db?mode=rwc\"\nmax_connections = 1\n\n{}",
            dir.display(),
            esia_link::demo::DEMO_TOML
                .split("[security]")
                .nth(1)
                .map(|rest| format!("[security]{rest}"))
                .expect("demo overlay has a security section")
        ),
    )
    .expect("write config");
    let output = esia_link()
        .args(["--config", file.to_str().expect("utf-8 path"), "serve"])
        .env_remove("ESIA_LINK__SECURITY__HMAC_KEY")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "must refuse: {stderr}");
    for named in [
        "security.hmac_key",
        "client_secret",
        "demo client key",
        "secure_cookies",
        "--insecure-demo",
    ] {
        assert!(stderr.contains(named), "names {named}: {stderr}");
    }
    assert!(
        !std::path::Path::new(&dir.join("x.db")).exists(),
        "nothing created before refusing"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_without_an_hmac_key_says_how_to_set_one() {
    let output = esia_link()
        .arg("serve")
        .env_remove("ESIA_LINK__SECURITY__HMAC_KEY")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("ESIA_LINK__SECURITY__HMAC_KEY"), "{stderr}");
}
