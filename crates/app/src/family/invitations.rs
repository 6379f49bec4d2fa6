//! Trusted-person invitations: send, re-send, answer, revoke, and an invited person's first login claiming theirs.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::access_cache::Invalidation;
use crate::shared::{Session, TrustedClaimant};
use crate::{AppError, Families};
use domain::access::{
    invitation_state, may_invite, parse_invitation, plan_invitation, surname_matches, transition,
    Actor, FamilyRefusal, InvitationAction, InvitationState, InviterFacts, RelationshipStatus,
    ServiceSet, Transition,
};
use domain::snils::Snils;
use domain::tier::Tier;
use store::{
    InvitationChange, InvitationRecord, NewInvitation, NewNotification, NewTrustedAccount,
    StoreError, ViewerRecord,
};

use super::facts::*;
use super::views::*;

impl Families<'_> {
    pub(super) fn invitation_view(
        &self,
        i: &InvitationRecord,
        me: Uuid,
        now: DateTime<Utc>,
    ) -> InvitationView {
        let state = invitation_state(&invitation_facts(i), now);
        InvitationView {
            id: i.id,
            pupil_id: i.pupil_id,
            pupil: i.pupil_name.clone(),
            inviter: i.inviter_name.clone(),
            invitee: format!("{} ({})", i.invitee_surname, i.hint),
            grantee: i.grantee_name.clone(),
            services: ServiceSet::parse_list(&i.services),
            state,
            created_at: i.created_at,
            can_revoke: i.inviter_id == me && state.is_live(),
            can_reinvite: i.inviter_id == me && !state.is_live(),
        }
    }

    /// The parent's link to a child, as strong as it gets for this viewer.
    pub(super) async fn link_to(
        &self,
        viewer: &ViewerRecord,
        pupil: Uuid,
    ) -> Result<(Option<RelationshipStatus>, Option<Uuid>), AppError> {
        let me = viewer.person.id;
        let mut best: (Option<RelationshipStatus>, Option<Uuid>) = (None, None);
        for r in self
            .store()
            .relationships_for_viewer(me, viewer.person.snils.as_deref())
            .await?
        {
            if r.pupil.id != pupil {
                continue;
            }
            let held = r.holder_id == Some(me) || r.parent.id == me;
            let status = relationship_status(&r.status);
            if status == RelationshipStatus::Confirmed && held {
                return Ok((Some(status), Some(r.id)));
            }
            if Self::addressed(viewer, &r) && best.0.is_none() {
                best = (Some(status), Some(r.id));
            }
        }
        Ok(best)
    }

    /// A parent invites a trusted person for some services of one child.
    pub async fn invite_trusted(
        &self,
        session: &Session,
        csrf: &str,
        form: &InviteForm,
    ) -> Result<Result<InvitationView, FamilyRefusal>, AppError> {
        self.check_csrf(session, csrf)?;
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let pupil = form.pupil_id.ok_or(AppError::NotFound)?;
        let is_trusted = viewer.person.role == "trusted";
        let (link, relationship) = self.link_to(&viewer, pupil).await?;
        if let Err(refusal) = may_invite(is_trusted, link) {
            return Ok(Err(refusal));
        }
        let request = match parse_invitation(&form.surname, &form.snils, &form.phone, form.services)
        {
            Ok(request) => request,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let hash_kind = match request.contact.kind() {
            "snils" => "invitee_snils",
            _ => "invitee_phone",
        };
        let hash = self.lookup_hash(hash_kind, request.contact.value());
        let inviter = InviterFacts {
            is_trusted_account: is_trusted,
            link,
            invites_self: self.viewer_hashes(&viewer).contains(&hash),
            already_invited: self
                .store()
                .live_invitation_exists(pupil, &hash, now)
                .await?,
        };
        let expires_at = match plan_invitation(&inviter, now, &self.family_policy()) {
            Ok(expires_at) => expires_at,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(relationship_id) = relationship else {
            return Ok(Err(FamilyRefusal::NotConfirmedParent));
        };
        let invitation = NewInvitation {
            id: Uuid::new_v4(),
            inviter_id: viewer.person.id,
            pupil_id: pupil,
            relationship_id,
            invitee_surname: request.surname.clone(),
            match_kind: request.contact.kind().to_string(),
            match_hash: hash,
            hint: request.contact.hint(),
            services: request.services.to_list(),
            created_at: now,
            expires_at,
        };
        self.store_invitation(&invitation, session).await
    }

    pub(super) async fn store_invitation(
        &self,
        invitation: &NewInvitation,
        session: &Session,
    ) -> Result<Result<InvitationView, FamilyRefusal>, AppError> {
        let now = invitation.created_at;
        let me = session.data.account_id;
        // The parent's own notice carries the names the list shows.
        let pupil = self.store().family_viewer(invitation.pupil_id).await?;
        let sent = notice(
            me,
            NoticeKind::InvitationSent,
            invitation.id,
            json!({
                "side": Side::Parent.code(),
                "pupil": pupil.person.display_name(),
                "invitee": format!("{} ({})", invitation.invitee_surname, invitation.hint),
                "services": invitation.services,
                "expires_at": invitation.expires_at.timestamp_millis(),
            }),
            now,
        );
        self.store()
            .insert_invitation(invitation, &actor_of(session), &[sent])
            .await?;
        self.access_changed(&[Invalidation::Pupil(invitation.pupil_id)])
            .await;
        let stored = self
            .store()
            .invitation(invitation.id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Ok(self.invitation_view(&stored, me, now)))
    }

    /// Sends a revoked, declined or expired invitation again (the contact
    /// is kept only as a hash, so the parent need not type it again).
    pub async fn reinvite(
        &self,
        session: &Session,
        csrf: &str,
        id: Uuid,
    ) -> Result<Result<InvitationView, FamilyRefusal>, AppError> {
        self.check_csrf(session, csrf)?;
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let old = self
            .store()
            .invitation(id)
            .await?
            .ok_or(AppError::NotFound)?;
        if old.inviter_id != viewer.person.id {
            return Ok(Err(FamilyRefusal::NotYourInvitation));
        }
        let (link, relationship) = self.link_to(&viewer, old.pupil_id).await?;
        let inviter = InviterFacts {
            is_trusted_account: viewer.person.role == "trusted",
            link,
            invites_self: false,
            already_invited: self
                .store()
                .live_invitation_exists(old.pupil_id, &old.match_hash, now)
                .await?,
        };
        let expires_at = match plan_invitation(&inviter, now, &self.family_policy()) {
            Ok(expires_at) => expires_at,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(relationship_id) = relationship else {
            return Ok(Err(FamilyRefusal::NotConfirmedParent));
        };
        let invitation = NewInvitation {
            id: Uuid::new_v4(),
            inviter_id: viewer.person.id,
            pupil_id: old.pupil_id,
            relationship_id,
            invitee_surname: old.invitee_surname.clone(),
            match_kind: old.match_kind.clone(),
            match_hash: old.match_hash.clone(),
            hint: old.hint.clone(),
            services: old.services.clone(),
            created_at: now,
            expires_at,
        };
        self.store_invitation(&invitation, session).await
    }

    /// The invitee accepts or declines; the inviter revokes.
    pub async fn act_on_invitation(
        &self,
        session: &Session,
        csrf: &str,
        id: Uuid,
        action: InvitationAction,
    ) -> Result<Result<InvitationState, FamilyRefusal>, AppError> {
        self.check_csrf(session, csrf)?;
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let i = self
            .store()
            .invitation(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let me = viewer.person.id;
        let hashes = self.viewer_hashes(&viewer);
        let actor = if i.inviter_id == me {
            Actor::Inviter
        } else if self.is_invitee(&viewer, &hashes, &i) {
            Actor::Invitee
        } else {
            Actor::Stranger
        };
        let facts = invitation_facts(&i);
        let step = match transition(&facts, actor, action, now, &self.family_policy()) {
            Ok(step) => step,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if step == Transition::Expired {
            self.expire(&i, now).await?;
            return Ok(Err(FamilyRefusal::Expired));
        }
        let mut change = InvitationChange {
            id,
            from_status: i.status.clone(),
            status: step.status().as_str().into(),
            grantee_id: None,
            decided_at: None,
            opens_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        // The notices carry the state after the change.
        let mut after = i.clone();
        let told: Vec<NewNotification> = match step {
            Transition::Accepted { opens_at } => {
                change.grantee_id = Some(me);
                change.decided_at = Some(now);
                change.opens_at = Some(opens_at);
                after.opens_at = Some(opens_at);
                after.grantee_name = Some(viewer.person.display_name());
                vec![
                    notice(
                        i.inviter_id,
                        NoticeKind::InvitationAccepted,
                        id,
                        invitation_params(&after, Side::Parent),
                        now,
                    ),
                    notice(
                        me,
                        NoticeKind::InvitationAccepted,
                        id,
                        invitation_params(&after, Side::Invitee),
                        now,
                    ),
                ]
            }
            Transition::Declined => {
                change.grantee_id = Some(me);
                change.decided_at = Some(now);
                after.grantee_name = Some(viewer.person.display_name());
                vec![
                    notice(
                        i.inviter_id,
                        NoticeKind::InvitationDeclined,
                        id,
                        invitation_params(&after, Side::Parent),
                        now,
                    ),
                    notice(
                        me,
                        NoticeKind::InvitationDeclined,
                        id,
                        invitation_params(&after, Side::Invitee),
                        now,
                    ),
                ]
            }
            Transition::Revoked | Transition::Expired => {
                change.revoked_at = Some(now);
                change.revoked_by = Some(me.to_string());
                let mut told = vec![notice(
                    i.inviter_id,
                    NoticeKind::AccessRevoked,
                    id,
                    invitation_params(&after, Side::Parent),
                    now,
                )];
                if let Some(grantee) = i.grantee_id {
                    told.push(notice(
                        grantee,
                        NoticeKind::AccessRevoked,
                        id,
                        invitation_params(&after, Side::Invitee),
                        now,
                    ));
                }
                told
            }
        };
        let changed = self
            .store()
            .change_invitation(&change, &actor_of(session), &told)
            .await?;
        if !changed {
            return Ok(Err(FamilyRefusal::AlreadyAnswered));
        }
        // An invitee who accepts gains a tie; the pupil covers the rest.
        let grantee = change.grantee_id.or(i.grantee_id);
        let mut what = vec![Invalidation::Pupil(i.pupil_id)];
        what.extend(grantee.map(Invalidation::Viewer));
        self.access_changed(&what).await;
        self.store()
            .mark_subject_read(me, &id.to_string(), now)
            .await?;
        let stored = self
            .store()
            .invitation(id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Ok(invitation_state(&invitation_facts(&stored), now)))
    }

    /// For the login flow after `no_account` / `snils_missing`: a person
    /// whom a parent invited (pending invitation naming their surname and
    /// SNILS, or verified phone) gets a lightweight `trusted` account linked
    /// to this identity, and finds the invitation in the notification
    /// centre. A trusted account already linked to this identity is
    /// returned as is. SNILS counts only from a standard or verified State
    /// Services account (a simplified account's SNILS is unchecked).
    /// `None`: nobody invited this person; the login fails as before.
    pub async fn claim_trusted_invitations(
        &self,
        person: &TrustedClaimant,
    ) -> Result<Option<Uuid>, AppError> {
        if let Some(id) = self
            .store()
            .trusted_account_for_identity(&person.provider, &person.subject)
            .await?
        {
            return Ok(Some(id));
        }
        let snils = person
            .snils
            .as_ref()
            .filter(|_| person.tier >= Tier::Standard)
            .map(Snils::digits);
        let hashes = self.contact_hashes(snils, person.verified_phone.as_deref());
        if hashes.is_empty() {
            return Ok(None);
        }
        let now = self.now();
        let matched: Vec<InvitationRecord> = self
            .store()
            .invitations_for_invitee(None, &hashes)
            .await?
            .into_iter()
            .filter(|i| {
                matches!(
                    invitation_state(&invitation_facts(i), now),
                    InvitationState::Pending { .. }
                ) && surname_matches(&i.invitee_surname, person.name.surname())
            })
            .collect();
        if matched.is_empty() {
            return Ok(None);
        }
        let account = NewTrustedAccount {
            surname: person.name.surname().to_string(),
            given_name: person.name.given().to_string(),
            patronymic: person.name.patronymic().map(str::to_string),
            birth_date: person.birth_date,
            snils: snils.map(str::to_string),
            verified_phone: person.verified_phone.clone(),
            provider: person.provider.clone(),
            subject: person.subject.clone(),
            tier: person.tier.as_str().to_string(),
        };
        let created = self
            .store()
            .create_trusted_account(&account, now, |id| {
                matched
                    .iter()
                    .map(|i| {
                        notice(
                            id,
                            NoticeKind::TrustedInvitation,
                            i.id,
                            invitation_params(i, Side::Invitee),
                            i.created_at,
                        )
                    })
                    .collect()
            })
            .await;
        match created {
            Ok(id) => {
                tracing::info!(account = %id, invitations = matched.len(), "trusted person's account created");
                Ok(Some(id))
            }
            // A concurrent first login won; use its account.
            Err(StoreError::AlreadyLinked(_)) => Ok(self
                .store()
                .trusted_account_for_identity(&person.provider, &person.subject)
                .await?),
            Err(other) => Err(other.into()),
        }
    }
}
