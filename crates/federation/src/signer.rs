//! Signers for ESIA's `client_secret`: a built-in RSA (PKCS#1 v1.5, SHA-256)
//! key for the mock IdP and legacy set-ups, and an external command for GOST
//! signing through certified crypto (CryptoPro), which cannot live in-process.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use config::SignerConfig;

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("cannot read the signing key {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("the signing key is not an RSA PKCS#8 PEM key: {0}")]
    KeyFormat(String),
    #[error("RSA signing failed")]
    Rsa,
    #[error("signer command {program} could not start: {reason}")]
    Spawn { program: String, reason: String },
    #[error("signer command {program} did not answer within {timeout_ms} ms")]
    Timeout { program: String, timeout_ms: u64 },
    #[error("signer command {program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("signer command {program} printed something that is not a base64url signature")]
    BadOutput { program: String },
}

#[derive(Clone)]
pub enum Signer {
    Rsa(Arc<RsaKeyPair>),
    Command {
        program: String,
        args: Vec<String>,
        timeout: Duration,
    },
}

impl Signer {
    pub fn from_config(config: &SignerConfig) -> Result<Signer, SignerError> {
        match config {
            SignerConfig::RsaKeyFile { key_file } => {
                let pem = std::fs::read_to_string(Path::new(key_file)).map_err(|e| {
                    SignerError::KeyFile {
                        path: key_file.clone(),
                        reason: e.to_string(),
                    }
                })?;
                Self::rsa_from_pem(&pem)
            }
            SignerConfig::RsaKeyPem { key_pem } => Self::rsa_from_pem(key_pem.expose()),
            SignerConfig::Command {
                program,
                args,
                timeout_ms,
            } => Ok(Signer::Command {
                program: program.clone(),
                args: args.clone(),
                timeout: Duration::from_millis(*timeout_ms),
            }),
        }
    }

    pub fn rsa_from_pem(pem: &str) -> Result<Signer, SignerError> {
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .map(str::trim)
            .collect();
        let der = STANDARD
            .decode(body)
            .map_err(|e| SignerError::KeyFormat(e.to_string()))?;
        let pair =
            RsaKeyPair::from_pkcs8(&der).map_err(|e| SignerError::KeyFormat(e.to_string()))?;
        Ok(Signer::Rsa(Arc::new(pair)))
    }

    /// DER `RSAPublicKey` of a built-in RSA key (to recognise the demo key).
    pub fn public_key_der(&self) -> Option<Vec<u8>> {
        match self {
            Signer::Rsa(pair) => Some(pair.public().as_ref().to_vec()),
            Signer::Command { .. } => None,
        }
    }

    /// Signs `message` and returns the signature in base64url without padding.
    pub async fn sign(&self, message: &str) -> Result<String, SignerError> {
        match self {
            Signer::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public().modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message.as_bytes(),
                    &mut signature,
                )
                .map_err(|_| SignerError::Rsa)?;
                Ok(URL_SAFE_NO_PAD.encode(signature))
            }
            Signer::Command {
                program,
                args,
                timeout,
            } => run_command(program, args, *timeout, message).await,
        }
    }
}

async fn run_command(
    program: &str,
    args: &[String],
    timeout: Duration,
    message: &str,
) -> Result<String, SignerError> {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| SignerError::Spawn {
            program: program.to_string(),
            reason: e.to_string(),
        })?;
    let mut stdin = child.stdin.take();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let work = async {
        if let Some(mut input) = stdin.take() {
            // A signer that exits without reading is reported by its status below.
            let _ = input.write_all(message.as_bytes()).await;
            drop(input);
        }
        let mut out = String::new();
        let mut err = String::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_string(&mut out).await;
        }
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_string(&mut err).await;
        }
        let status = child.wait().await;
        (status, out, err)
    };
    let (status, out, err) =
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| SignerError::Timeout {
                program: program.to_string(),
                timeout_ms: timeout.as_millis() as u64,
            })?;
    let status = status.map_err(|e| SignerError::Spawn {
        program: program.to_string(),
        reason: e.to_string(),
    })?;
    if !status.success() {
        return Err(SignerError::Failed {
            program: program.to_string(),
            status: status.to_string(),
            stderr: err.trim().chars().take(300).collect(),
        });
    }
    let signature = out.trim().trim_end_matches('=');
    let valid = !signature.is_empty()
        && signature
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(SignerError::BadOutput {
            program: program.to_string(),
        });
    }
    Ok(signature.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO_KEY: &str = include_str!("../../../mock-idp/demo/client-key.pem");

    #[tokio::test]
    async fn rsa_signatures_verify_with_the_public_key() {
        let signer = Signer::rsa_from_pem(DEMO_KEY).expect("demo key parses");
        let signature = signer.sign("client+scope").await.expect("signs");
        let Signer::Rsa(pair) = &signer else {
            panic!("rsa signer expected")
        };
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            pair.public().as_ref(),
        );
        let raw = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
        assert!(public.verify(b"client+scope", &raw).is_ok());
        assert!(public.verify(b"client+scopf", &raw).is_err());
    }

    #[tokio::test]
    async fn command_signer_reads_stdout_and_reports_failures() {
        let ok = Signer::Command {
            program: "sh".into(),
            args: vec!["-c".into(), "cat >/dev/null; echo c2lnbmF0dXJl".into()],
            timeout: Duration::from_secs(5),
        };
        assert_eq!(ok.sign("data").await.expect("signs"), "c2lnbmF0dXJl");

        let failing = Signer::Command {
            program: "sh".into(),
            args: vec!["-c".into(), "echo 'no key container' >&2; exit 3".into()],
            timeout: Duration::from_secs(5),
        };
        let err = failing.sign("data").await.expect_err("fails");
        assert!(err.to_string().contains("no key container"), "{err}");

        let slow = Signer::Command {
            program: "sh".into(),
            args: vec!["-c".into(), "sleep 5".into()],
            timeout: Duration::from_millis(200),
        };
        assert!(matches!(
            slow.sign("data").await,
            Err(SignerError::Timeout { .. })
        ));

        let missing = Signer::Command {
            program: "/nonexistent/gost-sign".into(),
            args: vec![],
            timeout: Duration::from_secs(1),
        };
        assert!(matches!(
            missing.sign("data").await,
            Err(SignerError::Spawn { .. })
        ));

        let garbage = Signer::Command {
            program: "sh".into(),
            args: vec!["-c".into(), "echo 'not base64!'".into()],
            timeout: Duration::from_secs(5),
        };
        assert!(matches!(
            garbage.sign("data").await,
            Err(SignerError::BadOutput { .. })
        ));
    }
}
