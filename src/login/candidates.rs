//! Turning stored accounts and configuration into the link decision's inputs.

use std::collections::BTreeMap;

use chrono::Utc;

use crate::config::Config;
use crate::domain::link::{CandidateAccount, LinkPolicy, RegionPolicy};
use crate::domain::name::FullName;
use crate::domain::snils::Snils;
use crate::domain::tier::{RegionCode, Tier, TierPolicy};
use crate::startup::AppContext;
use crate::store::{Account, StoreError};

/// Region policies from configuration; regions not listed are disabled.
pub fn link_policy(config: &Config) -> LinkPolicy {
    let default_tier = Tier::parse(&config.policy.min_tier).unwrap_or(Tier::Standard);
    let regions = config
        .regions
        .iter()
        .filter_map(|region| {
            let code = RegionCode::new(region.code).ok()?;
            let tier = TierPolicy {
                from_age: region.from_age.unwrap_or(config.policy.from_age),
                min_tier: region
                    .min_tier
                    .as_deref()
                    .and_then(Tier::parse)
                    .unwrap_or(default_tier),
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
        today: Utc::now().date_naive(),
        allow_missing_patronymic: config.policy.allow_missing_patronymic,
    }
}

/// The account already linked to (provider, subject) and the link's id.
pub async fn existing(
    ctx: &AppContext,
    provider: &str,
    subject: &str,
) -> Result<Option<(CandidateAccount, uuid::Uuid)>, StoreError> {
    let Some(link) = ctx.store.find_link(provider, subject).await? else {
        return Ok(None);
    };
    let account = ctx.store.get_account(link.account_id).await?;
    let candidate = candidate(ctx, None, account).await?;
    Ok(candidate.map(|c| {
        (
            CandidateAccount {
                linked_subject: Some(link.subject.clone()),
                ..c
            },
            link.id,
        )
    }))
}

/// Every account carrying this SNILS.
pub async fn by_snils(
    ctx: &AppContext,
    provider: &str,
    snils: &Snils,
) -> Result<Vec<CandidateAccount>, StoreError> {
    let accounts = ctx.store.find_accounts_by_snils(snils.digits()).await?;
    let mut candidates = Vec::with_capacity(accounts.len());
    for account in accounts {
        if let Some(c) = candidate(ctx, Some(provider), account).await? {
            candidates.push(c);
        }
    }
    Ok(candidates)
}

/// `provider`: look up the account's existing link with it (`None`: the
/// caller knows it already).
async fn candidate(
    ctx: &AppContext,
    provider: Option<&str>,
    account: Account,
) -> Result<Option<CandidateAccount>, StoreError> {
    let Ok(name) = FullName::new(
        &account.surname,
        &account.given_name,
        account.patronymic.as_deref(),
    ) else {
        tracing::error!(account = %account.id, "stored account has an unusable name; skipped");
        return Ok(None);
    };
    let region = ctx
        .store
        .account_region(account.id)
        .await?
        .and_then(|code| u16::try_from(code).ok())
        .and_then(|code| RegionCode::new(code).ok());
    let Some(region) = region else {
        tracing::error!(account = %account.id, "stored account has no school region; skipped");
        return Ok(None);
    };
    let linked_subject = match provider {
        Some(provider) => ctx
            .store
            .find_link_for_account(provider, account.id)
            .await?
            .map(|link| link.subject),
        None => None,
    };
    Ok(Some(CandidateAccount {
        account_id: account.id,
        name,
        snils: account.snils.as_deref().and_then(|s| Snils::parse(s).ok()),
        birth_date: account.birth_date,
        region,
        linked_subject,
    }))
}
