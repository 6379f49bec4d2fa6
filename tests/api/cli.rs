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
