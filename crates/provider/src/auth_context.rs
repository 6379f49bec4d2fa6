//! How the person signed in, as `acr` and `amr` values, so that a diary
//! app can require a State Services login of a given tier for sensitive
//! actions. The sign-in itself happens elsewhere in esia-link; the caller
//! says which way it was, and these types name it on the wire.

use serde::{Deserialize, Serialize};

/// `acr`: the way and strength of the sign-in. The State Services tiers are
/// separate values because apps decide by them (a 14+ pupil's simplified
/// account is not enough for some actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Acr {
    /// Diary login and password (or a just-activated school account).
    #[serde(rename = "urn:esia-link:acr:password")]
    Password,
    #[serde(rename = "urn:esia-link:acr:esia:simplified")]
    EsiaSimplified,
    #[serde(rename = "urn:esia-link:acr:esia:standard")]
    EsiaStandard,
    #[serde(rename = "urn:esia-link:acr:esia:verified")]
    EsiaVerified,
}

impl Acr {
    pub const ALL: [Acr; 4] = [
        Acr::Password,
        Acr::EsiaSimplified,
        Acr::EsiaStandard,
        Acr::EsiaVerified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Acr::Password => "urn:esia-link:acr:password",
            Acr::EsiaSimplified => "urn:esia-link:acr:esia:simplified",
            Acr::EsiaStandard => "urn:esia-link:acr:esia:standard",
            Acr::EsiaVerified => "urn:esia-link:acr:esia:verified",
        }
    }

    pub fn parse(text: &str) -> Option<Acr> {
        Acr::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// `amr` values of RFC 8176 that esia-link's sign-in ways produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Amr {
    /// Password (diary password).
    Pwd,
    /// One-time password (the school's activation code).
    Otp,
    /// Federated: State Services vouched for the person.
    Fed,
    /// Several factors (State Services reported a second factor).
    Mfa,
    /// Confirmation by SMS.
    Sms,
    /// Hardware-protected key (an e-signature token).
    Hwk,
    /// Software-protected key.
    Swk,
}

impl Amr {
    pub fn as_str(self) -> &'static str {
        match self {
            Amr::Pwd => "pwd",
            Amr::Otp => "otp",
            Amr::Fed => "fed",
            Amr::Mfa => "mfa",
            Amr::Sms => "sms",
            Amr::Hwk => "hwk",
            Amr::Swk => "swk",
        }
    }
}

/// What the caller knows about the sign-in behind a grant: copied into
/// the code, the refresh family and every token minted from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    /// esia-link's own account identifier (never a SNILS).
    pub account_id: String,
    /// esia-link's browser-session identifier, published as `sid`.
    pub session_id: String,
    pub auth_time: chrono::DateTime<chrono::Utc>,
    pub acr: Acr,
    pub amr: Vec<Amr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        for acr in Acr::ALL {
            let json = serde_json::to_value(acr).unwrap();
            assert_eq!(json, acr.as_str());
            assert_eq!(Acr::parse(acr.as_str()), Some(acr));
        }
        assert_eq!(
            serde_json::to_value([Amr::Fed, Amr::Mfa]).unwrap(),
            serde_json::json!(["fed", "mfa"])
        );
        assert_eq!(Acr::parse("urn:esia-link:acr:esia"), None);
    }
}
