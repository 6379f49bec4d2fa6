//! Seeding schools and accounts from a roster file (the demo roster): the
//! schools are created, then each school's people go through the same
//! roster import a school's own file does.

use serde::Deserialize;
use serde_json::json;

use ::texts::prelude::*;
use app::school::roster::{BytesSource, ImportOptions, RosterFormat};
use app::App;
use i18n::Lang;
use store::{NewSchool, Store};

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
    pub birth_date: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub snils: Option<String>,
    #[serde(default)]
    pub login: Option<String>,
    /// An operator role: `support`, `privileged_support` (the /ops
    /// console) or `school_admin` (of the account's own school: /school).
    #[serde(default)]
    pub operator: Option<String>,
    /// A pupil's class (pupils without one are put in 1А).
    #[serde(default)]
    pub class: Option<String>,
    /// A parent's children, by their logins.
    #[serde(default)]
    pub children: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Seeded {
    pub schools: usize,
    pub accounts: usize,
}

/// Creates the roster's schools, imports each school's people through the
/// roster import (all checks, all or nothing per school) and grants the
/// operator roles it lists.
pub async fn seed(app: &App, store: &Store, text: &str, actor: &str) -> anyhow::Result<Seeded> {
    let roster: Roster = toml::from_str(text)?;
    for (index, a) in roster.account.iter().enumerate() {
        if !roster.school.iter().any(|s| s.key == a.school) {
            anyhow::bail!("account {}: unknown school {:?}", index + 1, a.school);
        }
        if let Some(role) = &a.operator {
            if !matches!(
                role.as_str(),
                "support" | "privileged_support" | "school_admin"
            ) {
                anyhow::bail!("account {}: unknown operator role {role:?}", index + 1);
            }
        }
    }
    let mut seeded = Seeded::default();
    for school in &roster.school {
        let created = store
            .create_school(
                &NewSchool {
                    region_code: i64::from(school.region),
                    name: school.name.clone(),
                },
                actor,
            )
            .await?;
        seeded.schools += 1;
        let rows: Vec<serde_json::Value> = roster
            .account
            .iter()
            .enumerate()
            .filter(|(_, a)| a.school == school.key)
            .map(|(index, a)| {
                json!({
                    "key": a.login.clone().unwrap_or_else(|| format!("row{}", index + 1)),
                    "role": a.role,
                    "surname": a.surname,
                    "given_name": a.given_name,
                    "patronymic": a.patronymic,
                    "birth_date": a.birth_date.map(|d| d.to_string()),
                    "snils": a.snils,
                    "class": a.class.clone().or_else(|| (a.role == "pupil").then(|| "1А".to_string())),
                    "children": a.children,
                    "login": a.login,
                })
            })
            .collect();
        let source = BytesSource {
            bytes: serde_json::to_vec(&rows)?,
            format: RosterFormat::Json,
        };
        let report = app
            .school()
            .import_roster(
                created.id,
                &source,
                &ImportOptions::default(),
                actor,
                &|_| {},
            )
            .await?;
        if !report.ok() {
            let mut lines: Vec<String> = report
                .problems
                .iter()
                .map(|p| p.describe(Lang::En))
                .collect();
            lines.extend(report.file_problem.map(|p| p.message(Lang::En)));
            anyhow::bail!("school {:?}: {}", school.key, lines.join("; "));
        }
        seeded.accounts += (report.created + report.updated) as usize;
    }
    for a in &roster.account {
        let (Some(role), Some(login)) = (&a.operator, &a.login) else {
            continue;
        };
        let account = store
            .find_account_by_login(login)
            .await?
            .ok_or_else(|| anyhow::anyhow!("operator {login:?} was not imported"))?;
        let reason = "operator listed in the roster";
        match (role.as_str(), account.school_id) {
            ("school_admin", Some(school)) => {
                store
                    .grant_school_admin(account.id, school, actor, reason)
                    .await?
            }
            ("school_admin", None) => anyhow::bail!("school admin {login:?} has no school"),
            _ => {
                store
                    .grant_operator(account.id, role, actor, reason)
                    .await?
            }
        }
    }
    Ok(seeded)
}
