//! What to do about a recorded login attempt, in plain words for support
//! staff: which side fixes what. Pure: the outcome and the attempt's masked
//! details in, a remedy out (both languages), so every outcome's remedy is
//! table-tested.

use serde::Serialize;
use serde_json::Value;

use crate::prelude::*;
use domain::link::OutcomeCode;
use domain::name::{NamePart, PartVerdict};
use domain::tier::Tier;
use i18n::Lang;

/// Who has to act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Nothing to fix.
    Nobody,
    /// The person, in their State Services profile.
    Person,
    /// The school, in the diary's data.
    School,
    /// Support (operators): an action here, e.g. unlink.
    Support,
    /// Whoever runs the integration (configuration, certificates, clock).
    Integration,
}

impl Side {
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Side::Nobody => lang.pick("никто", "nobody"),
            Side::Person => lang.pick(
                "человек, в профиле Госуслуг",
                "the person, in the State Services profile",
            ),
            Side::School => lang.pick(
                "школа, в данных дневника",
                "the school, in the diary's data",
            ),
            Side::Support => lang.pick("служба поддержки", "support"),
            Side::Integration => {
                lang.pick("те, кто ведёт интеграцию", "whoever runs the integration")
            }
        }
    }
}

/// A name part as the object of a sentence ("correct the surname").
fn part_object(part: NamePart, lang: Lang) -> &'static str {
    match part {
        NamePart::Surname => lang.pick("фамилию", "surname"),
        NamePart::Given => lang.pick("имя", "given name"),
        NamePart::Patronymic => lang.pick("отчество", "patronymic"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remedy {
    pub side: Side,
    /// One line per thing to do.
    pub steps: Vec<String>,
}

/// What [`remedy`] reads besides the outcome.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// The attempt's masked details (`parts`, tiers, `tier_known`, ...).
    pub details: Option<&'a Value>,
    /// The machine code of an IdP or flow failure.
    pub error_code: Option<&'a str>,
    pub region: Option<i64>,
    /// Masked subject of the identity the account is already linked to
    /// (for `linked_elsewhere`).
    pub linked_subject: Option<&'a str>,
}

pub fn remedy(outcome: OutcomeCode, facts: &Facts<'_>, lang: Lang) -> Remedy {
    let t = |ru: &str, en: &str| lang.pick(ru, en).to_string();
    let detail = |key: &str| facts.details.and_then(|d| d.get(key));
    let tier = |key: &str| detail(key).and_then(Value::as_str).and_then(Tier::parse);
    match outcome {
        OutcomeCode::LoggedIn | OutcomeCode::Linked => Remedy {
            side: Side::Nobody,
            steps: vec![t("Вход выполнен, действий не нужно.", "Logged in; nothing to do.")],
        },
        OutcomeCode::SnilsMissing => Remedy {
            side: Side::Person,
            steps: vec![
                t(
                    "Человек должен добавить СНИЛС в профиль на Госуслугах и дождаться его проверки.",
                    "The person must add the SNILS to the State Services profile and wait for it to be checked.",
                ),
                t(
                    "Пока СНИЛС не добавлен — связать по логину и паролю дневника (или коду активации).",
                    "Until then: link with the diary login and password (or an activation code).",
                ),
            ],
        },
        OutcomeCode::NoAccount => Remedy {
            side: Side::School,
            steps: vec![t(
                "Школа должна внести СНИЛС человека в дневник (или исправить ошибку в нём): учётной записи с этим СНИЛС нет.",
                "The school must record the person's SNILS in the diary (or correct it): no account has this SNILS.",
            )],
        },
        OutcomeCode::NameMismatch => {
            let verified = tier("actual_tier").is_some_and(|t| t >= Tier::Standard);
            let mut steps = Vec::new();
            for part in detail("parts").and_then(Value::as_array).into_iter().flatten() {
                let name_part: Option<NamePart> =
                    serde_json::from_value(part.get("part").cloned().unwrap_or_default()).ok();
                let verdict: Option<PartVerdict> =
                    serde_json::from_value(part.get("comparison").cloned().unwrap_or_default()).ok();
                let (Some(name_part), Some(verdict)) = (name_part, verdict) else {
                    continue;
                };
                if verdict.is_match() {
                    continue;
                }
                let label = part_object(name_part, lang);
                steps.push(match (verified, verdict) {
                    (_, PartVerdict::MissingRight) => format!(
                        "{} {label} {}",
                        t("Школа должна внести", "The school must add the"),
                        t("в дневник (на Госуслугах оно есть).", "to the diary (State Services has it).")
                    ),
                    (_, PartVerdict::MissingLeft) => format!(
                        "{} {label} {}",
                        t("Человек должен указать", "The person must enter the"),
                        t(
                            "в профиле Госуслуг, либо школа убирает его из дневника, если его нет в документах.",
                            "in the State Services profile, or the school removes it from the diary if the documents have none.",
                        )
                    ),
                    (true, _) => format!(
                        "{} {label} {}",
                        t("Школа должна исправить", "The school must correct the"),
                        t(
                            "в дневнике: данные Госуслуг проверены по госреестрам.",
                            "in the diary: the State Services data is registry-checked.",
                        )
                    ),
                    (false, _) => format!(
                        "{} {label}: {}",
                        t("Сверьте", "Check the"),
                        t(
                            "если ошибка в профиле Госуслуг — исправляет человек, если в дневнике — школа.",
                            "if the State Services profile is wrong the person corrects it; if the diary is wrong the school does.",
                        )
                    ),
                });
            }
            if steps.is_empty() {
                steps.push(t(
                    "ФИО не совпало; сравните части ФИО в карточке попытки.",
                    "The full name did not match; compare the name parts of the attempt.",
                ));
            }
            Remedy {
                side: if verified { Side::School } else { Side::Person },
                steps,
            }
        }
        OutcomeCode::Ambiguous => {
            let count = detail("ambiguous_count").and_then(Value::as_u64).unwrap_or(2);
            Remedy {
                side: Side::School,
                steps: vec![format!(
                    "{count} {}",
                    t(
                        "учётные записи дневника с одним СНИЛС: школа должна исправить СНИЛС в лишних записях.",
                        "diary accounts share this SNILS: the school must correct the SNILS on the wrong records.",
                    )
                )],
            }
        }
        OutcomeCode::LinkedElsewhere => Remedy {
            side: Side::Support,
            steps: vec![
                match facts.linked_subject {
                    Some(subject) => format!(
                        "{} {subject}.",
                        t(
                            "У человека две учётные записи Госуслуг; дневник связан с OID",
                            "The person has two State Services accounts; the diary is linked to OID",
                        )
                    ),
                    None => t(
                        "У человека две учётные записи Госуслуг; дневник связан с другой.",
                        "The person has two State Services accounts; the diary is linked to the other one.",
                    ),
                },
                t(
                    "Пусть войдёт через прежнюю; если её больше нет — отвяжите связь с указанием причины.",
                    "Ask them to log in with the earlier one; if it is gone, unlink it with a reason.",
                ),
            ],
        },
        OutcomeCode::TierTooLow => {
            let required = tier("required_tier").unwrap_or(Tier::Standard);
            let actual = tier("actual_tier").unwrap_or(Tier::Simplified);
            let known = detail("tier_known").and_then(Value::as_bool).unwrap_or(true);
            let mut steps = vec![format!(
                "{} «{}» ({} «{}»): {}",
                t("Нужен уровень", "Needed tier"),
                required.label(lang),
                t("сейчас", "now"),
                actual.label(lang),
                t(
                    "учётную запись нужно подтвердить (центр обслуживания, электронная подпись) или проверить паспорт и СНИЛС в профиле.",
                    "the account must be confirmed (service centre, e-signature) or the passport and SNILS checked in the profile.",
                )
            )];
            if !known {
                steps.push(t(
                    "Уровень не известен точно: Госуслуги не передали данные документа (нет разрешения id_doc) — проверьте настройку scope.",
                    "The tier is inferred: State Services sent no document data (id_doc scope not granted) — check the provider's scopes.",
                ));
            }
            Remedy {
                side: if known { Side::Person } else { Side::Integration },
                steps,
            }
        }
        OutcomeCode::RegionDisabled => Remedy {
            side: Side::Integration,
            steps: vec![format!(
                "{} {}: {}",
                t("Вход через Госуслуги не включён для региона", "State Services login is not enabled for region"),
                facts.region.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
                t(
                    "человек входит логином и паролем дневника; включение — в настройке regions.",
                    "the person logs in with the diary login and password; enabling it is the regions setting.",
                )
            )],
        },
        OutcomeCode::AccountBlocked => Remedy {
            side: Side::Support,
            steps: vec![t(
                "Учётную запись заблокировал оператор: кто, когда и почему — в карточке выше и в журнале действий. Разблокировать её может служба поддержки или администратор школы, когда причина отпала.",
                "An operator blocked the account: who, when and why is in the card above and in the audit log. Support or the school's administrator may unblock it once the reason is gone.",
            )],
        },
        OutcomeCode::IdpError | OutcomeCode::Rejected => {
            failure(facts.error_code.unwrap_or(""), facts.details, lang)
        }
    }
}

fn failure(code: &str, details: Option<&Value>, lang: Lang) -> Remedy {
    let t = |ru: &str, en: &str| lang.pick(ru, en).to_string();
    if let Some(remedy) = certificate_remedy(code, details, lang) {
        return remedy;
    }
    if let Some(explanation) = crate::esia::operator_explanation(code, lang) {
        let side = match code {
            "ESIA-007004" | "ESIA-007055" => Side::Person,
            "ESIA-007007" | "ESIA-007008" => Side::Nobody,
            _ => Side::Integration,
        };
        return Remedy {
            side,
            steps: vec![format!("{code}: {explanation}")],
        };
    }
    let (side, step) = match code {
        c if c.starts_with("state.") => (
            Side::Person,
            t(
                "Вход начат в другом браузере, устарел или повторён: начать заново в том же браузере, не блокировать cookie.",
                "The login was started in another browser, expired or was replayed: start again in the same browser with cookies allowed.",
            ),
        ),
        "flow.rate_limited" => (
            Side::Nobody,
            t("Сработало ограничение частоты: подождать минуту.", "The rate limit held: wait a minute."),
        ),
        "flow.repeated_parameter" => (
            Side::Person,
            t(
                "В ответе провайдера параметр повторён (RFC 6749 §3.1) — ссылка повреждена или подделана; вход не тронут: начать заново. Если так у многих — проверить, кто меняет адрес возврата.",
                "The provider's answer repeats a parameter (RFC 6749 §3.1): the link is damaged or forged; the login was left untouched: start again. If many people see this, find out what alters the return address.",
            ),
        ),
        c if c.starts_with("token.") || c.starts_with("userinfo.") || c == "idp.bad_response" => (
            Side::Integration,
            format!(
                "{code}: {}",
                t(
                    "ответ провайдера не прошёл проверку (ключи/сертификаты, issuer, audience, часы); повторяется — проверить настройку провайдера.",
                    "the provider's answer failed a check (keys/certificates, issuer, audience, clock); if it repeats, check the provider configuration.",
                )
            ),
        ),
        c if c.starts_with("idp.") => (
            Side::Nobody,
            format!(
                "{code}: {}",
                t("провайдер недоступен или ошибся; повторить позже.", "the provider is down or failed; retry later.")
            ),
        ),
        "client.signer_failed" => (
            Side::Integration,
            t(
                "Подпись запроса (client_secret) не сформирована: проверьте команду подписи, контейнер и таймаут.",
                "The request signature (client_secret) failed: check the signer command, the key container and the timeout.",
            ),
        ),
        other => (
            Side::Support,
            format!("{other}: {}", t("неизвестная ошибка, смотрите журнал по коду обращения.", "unknown failure; see the log for the reference code.")),
        ),
    };
    Remedy {
        side,
        steps: vec![step],
    }
}

/// The certificate an attempt's details carry (as the federation layer's
/// `CertificateInfo` records it).
#[derive(serde::Deserialize)]
struct RecordedCertificate {
    subject: String,
    serial: String,
    /// Unix seconds.
    not_before: i64,
    not_after: i64,
}

fn utc_text(unix: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// Expired or not-yet-valid signing certificate: which one, its dates and
/// what to do (the attempt's details carry the certificate).
fn certificate_remedy(code: &str, details: Option<&Value>, lang: Lang) -> Option<Remedy> {
    let t = |ru: &str, en: &str| lang.pick(ru, en).to_string();
    let expired = match code {
        "token.certificate_expired" => true,
        "token.certificate_not_yet_valid" => false,
        _ => return None,
    };
    let named = details
        .and_then(|d| d.get("certificate"))
        .and_then(|c| serde_json::from_value::<RecordedCertificate>(c.clone()).ok())
        .map(|c| {
            format!(
                "{} {} ({} {}), {} {} {} {}.",
                t("Сертификат", "Certificate"),
                c.subject,
                t("серийный номер", "serial"),
                c.serial,
                t("действует с", "valid from"),
                utc_text(c.not_before),
                t("по", "to"),
                utc_text(c.not_after)
            )
        })
        .unwrap_or_else(|| {
            t(
                "Сертификат не записан.",
                "The certificate was not recorded.",
            )
        });
    let what = if expired {
        t(
            "Подпись id_token проверяется только сертификатом провайдера с истёкшим сроком: получить у провайдера (для Госуслуг — на технологическом портале) новый сертификат, добавить его в certificates провайдера и перечитать ключи (kill -HUP).",
            "The id_token's signature verifies only with a provider certificate that has expired: get the new certificate from the provider (for ESIA, on the technology portal), add it to the provider's certificates and reload the keys (kill -HUP).",
        )
    } else {
        t(
            "Подпись id_token проверяется только сертификатом, срок которого ещё не начался: проверить часы серверов (NTP); если часы верны — провайдер подписывает ключом раньше срока его сертификата.",
            "The id_token's signature verifies only with a certificate whose validity has not begun: check the servers' clocks (NTP); if they are right, the provider signs with a key before its certificate's start.",
        )
    };
    Some(Remedy {
        side: Side::Integration,
        steps: vec![format!("{code}: {what}"), named],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_outcome_gets_a_remedy_naming_a_side() {
        let cases: Vec<(OutcomeCode, Value, Option<&str>, Side, &str)> = vec![
            (
                OutcomeCode::LoggedIn,
                json!({}),
                None,
                Side::Nobody,
                "nothing to do",
            ),
            (
                OutcomeCode::Linked,
                json!({}),
                None,
                Side::Nobody,
                "nothing to do",
            ),
            (
                OutcomeCode::SnilsMissing,
                json!({}),
                None,
                Side::Person,
                "add the SNILS",
            ),
            (
                OutcomeCode::NoAccount,
                json!({}),
                None,
                Side::School,
                "record the person's SNILS",
            ),
            (
                OutcomeCode::NameMismatch,
                json!({"actual_tier": "standard", "parts": [
                    {"part": "surname", "comparison": "equal"},
                    {"part": "patronymic", "comparison": "differs"}]}),
                None,
                Side::School,
                "school must correct the patronymic",
            ),
            (
                OutcomeCode::NameMismatch,
                json!({"actual_tier": "simplified", "parts": [{"part": "given_name", "comparison": "differs"}]}),
                None,
                Side::Person,
                "Check the given name",
            ),
            (
                OutcomeCode::Ambiguous,
                json!({"ambiguous_count": 3}),
                None,
                Side::School,
                "3 diary accounts",
            ),
            (
                OutcomeCode::LinkedElsewhere,
                json!({}),
                None,
                Side::Support,
                "two State Services accounts",
            ),
            (
                OutcomeCode::TierTooLow,
                json!({"required_tier": "standard", "actual_tier": "simplified", "tier_known": true}),
                None,
                Side::Person,
                "must be confirmed",
            ),
            (
                OutcomeCode::TierTooLow,
                json!({"required_tier": "standard", "actual_tier": "simplified", "tier_known": false}),
                None,
                Side::Integration,
                "id_doc scope",
            ),
            (
                OutcomeCode::RegionDisabled,
                json!({}),
                None,
                Side::Integration,
                "region 50",
            ),
            (
                OutcomeCode::AccountBlocked,
                json!({}),
                None,
                Side::Support,
                "may unblock it",
            ),
            (
                OutcomeCode::IdpError,
                json!({}),
                Some("ESIA-007053"),
                Side::Integration,
                "client_secret signature",
            ),
            (
                OutcomeCode::IdpError,
                json!({}),
                Some("ESIA-007004"),
                Side::Person,
                "Отказать",
            ),
            (
                OutcomeCode::IdpError,
                json!({}),
                Some("token.expired"),
                Side::Integration,
                "failed a check",
            ),
            (
                OutcomeCode::Rejected,
                json!({}),
                Some("state.other_browser"),
                Side::Person,
                "same browser",
            ),
            (
                OutcomeCode::Rejected,
                json!({}),
                Some("flow.repeated_parameter"),
                Side::Person,
                "repeats a parameter",
            ),
            (
                OutcomeCode::IdpError,
                json!({"certificate": {"subject": "CN=ESIA GOST", "serial": "0A:1B",
                    "not_before": 1_700_000_000, "not_after": 1_731_536_000}}),
                Some("token.certificate_expired"),
                Side::Integration,
                "Certificate CN=ESIA GOST (serial 0A:1B), valid from 2023-11-14 22:13:20 UTC to 2024-11-13 22:13:20 UTC.",
            ),
            (
                OutcomeCode::IdpError,
                json!({}),
                Some("token.certificate_expired"),
                Side::Integration,
                "has expired",
            ),
            (
                OutcomeCode::IdpError,
                json!({"certificate": {"subject": "CN=ESIA", "serial": "01",
                    "not_before": 1_700_000_000, "not_after": 1_731_536_000}}),
                Some("token.certificate_not_yet_valid"),
                Side::Integration,
                "check the servers' clocks",
            ),
        ];
        for (outcome, details, code, side, needle) in cases {
            let facts = Facts {
                details: Some(&details),
                error_code: code,
                region: Some(50),
                linked_subject: None,
            };
            let en = remedy(outcome, &facts, Lang::En);
            let ru = remedy(outcome, &facts, Lang::Ru);
            assert_eq!(en.side, side, "{outcome:?} {code:?}");
            assert_eq!(ru.side, side, "{outcome:?} {code:?}");
            assert!(
                en.steps.iter().any(|s| s.contains(needle)),
                "{outcome:?} {code:?}: {:?}",
                en.steps
            );
            assert!(!ru.steps.is_empty());
        }
    }

    #[test]
    fn the_linked_identity_is_named_when_known() {
        let facts = Facts {
            linked_subject: Some("10…01"),
            ..Facts::default()
        };
        let remedy = remedy(OutcomeCode::LinkedElsewhere, &facts, Lang::En);
        assert!(
            remedy.steps[0].contains("linked to OID 10…01"),
            "{:?}",
            remedy.steps
        );
    }
}
