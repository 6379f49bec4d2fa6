//! The link decision: given the person from the IdP and the diary's records,
//! exactly one outcome. Pure: the caller fetches the candidates and applies
//! the result.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::name::{compare, FullName, NameComparison, PartComparison};
use super::snils::Snils;
use super::tier::{RegionCode, Tier, TierPolicy};
use serde::{Deserialize, Serialize};

/// What the IdP told us, parsed.
#[derive(Debug, Clone)]
pub struct IdpPerson {
    pub provider: String,
    pub subject: String,
    pub name: FullName,
    pub snils: Option<Snils>,
    pub birth_date: Option<NaiveDate>,
    pub tier: Tier,
}

/// A diary account as the decision needs to see it.
#[derive(Debug, Clone)]
pub struct CandidateAccount {
    pub account_id: Uuid,
    pub name: FullName,
    pub snils: Option<Snils>,
    pub birth_date: Option<NaiveDate>,
    pub region: RegionCode,
    /// Subject of the link this account already has with the same provider.
    pub linked_subject: Option<String>,
    /// An operator locked the account: no way in until it is unlocked.
    pub blocked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionPolicy {
    pub enabled: bool,
    pub tier: TierPolicy,
}

#[derive(Debug, Clone)]
pub struct LinkPolicy {
    /// Regions not listed are disabled.
    pub regions: BTreeMap<RegionCode, RegionPolicy>,
    pub today: NaiveDate,
    /// Accept a patronymic present on only one side.
    pub allow_missing_patronymic: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    LoggedIn {
        account_id: Uuid,
    },
    Linked {
        account_id: Uuid,
        comparison: NameComparison,
    },
    SnilsMissing,
    NoAccount,
    NameMismatch {
        account_id: Uuid,
        comparison: NameComparison,
    },
    Ambiguous {
        account_ids: Vec<Uuid>,
    },
    LinkedElsewhere {
        account_id: Uuid,
    },
    TierTooLow {
        account_id: Uuid,
        required: Tier,
        actual: Tier,
    },
    RegionDisabled {
        account_id: Uuid,
        region: RegionCode,
    },
    /// The person's account is locked by an operator (nothing is linked).
    AccountBlocked {
        account_id: Uuid,
    },
    /// Produced by the federation layer, never by [`decide`].
    IdpError {
        code: Option<String>,
    },
}

impl LinkOutcome {
    pub fn code(&self) -> OutcomeCode {
        match self {
            LinkOutcome::LoggedIn { .. } => OutcomeCode::LoggedIn,
            LinkOutcome::Linked { .. } => OutcomeCode::Linked,
            LinkOutcome::SnilsMissing => OutcomeCode::SnilsMissing,
            LinkOutcome::NoAccount => OutcomeCode::NoAccount,
            LinkOutcome::NameMismatch { .. } => OutcomeCode::NameMismatch,
            LinkOutcome::Ambiguous { .. } => OutcomeCode::Ambiguous,
            LinkOutcome::LinkedElsewhere { .. } => OutcomeCode::LinkedElsewhere,
            LinkOutcome::TierTooLow { .. } => OutcomeCode::TierTooLow,
            LinkOutcome::RegionDisabled { .. } => OutcomeCode::RegionDisabled,
            LinkOutcome::AccountBlocked { .. } => OutcomeCode::AccountBlocked,
            LinkOutcome::IdpError { .. } => OutcomeCode::IdpError,
        }
    }

