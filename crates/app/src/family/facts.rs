//! The stored rows as the family rules read them, and the JSON a notification keeps.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

use super::views::{NoticeKind, Side};
use crate::shared::Session;
use domain::access::{
    GrantFact, InvitationFacts, InvitationStatus, PersonFacts, RelationshipStatus, ServiceSet,
};
use domain::name::FullName;
use domain::roster::Column;
use store::{GrantRow, InvitationRecord, NewNotification, PersonBrief, RelationshipRecord};

pub(super) fn person_facts(p: &PersonBrief) -> PersonFacts {
    PersonFacts {
        name: FullName::new(&p.surname, &p.given_name, p.patronymic.as_deref()).ok(),
        birth_date: p.birth_date,
        snils: p.snils.clone(),
    }
}

pub(super) fn invitation_facts(i: &InvitationRecord) -> InvitationFacts {
    InvitationFacts {
        status: InvitationStatus::parse(&i.status).unwrap_or(InvitationStatus::Revoked),
        expires_at: i.expires_at,
        opens_at: i.opens_at,
    }
}

pub(super) fn grant_fact(row: &GrantRow) -> GrantFact {
    GrantFact {
        invitation: InvitationFacts {
            status: InvitationStatus::parse(&row.status).unwrap_or(InvitationStatus::Revoked),
            expires_at: row.expires_at,
            opens_at: row.opens_at,
        },
        services: ServiceSet::parse_list(&row.services),
        parent_link_confirmed: row.relationship_status == "confirmed",
    }
}

pub(super) fn relationship_status(text: &str) -> RelationshipStatus {
    RelationshipStatus::parse(text).unwrap_or(RelationshipStatus::Revoked)
}

pub(super) fn ms(t: Option<DateTime<Utc>>) -> serde_json::Value {
    t.map(|t| json!(t.timestamp_millis()))
        .unwrap_or(serde_json::Value::Null)
}

pub(super) fn param_time(params: &serde_json::Value, key: &str) -> Option<DateTime<Utc>> {
    params
        .get(key)
        .and_then(|v| v.as_i64())
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
}

pub(super) fn param_str(params: &serde_json::Value, key: &str) -> Option<String> {
    params.get(key).and_then(|v| v.as_str()).map(str::to_string)
}

/// A list of roster column codes; unknown codes are left out.
pub(super) fn param_columns(params: &serde_json::Value, key: &str) -> Vec<Column> {
    let codes = params.get(key).and_then(|v| v.as_array());
    codes
        .into_iter()
        .flatten()
        .filter_map(|code| code.as_str().and_then(Column::from_code))
        .collect()
}

/// The params every invitation notice carries.
pub(super) fn invitation_params(i: &InvitationRecord, side: Side) -> serde_json::Value {
    json!({
        "side": side.code(),
        "pupil": i.pupil_name,
        "inviter": i.inviter_name,
        "invitee": format!("{} ({})", i.invitee_surname, i.hint),
        "grantee": i.grantee_name,
        "services": i.services,
        "opens_at": ms(i.opens_at),
        "expires_at": ms(Some(i.expires_at)),
    })
}

pub(super) fn notice(
    account: Uuid,
    kind: NoticeKind,
    subject: Uuid,
    params: serde_json::Value,
    at: DateTime<Utc>,
) -> NewNotification {
    NewNotification {
        account_id: account,
        kind: kind.code().to_string(),
        subject_id: subject.to_string(),
        params,
        created_at: at,
    }
}

pub(super) fn actor_of(session: &Session) -> String {
    format!("account:{}", session.data.account_id)
}

/// Everything the sync step found, reused to show the current state of
/// the notifications' subjects.
pub(super) struct Found {
    pub(super) relationships: HashMap<Uuid, (RelationshipRecord, bool)>,
    pub(super) invitations: HashMap<Uuid, InvitationRecord>,
}
