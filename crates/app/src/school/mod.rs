//! The school side: schools, per-school API tokens and one-time activation
//! codes. Token and code plaintexts exist only in the value returned to the
//! caller who created them; the store keeps HMACs.

pub mod console;
pub mod jobs;
pub mod roster;

use base64::Engine;
use chrono::Duration;
use rand::RngCore;
use uuid::Uuid;

use crate::school::roster::WriteBehind;
use crate::{AppError, Schools};
use domain::code::ActivationCode;
use store::{CodeTarget, NewSchool, School};

pub use store::CodeScope;

/// Codes issued per transaction. The index of code hashes is written at
/// random places; a bigger transaction writes each of its pages once for
/// more codes (a million codes on SQLite: 28 s with 5000, 45 s with 500).
/// SQLite's write lock is held for ~0.15 s per batch.
const CODE_BATCH: i64 = 5000;
const TOKEN_PREFIX: &str = "elk_";

/// A code as the issuing response carries it, with what a sheet prints.
pub struct IssuedCode {
    pub target: CodeTarget,
    pub code: ActivationCode,
    /// A parent's children as the sheet names them («Иванов Пётр, 5А»).
    pub children: Vec<String>,
}

impl IssuedCode {
    /// «Новиков Максим Андреевич»
    pub fn full_name(&self) -> String {
        let t = &self.target;
        match &t.patronymic {
            Some(p) => format!("{} {} {p}", t.surname, t.given_name),
            None => format!("{} {}", t.surname, t.given_name),
        }
    }
}

impl Schools<'_> {
    pub async fn create_school(
        &self,
        region_code: i64,
        name: &str,
        actor: &str,
    ) -> Result<School, AppError> {
        Ok(self
            .store()
            .create_school(
                &NewSchool {
                    region_code,
                    name: name.trim().to_string(),
                },
                actor,
            )
            .await?)
    }

    pub async fn get(&self, id: Uuid) -> Result<School, AppError> {
        Ok(self.store().get_school(id).await?)
    }

    /// A new API token for a school; the plaintext is returned once.
    pub async fn create_school_token(
        &self,
        school_id: Uuid,
        label: &str,
        actor: &str,
    ) -> Result<String, AppError> {
        self.store().get_school(school_id).await?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let hash = self.lookup_hash("school_token", &token);
        self.store()
            .add_school_token(school_id, &hash, label, actor)
            .await?;
        Ok(token)
    }

    /// The school a bearer token acts for; `Forbidden` for anything else.
    pub async fn school_for_token(&self, token: &str) -> Result<Uuid, AppError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Err(AppError::Forbidden);
        }
        let hash = self.lookup_hash("school_token", token);
        self.store()
            .school_for_token(&hash)
            .await?
            .ok_or(AppError::Forbidden)
    }

    /// Issues a new code to every pending account in `scope` (revoking its
    /// earlier codes), `CODE_BATCH` at a time; each batch's plaintexts go to
    /// `sink` and nowhere else. Returns how many were issued.
    pub async fn issue_codes(
        &self,
        school_id: Uuid,
        scope: &CodeScope,
        days: u32,
        actor: &str,
        sink: &mut (dyn FnMut(&[IssuedCode]) + Send),
    ) -> Result<u64, AppError> {
        self.store().get_school(school_id).await?;
        let expires_at = self.now() + Duration::days(i64::from(days.clamp(1, 366)));
        // Each batch is stored on its own task while the next one's targets
        // are read (on PostgreSQL, batches are stored side by side); its
        // plaintexts go to `sink`, in order, once it is committed.
        let mut storing: WriteBehind<Vec<IssuedCode>> = WriteBehind::new(self.store());
        let mut after = None;
        let mut issued = 0u64;
        loop {
            let targets = self
                .store()
                .code_targets(school_id, scope, after, CODE_BATCH)
                .await?;
            let Some(last) = targets.last() else {
                break;
            };
            if let Some(stored) = storing.ready().await? {
                issued += stored.len() as u64;
                sink(&stored);
            }
            after = Some(last.account_id);
            let mut children = self.children_lines(&targets).await?;
            let batch: Vec<IssuedCode> = targets
                .into_iter()
                .map(|target| IssuedCode {
                    children: children.remove(&target.account_id).unwrap_or_default(),
                    target,
                    code: ActivationCode::generate(),
                })
                .collect();
            let hashes: Vec<(Uuid, String)> = batch
                .iter()
                .map(|c| (c.target.account_id, self.codes().hash(&c.code)))
                .collect();
            let store = self.store().clone();
            let actor = actor.to_string();
            storing.start(async move {
                store.issue_codes(&hashes, expires_at, &actor).await?;
                Ok(batch)
            });
        }
        while let Some(stored) = storing.next().await? {
            issued += stored.len() as u64;
            sink(&stored);
        }
        Ok(issued)
    }
}

impl Schools<'_> {
    /// The children of the parents among `targets`, as their sheets name
    /// them, by parent.
    async fn children_lines(
        &self,
        targets: &[CodeTarget],
    ) -> Result<std::collections::HashMap<Uuid, Vec<String>>, AppError> {
        let parents: Vec<Uuid> = targets
            .iter()
            .filter(|t| t.role == "parent")
            .map(|t| t.account_id)
            .collect();
        let mut lines: std::collections::HashMap<Uuid, Vec<String>> =
            std::collections::HashMap::new();
        if parents.is_empty() {
            return Ok(lines);
        }
        for child in self.store().children_of(&parents).await? {
            let name = match &child.patronymic {
                Some(p) => format!("{} {} {p}", child.surname, child.given_name),
                None => format!("{} {}", child.surname, child.given_name),
            };
            let line = match &child.class_name {
                Some(class) => format!("{name}, {class}"),
                None => name,
            };
            lines.entry(child.parent_id).or_default().push(line);
        }
        Ok(lines)
    }

    /// A school's people, `limit` (≤ 1000) at a time after `after`.
    pub async fn school_people(
        &self,
        school_id: Uuid,
        class_name: Option<&str>,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<store::SchoolPerson>, AppError> {
        Ok(self
            .store()
            .school_people(school_id, class_name, after, limit.clamp(1, 1000))
            .await?)
    }
}
