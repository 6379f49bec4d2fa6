//! Wire types shared by esia-link, its mock IdP and the tests: what ESIA's
//! REST API and token endpoint send, and the ESIA error codes.
//!
//! Field names follow ESIA's JSON (camelCase). Unknown fields are ignored on
//! input so that a richer real response still parses.

use serde::{Deserialize, Serialize};

pub mod gost;

/// `GET /rs/prns/{oid}`: a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EsiaPerson {
    /// ESIA sends the OID as a JSON number; a string is accepted too.
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub oid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// `DD.MM.YYYY`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// `000-000-600 06`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snils: Option<String>,
    /// Identity confirmed (the "verified" tier).
    #[serde(default)]
    pub trusted: bool,
    #[serde(default)]
    pub verifying: bool,
    /// `REGISTERED` or `DELETED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<i64>,
    /// Id of the current identity document among `documents` (its `id`).
    #[serde(rename = "rIdDoc", default, skip_serializing_if = "Option::is_none")]
    pub r_id_doc: Option<i64>,
    /// Present when asked for with `?embed=(contacts.elements)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Collection<EsiaContact>>,
    /// Present when asked for with `?embed=(documents.elements)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<Collection<EsiaDocument>>,
    /// Present when asked for with `?embed=(kids.elements)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kids: Option<Collection<EsiaKid>>,
}

/// Accepts `"1000299353"` or `1000299353`.
fn string_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!(
            "oid must be a string or a number, not {other}"
        ))),
    }
}

/// ESIA's collection shape: `{size, elements: [...]}`. Without `embed`
/// the elements are resource URLs; with it, the objects themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection<T> {
    pub size: usize,
    #[serde(default = "Vec::new")]
    pub elements: Vec<Element<T>>,
}

impl<T> Collection<T> {
    pub fn embedded(items: Vec<T>) -> Self {
        Collection {
            size: items.len(),
            elements: items.into_iter().map(Element::Embedded).collect(),
        }
    }

    /// The embedded objects; links (not embedded elements) are skipped.
    pub fn items(&self) -> impl Iterator<Item = &T> {
        self.elements.iter().filter_map(|e| match e {
            Element::Embedded(item) => Some(item),
            Element::Link(_) => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Element<T> {
    Link(String),
    Embedded(T),
}

/// Contact: `type` is `EML` (e-mail) or `MBT` (mobile); `vrfStu` is
/// `VERIFIED` or `NOT_VERIFIED`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EsiaContact {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrf_stu: Option<String>,
}

/// A document of the person: `type` `RF_PASSPORT`, `FID_DOC` (identity
/// documents), `MDCL_PLCY`, `RF_DRIVING_LICENSE`, ... `vrfStu` `VERIFIED`
/// means the state registries checked it; only the current identity document
/// (`rIdDoc`) decides the "standard" tier. Every field but the id may be
/// absent: one odd document must not fail the whole person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EsiaDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrf_stu: Option<String>,
    /// `VERIFYING` while a check is under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrf_val_stu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// A child of the person (`kid_*` scopes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EsiaKid {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// `DD.MM.YYYY`
    pub birth_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snils: Option<String>,
}

/// `POST /aas/oauth2/v3/te` success body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EsiaTokenResponse {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub token_type: String,
    pub expires_in: i64,
}

/// Error body of the token endpoint (HTTP 400) and of the REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EsiaErrorResponse {
    pub error: String,
    /// `ESIA-007011: ...`
    pub error_description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl EsiaErrorResponse {
    /// The `ESIA-NNNNNN` code at the start of the description, if any.
    pub fn esia_code(&self) -> Option<EsiaCode> {
        EsiaCode::from_description(&self.error_description)
    }
}

/// Error body of ESIA's REST API (`/rs/prns/...`), e.g. HTTP 401
/// `{"code":"ESIA-005013","message":"SecurityErrorEnum.expiredToken"}`: not
/// the `{error, error_description}` of the token endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EsiaRestError {
    /// `ESIA-005013`
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl EsiaRestError {
    /// The code, when it is one of [`EsiaCode`] (unknown numbers stay in `code`).
    pub fn esia_code(&self) -> Option<EsiaCode> {
        EsiaCode::from_description(&self.code)
    }
}

/// ESIA error codes that the relying party maps to user messages and the mock
/// produces. The number is the part after `ESIA-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EsiaCode {
    /// Unknown client (client_id not registered).
    E007002,
    /// A parameter is malformed or repeated (bad state, bad timestamp format).
    E007003,
    /// The user pressed «Отказать» (access denied).
    E007004,
    /// The client may not use this response type / grant.
    E007005,
    /// Scope unknown or not allowed for this client.
    E007006,
    /// Unexpected server error.
    E007007,
    /// Temporarily overloaded.
    E007008,
    /// Invalid, expired or already used authorization code.
    E007011,
    /// A mandatory parameter is missing.
    E007014,
    /// Request time outside the allowed window.
    E007015,
    /// redirect_uri is not registered for this client.
    E007023,
    /// client_secret signature is wrong.
    E007053,
    /// Login with an unverified account is not allowed for this client.
    E007055,
    /// The access token expired (REST API).
    E005013,
}

