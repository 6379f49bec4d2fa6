//! One-time activation codes (the diary world's "temporary password") and
//! the short reference codes shown on error pages. Both use Crockford's
//! base32, which has no I, L, O or U, and read back whatever case or
//! separators a person types.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 12;
const REFERENCE_LEN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("the code must have {expected} characters, found {found}")]
    Length { expected: usize, found: usize },
    #[error("the code cannot contain {character:?}")]
    Character { character: char },
}

/// Random Crockford characters from the thread's CSPRNG (ChaCha12, seeded
/// and reseeded from the operating system), as session tokens are made.
fn random_chars(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut bytes);
    // 256 is a multiple of 32, so `% 32` is unbiased.
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % 32] as char)
        .collect()
}

/// Cyrillic letters that look like Latin ones on a printed sheet: a code
/// typed on a Russian keyboard layout still reads right.
fn cyrillic_lookalike(c: char) -> char {
    match c {
        'А' | 'а' => 'A',
        'В' | 'в' => 'B',
        'С' | 'с' => 'C',
        'Е' | 'е' => 'E',
        'Н' | 'н' => 'H',
        'К' | 'к' => 'K',
        'М' | 'м' => 'M',
        'О' | 'о' => 'O',
        'Р' | 'р' => 'P',
        'Т' | 'т' => 'T',
        'Х' | 'х' => 'X',
        'У' | 'у' => 'Y',
        'З' | 'з' => '3',
        other => other,
    }
}

/// Reads what a person typed: any case, any grouping (spaces, hyphens,
/// underscores, dots ignored), O→0 and I/L→1 as Crockford prescribes, and
/// Cyrillic look-alike letters as the Latin ones.
fn canonical(input: &str, expected: usize) -> Result<String, CodeError> {
    let mut out = String::with_capacity(expected);
    for c in input.chars() {
        let upper = cyrillic_lookalike(c).to_ascii_uppercase();
        let mapped = match upper {
            ' ' | '-' | '_' | '.' | '\u{a0}' | '\u{2010}'..='\u{2015}' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            other if other.is_ascii() && ALPHABET.contains(&(other as u8)) => other,
            _ => return Err(CodeError::Character { character: c }),
        };
        out.push(mapped);
    }
    if out.len() != expected {
        return Err(CodeError::Length {
            expected,
            found: out.len(),
        });
    }
    Ok(out)
}

/// A one-time activation code: 60 random bits, shown as `XXXX-XXXX-XXXX`.
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationCode(String);

impl ActivationCode {
    pub fn generate() -> ActivationCode {
        ActivationCode(random_chars(CODE_LEN))
    }

    pub fn parse(input: &str) -> Result<ActivationCode, CodeError> {
        canonical(input, CODE_LEN).map(ActivationCode)
    }
}

impl fmt::Display for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", &self.0[0..4], &self.0[4..8], &self.0[8..12])
    }
}

/// Redacted: a code is a credential.
impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode(****)")
    }
}

/// Hashes activation codes for storage: HMAC-SHA256 under a server key, so
/// a leaked table cannot be brute-forced without the key.
#[derive(Clone)]
pub struct CodeHasher {
    /// Keyed once: issuing a school's codes hashes hundreds of thousands,
    /// and each clone skips hashing the padded key again.
    mac: Option<Hmac<Sha256>>,
}

impl CodeHasher {
    pub fn new(key: &[u8]) -> CodeHasher {
        CodeHasher {
            // HMAC takes keys of any length.
            mac: <Hmac<Sha256> as Mac>::new_from_slice(key).ok(),
        }
    }

    pub fn hash(&self, code: &ActivationCode) -> String {
        self.hash_parts(&[code.0.as_bytes()])
    }

