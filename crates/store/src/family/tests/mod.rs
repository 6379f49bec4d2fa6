//! The family queries against a fresh, migrated database: a SQLite file in
//! a temporary directory, or a new PostgreSQL database when
//! `ESIA_LINK_TEST_DATABASE_URL` is set. Either is removed afterwards.
//!
//! Every test starts from [`family`]: a region, a school, a parent persona
//! with two children (both links proposed), another parent at the same
//! school and a trusted person's account, all written by the store's own
//! insert functions. The tests are grouped as the queries are.

mod access;
mod invitations;
mod notifications;
mod relationships;
mod trusted;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::roster::{RosterPerson, RosterRole};
use domain::{FullName, Snils};
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::test_db::TestDb;
use crate::{to_time, NewSchool, Region, Store};

/// The parent persona's SNILS (a valid check number).
const PARENT_SNILS: &str = "11223344595";
const START_MS: i64 = 1_750_000_000_000;

/// `minutes` after the tests' start of time, to the millisecond as stored.
fn at(minutes: i64) -> DateTime<Utc> {
    to_time(START_MS + minutes * 60_000)
}

/// The people every test starts from. `link` and `sister_link` are the
/// school's proposed links of `parent` to `pupil` and `sister`.
struct Family {
    store: Store,
    school: Uuid,
    parent: Uuid,
    pupil: Uuid,
    sister: Uuid,
    stranger: Uuid,
    grandma: Uuid,
    link: Uuid,
    sister_link: Uuid,
    // Last: the store's pool goes before its database.
    _db: TestDb,
}

fn roster_person(
    row: u64,
    key: &str,
    role: RosterRole,
    (surname, given, patronymic): (&str, &str, &str),
    snils: Option<&str>,
    class_name: Option<&str>,
) -> RosterPerson {
    RosterPerson {
        row,
        key: key.to_string(),
        role,
        name: FullName::new(surname, given, Some(patronymic)).expect("name"),
        birth_date: NaiveDate::from_ymd_opt(1990 + row as i32, 3, 14).expect("date"),
        snils: snils.map(|s| Snils::parse(s).expect("snils")),
        class_name: class_name.map(str::to_string),
        children: Vec::new(),
        login: None,
    }
}

fn trusted_person(subject: &str, phone: Option<&str>) -> NewTrustedAccount {
    NewTrustedAccount {
        surname: "Петрова".into(),
        given_name: "Галина".into(),
        patronymic: Some("Ивановна".into()),
        birth_date: NaiveDate::from_ymd_opt(1956, 1, 2),
        snils: Some("20130140160".into()),
        verified_phone: phone.map(str::to_string),
        provider: "esia".into(),
        subject: subject.into(),
        tier: "verified".into(),
    }
}

