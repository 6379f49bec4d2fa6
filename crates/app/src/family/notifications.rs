//! The notification centre and a parent's answer to a school's link.

use std::collections::hash_map::Entry;

use serde_json::json;
use uuid::Uuid;

use crate::access_cache::Invalidation;
use crate::shared::Session;
use crate::{AppError, Families};
use domain::access::{
    answer_relationship, invitation_state, Answer, FamilyRefusal, InvitationState,
    RelationshipStatus, ServiceSet,
};

use super::facts::*;
use super::views::*;

/// How many notifications the centre shows.
const NOTIFICATIONS_SHOWN: i64 = 100;

impl Families<'_> {
    /// The notification centre of the session's account, newest first.
    pub async fn notifications(&self, session: &Session) -> Result<NotificationCentre, AppError> {
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let mut found = self.sync_family(&viewer, now).await?;
        let records = self
            .store()
            .notifications_of(viewer.person.id, NOTIFICATIONS_SHOWN)
            .await?;
        let mut items = Vec::with_capacity(records.len());
        for n in records {
            let kind = NoticeKind::parse(&n.kind);
            let subject = Uuid::parse_str(&n.subject_id).ok();
            let p = &n.params;
            let side = match param_str(p, "side").as_deref() {
                Some("parent") => Some(Side::Parent),
                Some("invitee") => Some(Side::Invitee),
                Some("pupil") => Some(Side::Pupil),
                _ => None,
            };
            let mut item = NotificationItem {
                id: n.id,
                kind,
                side,
                read: n.read_at.is_some(),
                created_at: n.created_at,
                pupil: param_str(p, "pupil"),
                school: param_str(p, "school"),
                other: match side {
                    Some(Side::Invitee) => param_str(p, "inviter"),
                    Some(Side::Pupil) => param_str(p, "parent"),
                    _ => param_str(p, "grantee").or_else(|| param_str(p, "invitee")),
                },
                services: ServiceSet::parse_list(&param_str(p, "services").unwrap_or_default()),
                opens_at: param_time(p, "opens_at"),
                expires_at: param_time(p, "expires_at"),
                state: None,
                answer: None,
                corrected: param_columns(p, "fields"),
            };
            match (kind, subject) {
                (NoticeKind::RelationshipInvitation, Some(id)) => {
                    if let Some((r, addressed)) = found.relationships.get(&id) {
                        item.state = Some(r.status.clone());
                        if r.status == "proposed" && *addressed {
                            item.answer = Some(Answerable {
                                path: format!("/family/relationships/{id}"),
                            });
                        }
                    }
                }
                (NoticeKind::TrustedInvitation, Some(id)) => {
                    if let Entry::Vacant(slot) = found.invitations.entry(id) {
                        if let Some(i) = self.store().invitation(id).await? {
                            slot.insert(i);
                        }
                    }
                    if let Some(i) = found.invitations.get(&id) {
                        let state = invitation_state(&invitation_facts(i), now);
                        item.state = Some(state.code().to_string());
                        item.opens_at = i.opens_at;
                        if matches!(state, InvitationState::Pending { .. }) {
                            item.answer = Some(Answerable {
                                path: format!("/family/invitations/{id}"),
                            });
                        }
                    }
                }
                _ => {}
            }
            items.push(item);
        }
        Ok(NotificationCentre {
            unread: items.iter().filter(|i| !i.read).count(),
            items,
            zone: self.account().time_zone(viewer.region),
        })
    }

    /// Marks one notification read.
    pub async fn mark_notification_read(
        &self,
        session: &Session,
        csrf: &str,
        id: Uuid,
    ) -> Result<(), AppError> {
        self.check_csrf(session, csrf)?;
        let found = self
            .store()
            .mark_notification_read(session.data.account_id, id, self.now())
            .await?;
        if found {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The parent accepts or declines a school's link to a child.
    pub async fn answer_relationship(
        &self,
        session: &Session,
        csrf: &str,
        id: Uuid,
        answer: Answer,
    ) -> Result<Result<RelationshipStatus, FamilyRefusal>, AppError> {
        self.check_csrf(session, csrf)?;
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let r = self
            .store()
            .relationship(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let addressed = Self::addressed(&viewer, &r);
        let status = match answer_relationship(relationship_status(&r.status), addressed, answer) {
            Ok(status) => status,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let me = viewer.person.id;
        let told = if status == RelationshipStatus::Confirmed {
            vec![
                notice(
                    me,
                    NoticeKind::RelationshipConfirmed,
                    id,
                    json!({
                        "side": Side::Parent.code(),
                        "pupil": r.pupil.display_name(),
                        "school": r.pupil.school_name,
                    }),
                    now,
                ),
                notice(
                    r.pupil.id,
                    NoticeKind::RelationshipConfirmed,
                    id,
                    json!({
                        "side": Side::Pupil.code(),
                        "parent": viewer.person.display_name(),
                        "school": r.pupil.school_name,
                    }),
                    now,
                ),
            ]
        } else {
            Vec::new()
        };
        let changed = self
            .store()
            .answer_relationship(id, status.as_str(), me, now, &actor_of(session), &told)
            .await?;
        if !changed {
            return Ok(Err(FamilyRefusal::AlreadyAnswered));
        }
        // The answering account may gain a tie it did not have.
        self.access_changed(&[Invalidation::Pupil(r.pupil.id), Invalidation::Viewer(me)])
            .await;
        self.store()
            .mark_subject_read(me, &id.to_string(), now)
            .await?;
        Ok(Ok(status))
    }
}
