//! PEM certificate bundles read as leniently as RFC 7468 allows (§3, the
//! "lax" grammar): any line width (64 is what the RFC's generators write,
//! 76 is what MIME tools and many Windows and Java exports write), CRLF or
//! LF, blank lines and whitespace anywhere in the Base64 text or around the
//! boundaries, explanatory text before, between and after the blocks
//! (`openssl x509 -text`, "Bag Attributes" of a PKCS#12 export), and the
//! legacy labels `X509 CERTIFICATE` and `X.509 CERTIFICATE` (§5.3). Blocks
//! with other labels (a key someone left in the file) are skipped.
//!
//! Not accepted, because RFC 7468 does not: RFC 1421 headers inside a block
//! (`Proc-Type:`), a BEGIN without its END or with another label's END, or
//! Base64 that does not decode.

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

const CERTIFICATE_LABELS: [&str; 3] = ["CERTIFICATE", "X509 CERTIFICATE", "X.509 CERTIFICATE"];

/// Standard Base64 with or without its `=` padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The DER of every certificate block in `text`, in order.
pub fn certificate_ders(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut ders = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after_begin = &rest[begin + "-----BEGIN ".len()..];
        let (label, body) = after_begin
            .split_once("-----")
            .ok_or("a BEGIN line is not closed by -----")?;
        let end_marker = format!("-----END {label}-----");
        let (encoded, after_end) = body
            .split_once(end_marker.as_str())
            .ok_or_else(|| format!("no {end_marker:?} after \"-----BEGIN {label}-----\""))?;
        rest = after_end;
        let label = label.trim();
        if !CERTIFICATE_LABELS.contains(&label) {
            continue;
        }
        if encoded.contains(':') {
            return Err(
                "a certificate block carries RFC 1421 headers (not allowed by RFC 7468)".into(),
            );
        }
        let base64: String = encoded
            .chars()
            .filter(|c| !c.is_ascii_whitespace() && *c != '\u{0b}')
            .collect();
        let der = BASE64
            .decode(base64.as_bytes())
            .map_err(|e| format!("certificate {}: invalid Base64: {e}", ders.len() + 1))?;
        if der.is_empty() {
            return Err(format!("certificate {} is empty", ders.len() + 1));
        }
        ders.push(der);
    }
    Ok(ders)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `der` as PEM with `width`-column lines, `eol` line ends and `pad`
    /// around the boundaries.
    fn armour(der: &[u8], width: usize, eol: &str, label: &str) -> String {
        let text = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = text
            .as_bytes()
            .chunks(width)
            .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN {label}-----{eol}{}{eol}-----END {label}-----{eol}",
            lines.join(eol)
        )
    }

    #[test]
    fn any_line_width_and_whitespace_rfc_7468_allows_load() {
        let der: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let cases = [
            armour(&der, 64, "\n", "CERTIFICATE"),
            armour(&der, 76, "\n", "CERTIFICATE"),
            armour(&der, 76, "\r\n", "CERTIFICATE"),
            armour(&der, 1000, "\n", "CERTIFICATE"),
            armour(&der, 3, "\n", "CERTIFICATE"),
            armour(&der, 64, "\n", "X509 CERTIFICATE"),
            armour(&der, 64, "\n", "X.509 CERTIFICATE"),
            format!(
                "\u{feff}\n\n  {}  \n\n",
                armour(&der, 64, "\n", "CERTIFICATE")
            ),
            format!(
                "subject=CN=ESIA\nissuer=CN=CA\n{}\ntrailing text\n",
                armour(&der, 76, "\r\n", "CERTIFICATE")
            ),
            armour(&der, 64, "\n \t", "CERTIFICATE"),
            armour(&der, 64, "\n", "CERTIFICATE").replace('=', ""),
        ];
        for pem in cases {
            assert_eq!(certificate_ders(&pem), Ok(vec![der.clone()]), "{pem:?}");
        }
        let bundle = format!(
            "{}{}{}",
            armour(&der, 64, "\n", "CERTIFICATE"),
            armour(b"key", 64, "\n", "PRIVATE KEY"),
            armour(&der[..300], 76, "\r\n", "CERTIFICATE")
        );
        assert_eq!(
            certificate_ders(&bundle),
            Ok(vec![der.clone(), der[..300].to_vec()]),
            "other labels are skipped"
        );
        assert_eq!(certificate_ders("no PEM here"), Ok(vec![]));
    }

    #[test]
    fn what_rfc_7468_does_not_allow_is_refused() {
        let der: Vec<u8> = (0..=255u8).take(90).collect();
        let good = armour(&der, 64, "\n", "CERTIFICATE");
        let cases = [
            (
                good.replace("-----END CERTIFICATE-----", ""),
                "no \"-----END",
            ),
            (
                good.replace("END CERTIFICATE", "END PRIVATE KEY"),
                "no \"-----END",
            ),
            (good.replacen("\nAAEC", "\n*AEC", 1), "invalid Base64"),
            (
                good.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n"),
                "RFC 1421",
            ),
            (
                "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".into(),
                "empty",
            ),
            ("-----BEGIN CERTIFICATE".into(), "not closed"),
        ];
        for (pem, expected) in cases {
            let error = certificate_ders(&pem).expect_err(&pem);
            assert!(error.contains(expected), "{pem:?}: {error}");
        }
    }
}
