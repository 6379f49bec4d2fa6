//! The report of one login attempt: what the outcome page shows and what the
//! attempt record keeps for operators (masked).

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::AppError;
use domain::code::ReferenceCode;
use domain::link::{CandidateAccount, IdpPerson, LinkOutcome, OutcomeCode};
use domain::name::{NameComparison, NamePart, NameRule, PartComparison, PartVerdict};
use domain::snils::Snils;
use domain::tier::Tier;
use federation::certificates::CertificateInfo;
use federation::{FederatedPerson, FederationError};
use i18n::Lang;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutcomeReport {
    pub reference: String,
    pub provider: String,
    pub outcome: OutcomeCode,
    pub account_id: Option<Uuid>,
    pub region: Option<u16>,
    /// Per-part comparison for `linked` and `name_mismatch`.
    pub parts: Vec<PartReport>,
    pub required_tier: Option<Tier>,
    pub actual_tier: Option<Tier>,
    /// Machine code of an IdP or flow failure (`ESIA-007004`, `token.expired`, `state.unknown`).
    pub idp_error: Option<String>,
    pub ambiguous_count: Option<usize>,
    pub lang: Lang,
    /// The signing certificate an `idp_error` names (expired, not yet valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartReport {
    pub part: NamePart,
    pub comparison: PartVerdict,
    pub rules: Vec<NameRule>,
    /// What the school recorded, only when the IdP vouched for the SNILS
    /// (standard or verified tier) and the part differs.
    pub school_value: Option<String>,
}

impl OutcomeReport {
    fn empty(
        reference: &ReferenceCode,
        provider: &str,
        outcome: OutcomeCode,
        lang: Lang,
    ) -> OutcomeReport {
        OutcomeReport {
            reference: reference.as_str().to_string(),
            provider: provider.to_string(),
            outcome,
            account_id: None,
            region: None,
            parts: Vec::new(),
            required_tier: None,
            actual_tier: None,
            idp_error: None,
            ambiguous_count: None,
            lang,
            certificate: None,
        }
    }

    pub fn idp_error(
        reference: &ReferenceCode,
        provider: &str,
        error: &FederationError,
        lang: Lang,
    ) -> OutcomeReport {
        let mut report = Self::empty(reference, provider, OutcomeCode::IdpError, lang);
        report.idp_error = Some(error.code());
        report.certificate = error.certificate().cloned();
        report
    }

    pub fn flow_error(
        reference: &ReferenceCode,
        provider: &str,
        error: &AppError,
        lang: Lang,
    ) -> OutcomeReport {
        let outcome = match error {
            AppError::ProviderUnavailable(_) => OutcomeCode::IdpError,
            _ => OutcomeCode::Rejected,
        };
        let mut report = Self::empty(reference, provider, outcome, lang);
        report.idp_error = Some(match error {
            AppError::ProviderUnavailable(inner) => inner.code(),
            other => other.code().to_string(),
        });
        report
    }

    pub fn from_outcome(
        reference: &ReferenceCode,
        person: &IdpPerson,
        outcome: &LinkOutcome,
        by_snils: &[CandidateAccount],
        region: Option<i64>,
        lang: Lang,
    ) -> OutcomeReport {
        let mut report = Self::empty(reference, &person.provider, outcome.code(), lang);
        report.account_id = outcome.account_id();
        report.region = region.and_then(|r| u16::try_from(r).ok());
        report.actual_tier = Some(person.tier);
        let reveal = person.tier >= Tier::Standard;
        match outcome {
            LinkOutcome::Linked { comparison, .. } => {
                report.parts = parts(comparison, None, false);
            }
            LinkOutcome::NameMismatch {
                account_id,
                comparison,
            } => {
                let school = by_snils.iter().find(|c| c.account_id == *account_id);
                report.parts = parts(comparison, school, reveal);
            }
            LinkOutcome::TierTooLow {
                required, actual, ..
            } => {
                report.required_tier = Some(*required);
                report.actual_tier = Some(*actual);
            }
            LinkOutcome::Ambiguous { account_ids } => {
                report.ambiguous_count = Some(account_ids.len());
            }
            LinkOutcome::IdpError { code } => {
                report.idp_error = code.clone();
            }
            _ => {}
        }
        report
    }

    /// Masked details for the attempt record: codes and rules, never values.
    pub fn operator_details(
        &self,
        person: Option<&FederatedPerson>,
        snils: Option<&Snils>,
    ) -> serde_json::Value {
        let parts: Vec<_> = self
            .parts
            .iter()
            .map(|p| json!({"part": p.part, "comparison": p.comparison, "rules": p.rules}))
            .collect();
        let mut details = json!({
            "parts": parts,
            "snils": snils.map(|s| s.masked()),
            "snils_from_idp": person.map(|p| p.snils.is_some()),
            "snils_valid": person.map(|p| p.snils.is_none() || snils.is_some()),
            "birth_date_from_idp": person.map(|p| p.birth_date.is_some()),
            "required_tier": self.required_tier,
            "actual_tier": self.actual_tier,
            "tier_known": person.map(|p| p.tier_known),
            "ambiguous_count": self.ambiguous_count,
            "error": self.idp_error,
        });
        if let (Some(certificate), Some(fields)) = (&self.certificate, details.as_object_mut()) {
            fields.insert("certificate".into(), json!(certificate));
        }
        details
    }
}

fn parts(
    comparison: &NameComparison,
    school: Option<&CandidateAccount>,
    reveal: bool,
) -> Vec<PartReport> {
    comparison
        .parts()
        .into_iter()
        .map(|(part, cmp)| {
            let rules = match cmp {
                PartComparison::EqualAfterNormalization(rules) => rules.clone(),
                _ => Vec::new(),
            };
            let school_value =
                school
                    .filter(|_| reveal && !cmp.is_match())
                    .and_then(|c| match part {
                        NamePart::Surname => Some(c.name.surname().to_string()),
                        NamePart::Given => Some(c.name.given().to_string()),
                        NamePart::Patronymic => c.name.patronymic().map(str::to_string),
                    });
            PartReport {
                part,
                comparison: cmp.verdict(),
                rules,
                school_value,
            }
        })
        .collect()
}
