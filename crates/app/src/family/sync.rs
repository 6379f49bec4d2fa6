//! Work that time and others' actions leave for whoever looks first: expired invitations, invitations addressed to this person.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::access_cache::Invalidation;
use crate::{AppError, Families};
use domain::access::{invitation_state, InvitationState, InvitationStatus};
use store::{InvitationChange, InvitationRecord, NewNotification, ViewerRecord};

use super::facts::*;
use super::views::*;

impl Families<'_> {
    /// Writes what became due for this viewer: invitations addressed to
    /// them, invitations of theirs that expired, access that opened.
    pub(super) async fn sync_family(
        &self,
        viewer: &ViewerRecord,
        now: DateTime<Utc>,
    ) -> Result<Found, AppError> {
        let me = viewer.person.id;
        let mut due: Vec<NewNotification> = Vec::new();
        let mut relationships = HashMap::new();
        for r in self
            .store()
            .relationships_for_viewer(me, viewer.person.snils.as_deref())
            .await?
        {
            let addressed = Self::addressed(viewer, &r);
            if addressed && r.status == "proposed" {
                due.push(notice(
                    me,
                    NoticeKind::RelationshipInvitation,
                    r.id,
                    json!({
                        "side": Side::Parent.code(),
                        "pupil": r.pupil.display_name(),
                        "school": r.pupil.school_name,
                    }),
                    r.created_at,
                ));
            }
            relationships.insert(r.id, (r, addressed));
        }
        let hashes = self.viewer_hashes(viewer);
        let mut invitations = HashMap::new();
        let received = self
            .store()
            .invitations_for_invitee(Some(me), &hashes)
            .await?;
        let sent = self.store().invitations_sent_by(me).await?;
        for i in received.into_iter().chain(sent) {
            if invitations.contains_key(&i.id) {
                continue;
            }
            let mine = i.inviter_id == me;
            let addressed = self.is_invitee(viewer, &hashes, &i);
            if !mine && !addressed {
                continue;
            }
            match invitation_state(&invitation_facts(&i), now) {
                InvitationState::Pending { .. } if addressed && i.grantee_id.is_none() => {
                    due.push(notice(
                        me,
                        NoticeKind::TrustedInvitation,
                        i.id,
                        invitation_params(&i, Side::Invitee),
                        i.created_at,
                    ));
                }
                InvitationState::Expired if i.status == "pending" => {
                    self.expire(&i, now).await?;
                }
                InvitationState::Open { since } => {
                    let mut opened = vec![notice(
                        i.inviter_id,
                        NoticeKind::AccessOpened,
                        i.id,
                        invitation_params(&i, Side::Parent),
                        since,
                    )];
                    if let Some(grantee) = i.grantee_id {
                        opened.push(notice(
                            grantee,
                            NoticeKind::AccessOpened,
                            i.id,
                            invitation_params(&i, Side::Invitee),
                            since,
                        ));
                    }
                    self.store()
                        .record_access_opened(i.id, "system:clock", &opened)
                        .await?;
                }
                _ => {}
            }
            invitations.insert(i.id, i);
        }
        self.store().add_notifications(&due).await?;
        Ok(Found {
            relationships,
            invitations,
        })
    }

    /// Writes down an expiry nobody had noticed yet (audited, the parent
    /// told).
    pub(super) async fn expire(
        &self,
        i: &InvitationRecord,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let change = InvitationChange {
            id: i.id,
            from_status: "pending".into(),
            status: InvitationStatus::Expired.as_str().into(),
            grantee_id: None,
            decided_at: Some(now),
            opens_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        let told = [notice(
            i.inviter_id,
            NoticeKind::InvitationExpired,
            i.id,
            invitation_params(i, Side::Parent),
            i.expires_at,
        )];
        self.store()
            .change_invitation(&change, "system:clock", &told)
            .await?;
        self.access_changed(&[Invalidation::Pupil(i.pupil_id)])
            .await;
        Ok(())
    }
}
