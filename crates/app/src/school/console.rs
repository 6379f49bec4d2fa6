//! The school's own console (`/school`): its administrator — an account
//! with the `school_admin` operator role, bound to one school — sees the
//! school's classes and people, uploads rosters (checked first, written on
//! request), issues codes and class packets, and corrects data. Everything
//! is limited to the administrator's school: another school's class or
//! person is `NotFound`.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use bytes::Bytes;
use uuid::Uuid;

use crate::school::roster::{
    row_labels, upload_limits, ImportOptions, ImportReport, Progress, RowLabel, SheetSource,
};
use crate::school::IssuedCode;
use crate::shared::OperatorRole;
use crate::{AppError, Schools};
use store::{
    ChildOf, ClassSummary, CodeRecord, CodeScope, FederatedLink, MemberState, SchoolPerson,
};

/// How long an uploaded roster waits for "write".
pub(crate) const UPLOAD_TTL: Duration = Duration::from_secs(3600);
/// People a search looks through (a big school has a few thousand).
const SEARCH_SCAN: usize = 20_000;
/// Matches a search shows.
const SEARCH_SHOWN: usize = 200;

/// The administrator behind a request, and their school.
#[derive(Debug, Clone)]
pub struct SchoolAdmin {
    pub school_id: Uuid,
    pub school_name: String,
    /// `operator:{account id}`, as the audit log names them.
    pub actor: String,
    pub csrf: String,
}

/// A pupil or parent of a class with where they stand; a parent's
/// children in the class.
#[derive(Debug, Clone)]
pub struct Member {
    pub state: MemberState,
    pub children: Vec<String>,
}

/// A person's page.
pub struct PersonView {
    pub account: store::Account,
    pub class_name: Option<String>,
    pub links: Vec<FederatedLink>,
    pub codes: Vec<CodeRecord>,
    /// A parent's children.
    pub children: Vec<ChildOf>,
    /// A pupil's parents (names in the `ChildOf` fields).
    pub parents: Vec<ChildOf>,
}

/// A checked upload: the report and, per problem row, its key and name.
pub struct CheckedUpload {
    pub report: ImportReport,
    pub labels: HashMap<u64, RowLabel>,
}

fn upload_key(school_id: Uuid, id: &str) -> String {
    format!("school-upload:{school_id}:{id}")
}