impl EsiaCode {
    pub const ALL: [EsiaCode; 14] = [
        EsiaCode::E007002,
        EsiaCode::E007003,
        EsiaCode::E007004,
        EsiaCode::E007005,
        EsiaCode::E007006,
        EsiaCode::E007007,
        EsiaCode::E007008,
        EsiaCode::E007011,
        EsiaCode::E007014,
        EsiaCode::E007015,
        EsiaCode::E007023,
        EsiaCode::E007053,
        EsiaCode::E007055,
        EsiaCode::E005013,
    ];

    /// `ESIA-007011`
    pub fn as_str(self) -> &'static str {
        match self {
            EsiaCode::E007002 => "ESIA-007002",
            EsiaCode::E007003 => "ESIA-007003",
            EsiaCode::E007004 => "ESIA-007004",
            EsiaCode::E007005 => "ESIA-007005",
            EsiaCode::E007006 => "ESIA-007006",
            EsiaCode::E007007 => "ESIA-007007",
            EsiaCode::E007008 => "ESIA-007008",
            EsiaCode::E007011 => "ESIA-007011",
            EsiaCode::E007014 => "ESIA-007014",
            EsiaCode::E007015 => "ESIA-007015",
            EsiaCode::E007023 => "ESIA-007023",
            EsiaCode::E007053 => "ESIA-007053",
            EsiaCode::E007055 => "ESIA-007055",
            EsiaCode::E005013 => "ESIA-005013",
        }
    }

    /// The OAuth2 `error` value ESIA sends with this code.
    pub fn oauth_error(self) -> &'static str {
        match self {
            EsiaCode::E007002 | EsiaCode::E007005 => "unauthorized_client",
            EsiaCode::E007003 | EsiaCode::E007014 | EsiaCode::E007015 | EsiaCode::E007023 => {
                "invalid_request"
            }
            EsiaCode::E007004 | EsiaCode::E007055 => "access_denied",
            EsiaCode::E007006 => "invalid_scope",
            EsiaCode::E007007 => "server_error",
            EsiaCode::E007008 => "temporarily_unavailable",
            EsiaCode::E007011 => "invalid_grant",
            EsiaCode::E007053 => "invalid_client",
            EsiaCode::E005013 => "invalid_token",
        }
    }

    /// ESIA's own (Russian) wording, as it appears after the code.
    pub fn esia_text(self) -> &'static str {
        match self {
            EsiaCode::E007002 => "Система-клиент не зарегистрирована",
            EsiaCode::E007003 => "Запрос содержит неверное значение параметра",
            EsiaCode::E007004 => "Владелец ресурса отклонил запрос",
            EsiaCode::E007005 => {
                "Система-клиент не имеет права запрашивать маркер доступа таким методом"
            }
            EsiaCode::E007006 => "Запрошенная область доступа указана неверно",
            EsiaCode::E007007 => "Непредвиденная ошибка сервера авторизации",
            EsiaCode::E007008 => "Сервер авторизации перегружен",
            EsiaCode::E007011 => {
                "Авторизационный код недействителен, просрочен или уже использован"
            }
            EsiaCode::E007014 => "Запрос не содержит обязательного параметра",
            EsiaCode::E007015 => "Неверное время запроса",
            EsiaCode::E007023 => "Указанный адрес возврата (redirect_uri) не разрешён",
            EsiaCode::E007053 => "Неверная подпись запроса (client_secret)",
            EsiaCode::E007055 => "Вход с неподтверждённой учётной записью запрещён",
            EsiaCode::E005013 => "Срок действия маркера доступа истёк",
        }
    }

    /// `ESIA-007011: <text>`, the `error_description` ESIA sends.
    pub fn description(self) -> String {
        format!("{}: {}", self.as_str(), self.esia_text())
    }

    /// Finds `ESIA-NNNNNN` at the start of an `error_description`.
    pub fn from_description(description: &str) -> Option<EsiaCode> {
        let head = description.trim_start().get(..11)?;
        EsiaCode::ALL
            .into_iter()
            .find(|code| code.as_str().eq_ignore_ascii_case(head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_descriptions() {
        for code in EsiaCode::ALL {
            assert_eq!(EsiaCode::from_description(&code.description()), Some(code));
        }
        assert_eq!(EsiaCode::from_description("something else"), None);
    }

    #[test]
    fn collection_parses_links_and_embedded_objects() {
        let json = r#"{"size":2,"elements":["https://x/rs/prns/1/ctts/5",
            {"type":"EML","value":"a@b.c","vrfStu":"VERIFIED"}]}"#;
        let parsed: Collection<EsiaContact> = serde_json::from_str(json).expect("valid collection");
        assert_eq!(parsed.size, 2);
        let items: Vec<_> = parsed.items().collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].value, "a@b.c");
    }
}