    pub fn account_id(&self) -> Option<Uuid> {
        match self {
            LinkOutcome::LoggedIn { account_id }
            | LinkOutcome::Linked { account_id, .. }
            | LinkOutcome::NameMismatch { account_id, .. }
            | LinkOutcome::LinkedElsewhere { account_id }
            | LinkOutcome::TierTooLow { account_id, .. }
            | LinkOutcome::RegionDisabled { account_id, .. }
            | LinkOutcome::AccountBlocked { account_id } => Some(*account_id),
            _ => None,
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(
            self,
            LinkOutcome::LoggedIn { .. } | LinkOutcome::Linked { .. }
        )
    }
}

/// Stable machine codes of the outcomes of a login attempt. `Rejected` is
/// the callback refused before the IdP was asked (bad state, other browser,
/// rate limit); [`decide`] never produces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeCode {
    LoggedIn,
    Linked,
    SnilsMissing,
    NoAccount,
    NameMismatch,
    Ambiguous,
    LinkedElsewhere,
    TierTooLow,
    RegionDisabled,
    AccountBlocked,
    IdpError,
    Rejected,
}

impl OutcomeCode {
    pub const ALL: [OutcomeCode; 12] = [
        OutcomeCode::LoggedIn,
        OutcomeCode::Linked,
        OutcomeCode::SnilsMissing,
        OutcomeCode::NoAccount,
        OutcomeCode::NameMismatch,
        OutcomeCode::Ambiguous,
        OutcomeCode::LinkedElsewhere,
        OutcomeCode::TierTooLow,
        OutcomeCode::RegionDisabled,
        OutcomeCode::AccountBlocked,
        OutcomeCode::IdpError,
        OutcomeCode::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeCode::LoggedIn => "logged_in",
            OutcomeCode::Linked => "linked",
            OutcomeCode::SnilsMissing => "snils_missing",
            OutcomeCode::NoAccount => "no_account",
            OutcomeCode::NameMismatch => "name_mismatch",
            OutcomeCode::Ambiguous => "ambiguous",
            OutcomeCode::LinkedElsewhere => "linked_elsewhere",
            OutcomeCode::TierTooLow => "tier_too_low",
            OutcomeCode::RegionDisabled => "region_disabled",
            OutcomeCode::AccountBlocked => "account_blocked",
            OutcomeCode::IdpError => "idp_error",
            OutcomeCode::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<OutcomeCode> {
        OutcomeCode::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn is_success(self) -> bool {
        matches!(self, OutcomeCode::LoggedIn | OutcomeCode::Linked)
    }
}

/// The decision. `existing` is the account linked to (provider, subject);
/// `by_snils` all accounts carrying the person's SNILS. A locked account
/// is never logged into nor linked; the person is told so only once the
/// identity is theirs (linked, or the names match).
pub fn decide(
    person: &IdpPerson,
    existing: Option<&CandidateAccount>,
    by_snils: &[CandidateAccount],
    policy: &LinkPolicy,
) -> LinkOutcome {
    if let Some(account) = existing {
        if account.blocked {
            return LinkOutcome::AccountBlocked {
                account_id: account.account_id,
            };
        }
        if let Some(refused) = region_refusal(account, policy) {
            return refused;
        }
        if let Some(refused) = tier_refusal(person, account, policy) {
            return refused;
        }
        return LinkOutcome::LoggedIn {
            account_id: account.account_id,
        };
    }
    if person.snils.is_none() {
        return LinkOutcome::SnilsMissing;
    }
    let account = match by_snils {
        [] => return LinkOutcome::NoAccount,
        [one] => one,
        many => {
            return LinkOutcome::Ambiguous {
                account_ids: many.iter().map(|a| a.account_id).collect(),
            }
        }
    };
    if let Some(refused) = region_refusal(account, policy) {
        return refused;
    }
    let comparison = compare(&person.name, &account.name);
    if !names_match(&comparison, policy.allow_missing_patronymic) {
        return LinkOutcome::NameMismatch {
            account_id: account.account_id,
            comparison,
        };
    }
    if account
        .linked_subject
        .as_deref()
        .is_some_and(|subject| subject != person.subject)
    {
        return LinkOutcome::LinkedElsewhere {
            account_id: account.account_id,
        };
    }
    if account.blocked {
        return LinkOutcome::AccountBlocked {
            account_id: account.account_id,
        };
    }
    if let Some(refused) = tier_refusal(person, account, policy) {
        return refused;
    }
    LinkOutcome::Linked {
        account_id: account.account_id,
        comparison,
    }
}

/// Whether a comparison counts as the same person under the policy.
pub fn names_match(comparison: &NameComparison, allow_missing_patronymic: bool) -> bool {
    comparison.surname.is_match()
        && comparison.given.is_match()
        && match comparison.patronymic {
            PartComparison::MissingLeft | PartComparison::MissingRight => allow_missing_patronymic,
            ref other => other.is_match(),
        }
}

fn region_refusal(account: &CandidateAccount, policy: &LinkPolicy) -> Option<LinkOutcome> {
    let enabled = policy
        .regions
        .get(&account.region)
        .is_some_and(|r| r.enabled);
    (!enabled).then_some(LinkOutcome::RegionDisabled {
        account_id: account.account_id,
        region: account.region,
    })
}

fn tier_refusal(
    person: &IdpPerson,
    account: &CandidateAccount,
    policy: &LinkPolicy,
) -> Option<LinkOutcome> {
    let tier_policy = policy
        .regions
        .get(&account.region)
        .map(|r| r.tier)
        .unwrap_or_default();
    // The school's birth date is authoritative; the IdP's is the fallback.
    let birth = account.birth_date.or(person.birth_date);
    let required = tier_policy.required_tier(birth, policy.today);
    (person.tier < required).then_some(LinkOutcome::TierTooLow {
        account_id: account.account_id,
        required,
        actual: person.tier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::NameRule;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn region(code: u16) -> RegionCode {
        RegionCode::new(code).expect("region")
    }

    fn policy() -> LinkPolicy {
        let mut regions = BTreeMap::new();
        regions.insert(
            region(29),
            RegionPolicy {
                enabled: true,
                tier: TierPolicy::default(),
            },
        );
        regions.insert(
            region(50),
            RegionPolicy {
                enabled: false,
                tier: TierPolicy::default(),
            },
        );
        LinkPolicy {
            regions,
            today: date(2026, 11, 22),
            allow_missing_patronymic: false,
        }
    }

    fn person(name: &str, snils: Option<&str>, tier: Tier) -> IdpPerson {
        IdpPerson {
            provider: "esia".into(),
            subject: "1000001".into(),
            name: FullName::parse(name).expect("name"),
            snils: snils.map(|s| Snils::parse(s).expect("snils")),
            birth_date: Some(date(1985, 4, 12)),
            tier,
        }
    }

    fn account(id: u128, name: &str, birth: NaiveDate, region_code: u16) -> CandidateAccount {
        CandidateAccount {
            account_id: Uuid::from_u128(id),
            name: FullName::parse(name).expect("name"),
            snils: Some(Snils::parse("201-301-401 60").expect("snils")),
            birth_date: Some(birth),
            region: region(region_code),
            linked_subject: None,
            blocked: false,
        }
    }

    const SNILS: Option<&str> = Some("201-301-401 60");

    /// (why, person, existing link, accounts by SNILS, expected outcome)
    type Case = (
        &'static str,
        IdpPerson,
        Option<CandidateAccount>,
        Vec<CandidateAccount>,
        OutcomeCode,
    );

    #[test]
    fn one_case_per_outcome() {
        let adult = date(1985, 4, 12);
        let ivanova = || account(1, "Иванова Мария Петровна", adult, 29);
        let p = policy();
        let std_person = person("Иванова Мария Петровна", SNILS, Tier::Standard);

        let mut linked_elsewhere = ivanova();
        linked_elsewhere.linked_subject = Some("999".into());
        let mut same_subject = ivanova();
        same_subject.linked_subject = Some("1000001".into());
        let mut teen = account(3, "Волков Артём Денисович", date(2011, 3, 15), 29);
        teen.linked_subject = None;
        let mut locked = ivanova();
        locked.blocked = true;
        let mut locked_off = account(1, "Иванова Мария Петровна", adult, 50);
        locked_off.blocked = true;

        let cases: Vec<Case> = vec![
            (
                "existing link",
                std_person.clone(),
                Some(ivanova()),
                vec![],
                OutcomeCode::LoggedIn,
            ),
            (
                "existing link, region off",
                std_person.clone(),
                Some(account(1, "Иванова Мария Петровна", adult, 50)),
                vec![],
                OutcomeCode::RegionDisabled,
            ),
            (
                "exact match",
                std_person.clone(),
                None,
                vec![ivanova()],
                OutcomeCode::Linked,
            ),
            (
                "already linked to this subject",
                std_person.clone(),
                None,
                vec![same_subject],
                OutcomeCode::Linked,
            ),
            (
                "no SNILS",
                person("Иванова Мария Петровна", None, Tier::Standard),
                None,
                vec![ivanova()],
                OutcomeCode::SnilsMissing,
            ),
            (
                "unknown SNILS",
                std_person.clone(),
                None,
                vec![],
                OutcomeCode::NoAccount,
            ),
            (
                "typo",
                person("Иванава Мария Петровна", SNILS, Tier::Standard),
                None,
                vec![ivanova()],
                OutcomeCode::NameMismatch,
            ),
            (
                "two accounts",
                std_person.clone(),
                None,
                vec![ivanova(), account(2, "Иванова Мария Петровна", adult, 29)],
                OutcomeCode::Ambiguous,
            ),
            (
                "second identity",
                std_person.clone(),
                None,
                vec![linked_elsewhere],
                OutcomeCode::LinkedElsewhere,
            ),
            (
                "15, simplified",
                person("Волков Артём Денисович", SNILS, Tier::Simplified),
                None,
                vec![teen.clone()],
                OutcomeCode::TierTooLow,
            ),
            (
                "10, simplified",
                person("Волкова Алиса Денисовна", SNILS, Tier::Simplified),
                None,
                vec![account(4, "Волкова Алиса Денисовна", date(2016, 5, 20), 29)],
                OutcomeCode::Linked,
            ),
            (
                "adult, simplified",
                person("Иванова Мария Петровна", SNILS, Tier::Simplified),
                None,
                vec![ivanova()],
                OutcomeCode::TierTooLow,
            ),
            (
                "region off",
                std_person.clone(),
                None,
                vec![account(5, "Иванова Мария Петровна", adult, 50)],
                OutcomeCode::RegionDisabled,
            ),
            (
                "region unknown",
                std_person.clone(),
                None,
                vec![account(6, "Иванова Мария Петровна", adult, 77)],
                OutcomeCode::RegionDisabled,
            ),
            (
                "existing link, account locked",
                std_person.clone(),
                Some(locked.clone()),
                vec![],
                OutcomeCode::AccountBlocked,
            ),
            (
                "existing link, locked, region off: the lock is said first",
                std_person.clone(),
                Some(locked_off),
                vec![],
                OutcomeCode::AccountBlocked,
            ),
            (
                "match on a locked account: not linked",
                std_person.clone(),
                None,
                vec![locked.clone()],
                OutcomeCode::AccountBlocked,
            ),
            (
                "typo on a locked account: the lock is not told",
                person("Иванава Мария Петровна", SNILS, Tier::Standard),
                None,
                vec![locked],
                OutcomeCode::NameMismatch,
            ),
        ];
        for (why, person, existing, by_snils, expected) in cases {
            let outcome = decide(&person, existing.as_ref(), &by_snils, &p);
            assert_eq!(outcome.code(), expected, "{why}: {outcome:?}");
        }
    }

    #[test]
    fn each_normalization_rule_still_links() {
        // (IdP surname, school surname, the rule that makes them equal)
        let variants: [(&str, &str, NameRule); 6] = [
            ("Фе\u{308}доров", "Фёдоров", NameRule::Unicode),
            ("Фёдоров  Младший", "Фёдоров Младший", NameRule::Whitespace),
            ("Петров – Водкин", "Петров-Водкин", NameRule::Hyphen),
            ("Фёдoров", "Фёдоров", NameRule::LatinLookalike),
            ("ФЁДОРОВ", "Фёдоров", NameRule::Case),
            ("Федоров", "Фёдоров", NameRule::YoToYe),
        ];
        for (idp_surname, school_surname, rule) in variants {
            let mut p = person("Иванова Мария Петровна", SNILS, Tier::Standard);
            p.name = FullName::new(idp_surname, "Пётр", Some("Ильич")).expect("name");
            let mut candidate = account(7, "Иванова Мария Петровна", date(1979, 9, 30), 29);
            candidate.name = FullName::new(school_surname, "Пётр", Some("Ильич")).expect("name");
            match decide(&p, None, &[candidate], &policy()) {
                LinkOutcome::Linked { comparison, .. } => {
                    assert_eq!(comparison.rules_used(), vec![rule], "{idp_surname}");
                }
                other => panic!("{rule:?}: expected linked, got {other:?}"),
            }
        }
    }

    #[test]
    fn patronymic_missing_on_either_side() {
        let adult = date(1990, 6, 5);
        let school = account(8, "Кузнецова Анна Сергеевна", adult, 29);
        let idp = person("Кузнецова Анна", SNILS, Tier::Standard);
        match decide(&idp, None, std::slice::from_ref(&school), &policy()) {
            LinkOutcome::NameMismatch { comparison, .. } => {
                assert_eq!(comparison.patronymic, PartComparison::MissingLeft);
            }
            other => panic!("{other:?}"),
        }
        let school_without = account(9, "Кузнецова Анна", adult, 29);
        let idp_with = person("Кузнецова Анна Сергеевна", SNILS, Tier::Standard);
        assert_eq!(
            decide(&idp_with, None, &[school_without], &policy()).code(),
            OutcomeCode::NameMismatch
        );

        let mut lenient = policy();
        lenient.allow_missing_patronymic = true;
        assert_eq!(
            decide(&idp, None, &[school], &lenient).code(),
            OutcomeCode::Linked
        );
    }

    #[test]
    fn unknown_birth_dates_take_the_safe_side() {
        let mut school = account(10, "Иванова Мария Петровна", date(1985, 4, 12), 29);
        school.birth_date = None;
        let mut idp = person("Иванова Мария Петровна", SNILS, Tier::Simplified);
        idp.birth_date = None;
        assert_eq!(
            decide(&idp, None, &[school.clone()], &policy()).code(),
            OutcomeCode::TierTooLow
        );
        // The school's date wins over the IdP's.
        school.birth_date = Some(date(2016, 1, 1));
        idp.birth_date = Some(date(1980, 1, 1));
        assert_eq!(
            decide(&idp, None, &[school], &policy()).code(),
            OutcomeCode::Linked
        );
    }

    #[test]
    fn codes_are_stable_and_round_trip() {
        for code in OutcomeCode::ALL {
            assert_eq!(OutcomeCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