impl Schools<'_> {
    /// The school administrator whose session `cookie` is: `NotLoggedIn`
    /// without a session, `Forbidden` for anyone else (support staff too).
    pub async fn admin(&self, cookie: Option<&str>) -> Result<SchoolAdmin, AppError> {
        let operator = self.console().operator(cookie).await?;
        self.as_admin(operator.role, operator.actor, operator.csrf)
            .await
    }

    /// The administrator behind a form: session, CSRF token, role.
    pub async fn acting_admin(
        &self,
        cookie: Option<&str>,
        csrf: &str,
    ) -> Result<SchoolAdmin, AppError> {
        let operator = self.console().acting_operator(cookie, csrf).await?;
        self.as_admin(operator.role, operator.actor, operator.csrf)
            .await
    }

    async fn as_admin(
        &self,
        role: OperatorRole,
        actor: String,
        csrf: String,
    ) -> Result<SchoolAdmin, AppError> {
        let OperatorRole::SchoolAdmin { school_id } = role else {
            return Err(AppError::Forbidden);
        };
        let school = self.store().get_school(school_id).await?;
        Ok(SchoolAdmin {
            school_id,
            school_name: school.name,
            actor,
            csrf,
        })
    }

    pub async fn classes(&self, admin: &SchoolAdmin) -> Result<Vec<ClassSummary>, AppError> {
        Ok(self.store().school_classes(admin.school_id).await?)
    }

    /// A class's pupils and their parents; a class the school does not
    /// have is `NotFound`.
    pub async fn class_members(
        &self,
        admin: &SchoolAdmin,
        class_name: &str,
    ) -> Result<Vec<Member>, AppError> {
        let states = self
            .store()
            .class_members(admin.school_id, class_name)
            .await?;
        if !states.iter().any(|s| s.role == "pupil") {
            return Err(AppError::NotFound);
        }
        let parents: Vec<Uuid> = states
            .iter()
            .filter(|s| s.role == "parent")
            .map(|s| s.id)
            .collect();
        let mut children: HashMap<Uuid, Vec<String>> = HashMap::new();
        for child in self.store().children_of(&parents).await? {
            if child.class_name.as_deref() == Some(class_name) {
                children
                    .entry(child.parent_id)
                    .or_default()
                    .push(format!("{} {}", child.surname, child.given_name));
            }
        }
        Ok(states
            .into_iter()
            .map(|state| Member {
                children: children.remove(&state.id).unwrap_or_default(),
                state,
            })
            .collect())
    }

    /// People whose name, login or class contains `query` (any case).
    pub async fn search_people(
        &self,
        admin: &SchoolAdmin,
        query: &str,
    ) -> Result<Vec<SchoolPerson>, AppError> {
        let needle = query.trim().to_lowercase();
        if needle.is_empty() {
            return Ok(Vec::new());
        }
        let words: Vec<&str> = needle.split_whitespace().collect();
        let mut found = Vec::new();
        let mut after = None;
        let mut scanned = 0;
        while scanned < SEARCH_SCAN && found.len() < SEARCH_SHOWN {
            let page = self
                .store()
                .school_people(admin.school_id, None, after, 1000)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            scanned += page.len();
            for person in page {
                let text = format!(
                    "{} {} {} {} {}",
                    person.surname,
                    person.given_name,
                    person.patronymic.as_deref().unwrap_or_default(),
                    person.login.as_deref().unwrap_or_default(),
                    person.class_name.as_deref().unwrap_or_default(),
                )
                .to_lowercase();
                if words.iter().all(|w| text.contains(w)) {
                    found.push(person);
                }
            }
        }
        found.sort_by(|a, b| (&a.surname, &a.given_name).cmp(&(&b.surname, &b.given_name)));
        found.truncate(SEARCH_SHOWN);
        Ok(found)
    }

    /// A person of the school with their links, codes and relationships;
    /// anyone else is `NotFound`.
    pub async fn person(&self, admin: &SchoolAdmin, id: Uuid) -> Result<PersonView, AppError> {
        let account = self
            .console()
            .account_in_scope(id, Some(admin.school_id))
            .await?;
        let class_name = self.store().class_of(id).await?;
        Ok(PersonView {
            links: self.store().links_for_account(id).await?,
            codes: self.store().codes_of(id).await?,
            children: self.store().children_of(&[id]).await?,
            parents: self.store().parents_of(id).await?,
            class_name,
            account,
        })
    }

    /// Parent-child relationships of the school waiting for the school to
    /// confirm them, with the parent's name.
    pub async fn waiting_confirmations(
        &self,
        admin: &SchoolAdmin,
    ) -> Result<Vec<(ChildOf, String)>, AppError> {
        Ok(self
            .store()
            .proposed_relationships(admin.school_id, 200)
            .await?)
    }

    /// Issues codes (a class's pupils and parents, or one person, revoking
    /// their earlier codes) and returns them for the packet. One person of
    /// another school is `NotFound`; a class without pupils too.
    pub async fn issue_packet(
        &self,
        admin: &SchoolAdmin,
        scope: &CodeScope,
    ) -> Result<Vec<IssuedCode>, AppError> {
        if let Some(account) = scope.account_id {
            self.console()
                .account_in_scope(account, Some(admin.school_id))
                .await?;
        }
        if let Some(class) = &scope.class_name {
            if !self.classes(admin).await?.iter().any(|c| &c.name == class) {
                return Err(AppError::NotFound);
            }
        }
        let days = self.config().activation.code_days;
        let mut issued = Vec::new();
        self.issue_codes(admin.school_id, scope, days, &admin.actor, &mut |batch| {
            issued.extend(batch.iter().map(|c| IssuedCode {
                target: c.target.clone(),
                code: c.code.clone(),
                children: c.children.clone(),
            }))
        })
        .await?;
        // Pupils first, then parents, each by name: the order the cover
        // page lists and the teacher hands out.
        issued.sort_by(|a, b| {
            (
                a.target.role != "pupil",
                &a.target.surname,
                &a.target.given_name,
            )
                .cmp(&(
                    b.target.role != "pupil",
                    &b.target.surname,
                    &b.target.given_name,
                ))
        });
        Ok(issued)
    }

    /// Keeps an uploaded file for the "write" that may follow its check;
    /// returns its id. The in-process store keeps these very bytes, and
    /// hands them out shared: the upload is in memory once, however many
    /// checks and jobs read it.
    pub async fn keep_upload(&self, admin: &SchoolAdmin, bytes: Bytes) -> Result<String, AppError> {
        let id = Uuid::new_v4().simple().to_string();
        self.ephemeral()
            .put_shared(&upload_key(admin.school_id, &id), bytes, UPLOAD_TTL)
            .await
            .map_err(|e| AppError::Internal(format!("keeping an upload: {e}")))?;
        Ok(id)
    }

    /// An upload kept for this school; expired or another school's is
    /// `NotFound`.
    pub async fn kept_upload(&self, admin: &SchoolAdmin, id: &str) -> Result<Bytes, AppError> {
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::NotFound);
        }
        self.ephemeral()
            .get_shared(&upload_key(admin.school_id, id))
            .await
            .map_err(|e| AppError::Internal(format!("reading an upload: {e}")))?
            .ok_or(AppError::NotFound)
    }

    /// Checks an uploaded roster (nothing is written) within the configured
    /// limits.
    pub async fn check_upload(
        &self,
        admin: &SchoolAdmin,
        bytes: Bytes,
    ) -> Result<CheckedUpload, AppError> {
        self.run_upload(admin, bytes, true, false, &|_| {}).await
    }

    /// Writes a kept upload: all of it (only when every row is good), or
    /// its good rows. The upload is forgotten once written.
    pub async fn write_upload(
        &self,
        admin: &SchoolAdmin,
        id: &str,
        partial: bool,
    ) -> Result<CheckedUpload, AppError> {
        let bytes = self.kept_upload(admin, id).await?;
        let checked = self
            .run_upload(admin, bytes, false, partial, &|_| {})
            .await?;
        if checked.report.written {
            self.forget_upload(admin, id).await;
        }
        Ok(checked)
    }

    /// Drops a kept upload (once written).
    pub(crate) async fn forget_upload(&self, admin: &SchoolAdmin, id: &str) {
        let _ = self
            .ephemeral()
            .delete(&upload_key(admin.school_id, id))
            .await;
    }

    pub(crate) async fn run_upload(
        &self,
        admin: &SchoolAdmin,
        bytes: Bytes,
        dry_run: bool,
        partial: bool,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<CheckedUpload, AppError> {
        let source = SheetSource {
            bytes,
            limits: upload_limits(self.config()),
        };
        let options = ImportOptions { partial, dry_run };
        let report = self
            .import_roster(admin.school_id, &source, &options, &admin.actor, progress)
            .await?;
        let rows: BTreeSet<u64> = report.problems.iter().map(|p| p.row).collect();
        let labels = row_labels(&source, &rows);
        Ok(CheckedUpload { report, labels })
    }
}