    /// The hex HMAC of the parts written one after another (the same key
    /// serves the lookup hashes of subjects and SNILS).
    pub fn hash_parts(&self, parts: &[&[u8]]) -> String {
        let Some(mut mac) = self.mac.clone() else {
            return String::new();
        };
        for part in parts {
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

/// A short code on every failure page, e.g. `7KQ2-M9XD`, that support can
/// look up; 40 random bits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReferenceCode(String);

impl ReferenceCode {
    pub fn generate() -> ReferenceCode {
        let raw = random_chars(REFERENCE_LEN);
        ReferenceCode(format!("{}-{}", &raw[..4], &raw[4..]))
    }

    pub fn parse(input: &str) -> Option<ReferenceCode> {
        let raw = canonical(input, REFERENCE_LEN).ok()?;
        Some(ReferenceCode(format!("{}-{}", &raw[..4], &raw[4..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReferenceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ReferenceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReferenceCode({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn typed_codes_table() {
        let code = ActivationCode::parse("7KQ2-M9XD-ABCD").expect("valid");
        let same = [
            "7kq2m9xdabcd",
            "7KQ2 M9XD ABCD",
            " 7kq2_m9xd-abcd ",
            "7KQ2-M9XD-ABCD",
            // Cyrillic К, М, Х, А, В, С typed for the Latin letters.
            "7КQ2-М9ХD-АВСD",
            "7kq 2m9 xda bcd",
            "7KQ2–M9XD–ABCD",
        ];
        for typed in same {
            assert_eq!(ActivationCode::parse(typed).as_ref(), Ok(&code), "{typed}");
        }
        assert_eq!(
            ActivationCode::parse("0O1IL0000000").map(|c| c.to_string()),
            Ok("0011-1000-0000".to_string())
        );
        let bad = [
            (
                "7KQ2-M9XD-ABC",
                CodeError::Length {
                    expected: 12,
                    found: 11,
                },
            ),
            (
                "7KQ2-M9XD-ABCDE",
                CodeError::Length {
                    expected: 12,
                    found: 13,
                },
            ),
            ("7KQ2-M9XD-ABCU", CodeError::Character { character: 'U' }),
            ("7KQ2-M9XD-ABC!", CodeError::Character { character: '!' }),
            ("7KQ2-M9XD-ABCЖ", CodeError::Character { character: 'Ж' }),
        ];
        for (typed, error) in bad {
            assert_eq!(ActivationCode::parse(typed), Err(error), "{typed}");
        }
        assert_eq!(format!("{code:?}"), "ActivationCode(****)");
    }

    #[test]
    fn hashes_depend_on_the_code_and_the_key_only() {
        let hasher = CodeHasher::new(b"server key one");
        let a = ActivationCode::parse("7KQ2-M9XD-ABCD").expect("valid");
        let typed = ActivationCode::parse("7kq2 m9xd abcd").expect("valid");
        assert_eq!(hasher.hash(&a), hasher.hash(&typed));
        assert_eq!(hasher.hash(&a).len(), 64);
        assert_ne!(hasher.hash(&a), CodeHasher::new(b"server key two").hash(&a));
        assert_ne!(hasher.hash(&a), hasher.hash(&ActivationCode::generate()));
    }

    /// Stored lookup hashes stay the HMAC-SHA-256 of the parts joined:
    /// RFC 4231, test case 2, with the data given in three parts.
    #[test]
    fn hashed_parts_are_the_hmac_of_their_concatenation() {
        let hasher = CodeHasher::new(b"Jefe");
        let parts: [&[u8]; 3] = [b"what do ya", b" want ", b"for nothing?"];
        assert_eq!(
            hasher.hash_parts(&parts),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hasher.hash_parts(&parts),
            hasher.hash_parts(&[b"what do ya want for nothing?"])
        );
    }

    #[test]
    fn generated_codes_have_the_shape_and_differ() {
        let codes: std::collections::HashSet<String> = (0..1000)
            .map(|_| ActivationCode::generate().to_string())
            .collect();
        assert_eq!(codes.len(), 1000);
        let reference = ReferenceCode::generate();
        assert_eq!(reference.as_str().len(), 9);
        assert_eq!(
            ReferenceCode::parse(&reference.as_str().to_lowercase()),
            Some(reference)
        );
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(seed in any::<u64>()) {
            let raw: String = (0..12).map(|i| ALPHABET[((seed >> (i * 5)) & 31) as usize] as char).collect();
            let code = ActivationCode::parse(&raw).expect("alphabet only");
            prop_assert_eq!(ActivationCode::parse(&code.to_string()).expect("reparses"), code);
        }
    }
}
