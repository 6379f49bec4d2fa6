//! The production binary's guard rails: `serve` refuses the published demo
//! secrets and insecure cookies on a public address, and says which;
//! `config show` shows an incomplete configuration and lists what is wrong.

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

/// `config show` in a clean environment plus `env`, with `file` (TOML)
/// as `--config`: exit code, stdout, stderr.
fn config_show(file: Option<&str>, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let dir = std::env::temp_dir().join(format!("esia-link-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut command = esia_link();
    command.env_clear().envs(env.iter().copied());
    if let Some(toml) = file {
        let path = dir.join("esia-link.toml");
        std::fs::write(&path, toml).expect("write config");
        command.arg("--config").arg(path);
    }
    let output = command
        .args(["--lang", "en", "config", "show"])
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn config_show_prints_an_incomplete_configuration_and_lists_what_is_wrong() {
    let (code, stdout, stderr) = config_show(
        Some("[database]\nurl = \"postgres://esia:db-pass-123@db.internal/esia\"\nmax_connections = 4\n\n[family]\ninvitation_days = 0\n"),
        &[("ESIA_LINK__EPHEMERAL__BACKEND", "redis")],
    );
    assert_eq!(code, Some(2), "incomplete: {stderr}");
    assert!(
        stdout.contains("[server]") && stdout.contains("[database]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("max_connections = 4"),
        "the file's layer: {stdout}"
    );
    assert!(
        stdout.contains("backend = \"redis\""),
        "the environment's layer: {stdout}"
    );
    assert!(!stdout.contains("db-pass-123"), "secrets masked: {stdout}");
    for named in [
        "3)",
        "security.hmac_key is not set",
        "ESIA_LINK__SECURITY__HMAC_KEY",
        "family.invitation_days",
        "ephemeral.redis_url",
    ] {
        assert!(stderr.contains(named), "names {named}: {stderr}");
    }

    // A value that cannot be read at all: the rest is still shown and
    // checked.
    let (code, stdout, stderr) = config_show(
        Some("[server]\nlistne = \"0.0.0.0:80\"\n"),
        &[("ESIA_LINK__POLICY__MIN_TIER", "gold")],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stdout.contains("listne") && stdout.contains("[regions"),
        "{stdout}"
    );
    for named in [
        "[server]",
        "listne",
        "[policy]",
        "gold",
        "security.hmac_key",
    ] {
        assert!(stderr.contains(named), "names {named}: {stderr}");
    }
}

#[test]
fn config_show_says_when_the_configuration_is_complete() {
    let key = [(
        "ESIA_LINK__SECURITY__HMAC_KEY",
        "a-key-of-our-own-0123456789",
    )];
    let (code, stdout, stderr) = config_show(None, &key);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("hmac_key = \"********\""), "{stdout}");
    assert!(!stdout.contains("a-key-of-our-own"), "{stdout}");
    assert!(stderr.contains("complete"), "{stderr}");

    // What serve refuses counts as well: the published demo key.
    let demo_security = esia_link::demo::DEMO_TOML
        .split("[security]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .map(|section| format!("[security]{section}\n"))
        .expect("demo overlay has a security section");
    let (code, _, stderr) = config_show(Some(&demo_security), &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("published demo key"), "{stderr}");
}

/// The reference CryptoPro wrapper turns csptest's raw output into ESIA's
/// client_secret: reversed bytes, base64url, no padding; and refuses
/// anything but 64 bytes. csptest itself is faked here (no CryptoPro in CI).
#[test]
fn the_reference_csptest_wrapper_reverses_and_encodes() {
    use base64::Engine;
    let dir = std::env::temp_dir().join(format!("esia-link-csptest-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/signer/esia-sign-csptest.sh");
    let run = |bytes: usize| {
        let fake = dir.join(format!("csptest-{bytes}"));
        // Writes `bytes` bytes 0, 1, 2, ... to the file after -out.
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ \"$1\" = -out ]; then out=$2; fi; shift; done\nperl -e 'print map {{ chr($_ % 256) }} 0..{}' > \"$out\"\n",
                bytes as i64 - 1
            ),
        )
        .expect("fake csptest");
        Command::new("chmod")
            .arg("+x")
            .arg(&fake)
            .status()
            .expect("chmod");
        let mut child = Command::new("sh")
            .arg(&script)
            .env("ESIA_CSP_CONTAINER", "test")
            .env("ESIA_CSPTEST", &fake)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("script runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"ESIA-LINK-DEMOopenid...")
            .expect("write");
        child.wait_with_output().expect("output")
    };
    let ok = run(64);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let reversed: Vec<u8> = (0..64u8).rev().collect();
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(reversed)
    );
    let cms_like = run(700);
    assert!(!cms_like.status.success());
    assert!(String::from_utf8_lossy(&cms_like.stderr).contains("700 bytes"));
    let _ = std::fs::remove_dir_all(&dir);
}
