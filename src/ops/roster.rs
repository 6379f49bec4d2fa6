//! Seeding schools and accounts from a roster file (the demo roster now;
//! school CSV import builds on the same validation later).

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::name::FullName;
use crate::domain::snils::Snils;
use crate::store::{NewAccount, NewSchool, Store};

pub const DEMO_ROSTER: &str = include_str!("../../config/demo-roster.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roster {
    #[serde(default)]
    pub school: Vec<RosterSchool>,
    #[serde(default)]
    pub account: Vec<RosterAccount>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterSchool {
    pub key: String,
    pub region: u16,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterAccount {
    pub school: String,
    pub role: String,
    pub surname: String,
    pub given_name: String,
    #[serde(default)]
    pub patronymic: Option<String>,
    #[serde(default)]
    pub birth_date: Option<NaiveDate>,
    #[serde(default)]
    pub snils: Option<String>,
    #[serde(default)]
    pub login: Option<String>,
    /// An operator role for the /ops console (`support`, `privileged_support`).
    #[serde(default)]
    pub operator: Option<String>,
}

#[derive(Debug, Default)]
pub struct Seeded {
    pub schools: usize,
    pub accounts: usize,
}

/// Validates the whole roster first, then writes it in one transaction: a
/// bad line, or a failure halfway, leaves the database untouched.
pub async fn seed(store: &Store, text: &str, actor: &str) -> anyhow::Result<Seeded> {
    let roster: Roster = toml::from_str(text)?;
    let mut accounts = Vec::with_capacity(roster.account.len());
    for (index, a) in roster.account.iter().enumerate() {
        let line = index + 1;
        FullName::new(&a.surname, &a.given_name, a.patronymic.as_deref())
            .map_err(|e| anyhow::anyhow!("account {line}: {e}"))?;
        if let Some(role) = &a.operator {
            if !matches!(role.as_str(), "support" | "privileged_support") {
                anyhow::bail!("account {line}: unknown operator role {role:?}");
            }
        }
        let snils = match &a.snils {
            Some(raw) => Some(
                Snils::parse(raw)
                    .map_err(|e| anyhow::anyhow!("account {line}: SNILS: {e}"))?
                    .digits()
                    .to_string(),
            ),
            None => None,
        };
        if !roster.school.iter().any(|s| s.key == a.school) {
            anyhow::bail!("account {line}: unknown school {:?}", a.school);
        }
        accounts.push((a, snils));
    }
    let schools: Vec<NewSchool> = roster
        .school
        .iter()
        .map(|school| NewSchool {
            region_code: i64::from(school.region),
            name: school.name.clone(),
        })
        .collect();
    let rows: Vec<(usize, NewAccount)> = accounts
        .iter()
        .map(|(a, snils)| {
            let school = roster
                .school
                .iter()
                .position(|s| s.key == a.school)
                .unwrap_or_default();
            let account = NewAccount {
                school_id: None,
                role: a.role.clone(),
                surname: a.surname.clone(),
                given_name: a.given_name.clone(),
                patronymic: a.patronymic.clone(),
                birth_date: a.birth_date,
                snils: snils.clone(),
                login: a.login.clone(),
                password_hash: None,
                status: "pending".into(),
                email: None,
                phone: None,
            };
            (school, account)
        })
        .collect();
    let ids = store.create_roster(&schools, &rows, actor).await?;
    for ((a, _), id) in accounts.iter().zip(&ids) {
        if let Some(role) = &a.operator {
            store
                .grant_operator(*id, role, actor, "operator listed in the roster")
                .await?;
        }
    }
    Ok(Seeded {
        schools: roster.school.len(),
        accounts: accounts.len(),
    })
}