async fn family() -> Family {
    let db = TestDb::fresh().await;
    let store = Store::connect(&db.url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
        .upsert_region(&Region {
            code: 77,
            name_ru: "Москва".into(),
            name_en: "Moscow".into(),
            esia_enabled: true,
        })
        .await
        .expect("region");
    let school = store
        .create_school(
            &NewSchool {
                region_code: 77,
                name: "Школа № 1".into(),
            },
            "test",
        )
        .await
        .expect("school")
        .id;
    let people = [
        roster_person(
            1,
            "p1",
            RosterRole::Parent,
            ("Новикова", "Анна", "Петровна"),
            Some(PARENT_SNILS),
            None,
        ),
        roster_person(
            2,
            "c1",
            RosterRole::Pupil,
            ("Новиков", "Максим", "Андреевич"),
            None,
            Some("5А"),
        ),
        roster_person(
            3,
            "c2",
            RosterRole::Pupil,
            ("Новикова", "Дарья", "Андреевна"),
            None,
            Some("2Б"),
        ),
        roster_person(
            4,
            "p2",
            RosterRole::Parent,
            ("Соколов", "Илья", "Ильич"),
            None,
            None,
        ),
    ];
    store
        .upsert_roster_batch(school, &people, "test")
        .await
        .expect("roster");
    let ids: HashMap<String, Uuid> = store
        .school_people(school, None, None, 100)
        .await
        .expect("people")
        .into_iter()
        .filter_map(|p| Some((p.key?, p.id)))
        .collect();
    let id = |key: &str| *ids.get(key).expect("a roster key");
    let pairs = [("p1", "c1"), ("p1", "c2")].map(|(p, c)| (p.to_string(), c.to_string()));
    let added = store
        .propose_relationships(school, &pairs, "test")
        .await
        .expect("propose");
    assert_eq!(added, 2);
    let grandma = store
        .create_trusted_account(&trusted_person("grandma", None), at(0), |_| Vec::new())
        .await
        .expect("trusted account");
    let links = store
        .relationships_for_viewer(id("p1"), None)
        .await
        .expect("links");
    let link_to = |pupil: Uuid| {
        links
            .iter()
            .find(|r| r.pupil.id == pupil)
            .map(|r| r.id)
            .expect("a proposed link")
    };
    Family {
        school,
        parent: id("p1"),
        pupil: id("c1"),
        sister: id("c2"),
        stranger: id("p2"),
        grandma,
        link: link_to(id("c1")),
        sister_link: link_to(id("c2")),
        store,
        _db: db,
    }
}

fn notice(account: Uuid, kind: &str, subject: impl ToString, minute: i64) -> NewNotification {
    NewNotification {
        account_id: account,
        kind: kind.to_string(),
        subject_id: subject.to_string(),
        params: json!({ "minute": minute }),
        created_at: at(minute),
    }
}

impl Family {
    /// The audit actions about one record, oldest first.
    async fn audit(&self, kind: &str, id: impl ToString) -> Vec<String> {
        self.store
            .audit_for_target(kind, &id.to_string())
            .await
            .expect("audit")
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(self.store.pool())
            .await
            .expect("count")
    }

    /// A pending invitation by `parent` for `pupil` (through `link`),
    /// matched by `hash`, expiring at minute `expires`.
    async fn invite(&self, pupil: Uuid, link: Uuid, hash: &str, expires: i64) -> Uuid {
        let id = Uuid::new_v4();
        self.store
            .insert_invitation(
                &NewInvitation {
                    id,
                    inviter_id: self.parent,
                    pupil_id: pupil,
                    relationship_id: link,
                    invitee_surname: "Петрова".into(),
                    match_kind: "snils".into(),
                    match_hash: hash.into(),
                    hint: "…60".into(),
                    services: "diary,marks".into(),
                    created_at: at(1),
                    expires_at: at(expires),
                },
                &format!("account:{}", self.parent),
                &[],
            )
            .await
            .expect("insert invitation");
        id
    }

    async fn change(&self, change: &InvitationChange, told: &[NewNotification]) -> bool {
        self.store
            .change_invitation(change, "test", told)
            .await
            .expect("change invitation")
    }

    async fn invitation(&self, id: Uuid) -> InvitationRecord {
        self.store
            .invitation(id)
            .await
            .expect("read invitation")
            .expect("an invitation")
    }
}

fn accept(id: Uuid, grantee: Uuid, minute: i64, opens: i64) -> InvitationChange {
    InvitationChange {
        id,
        from_status: "pending".into(),
        status: "accepted".into(),
        grantee_id: Some(grantee),
        decided_at: Some(at(minute)),
        opens_at: Some(at(opens)),
        revoked_at: None,
        revoked_by: None,
    }
}

/// What a change may write to an invitation.
fn state(i: &InvitationRecord) -> (String, Option<Uuid>, [Option<DateTime<Utc>>; 3]) {
    (
        i.status.clone(),
        i.grantee_id,
        [i.decided_at, i.opens_at, i.revoked_at],
    )
}
