//! Turning stored accounts and configuration into the link decision's inputs.

use std::collections::BTreeMap;

use uuid::Uuid;

use config::Config;
use domain::link::{CandidateAccount, LinkPolicy, RegionPolicy};
use domain::name::FullName;
use domain::snils::Snils;
use domain::tier::{RegionCode, TierPolicy};
use store::LoginCandidate;

/// Region policies from configuration; regions not listed are disabled.
pub fn link_policy(config: &Config, today: chrono::NaiveDate) -> LinkPolicy {
    let regions = config
        .regions
        .iter()
        .filter_map(|region| {
            let code = RegionCode::new(region.code).ok()?;
            let tier = TierPolicy {
                from_age: region.from_age.unwrap_or(config.policy.from_age),
                min_tier: region.min_tier.unwrap_or(config.policy.min_tier),
            };
            Some((
                code,
                RegionPolicy {
                    enabled: region.esia_enabled,
                    tier,
                },
            ))
        })
        .collect::<BTreeMap<_, _>>();
    LinkPolicy {
        regions,
        today,
        allow_missing_patronymic: config.policy.allow_missing_patronymic,
    }
}

/// The decision's two inputs, split from one lookup.
pub struct Candidates {
    /// The account linked to this (provider, subject), with the link's id.
    pub existing: Option<(CandidateAccount, Uuid)>,
    /// Every account carrying the person's SNILS (empty for a linked identity:
    /// its link alone decides).
    pub by_snils: Vec<CandidateAccount>,
}

pub fn split(rows: Vec<LoginCandidate>, subject: &str, snils: Option<&Snils>) -> Candidates {
    let mut existing = None;
    let mut by_snils = Vec::new();
    for row in rows {
        let is_linked_here = row.linked_subject.as_deref() == Some(subject);
        let has_snils = snils.is_some_and(|s| row.account.snils.as_deref() == Some(s.digits()));
        let link_id = row.link_id;
        let Some(candidate) = candidate(row) else {
            continue;
        };
        match (is_linked_here, link_id) {
            (true, Some(link_id)) => existing = Some((candidate, link_id)),
            _ if has_snils => by_snils.push(candidate),
            _ => {}
        }
    }
    if existing.is_some() {
        by_snils.clear();
    }
    Candidates { existing, by_snils }
}

/// `None` (logged) for a stored account the decision cannot use.
fn candidate(row: LoginCandidate) -> Option<CandidateAccount> {
    let account = row.account;
    let Ok(name) = FullName::new(
        &account.surname,
        &account.given_name,
        account.patronymic.as_deref(),
    ) else {
        tracing::error!(account = %account.id, "stored account has an unusable name; skipped");
        return None;
    };
    let region = row
        .region_code
        .and_then(|code| u16::try_from(code).ok())
        .and_then(|code| RegionCode::new(code).ok());
    // Trusted persons have no school: they log in by their own link
    // (`claim_trusted_invitations`), never as a link candidate.
    let region = region?;
    Some(CandidateAccount {
        account_id: account.id,
        name,
        snils: account.snils.as_deref().and_then(|s| Snils::parse(s).ok()),
        birth_date: account.birth_date,
        region,
        linked_subject: row.linked_subject,
        blocked: account.status == "blocked",
    })
}
