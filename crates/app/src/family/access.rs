//! Who sees whose diary: the family page, a session's access list and the service-to-service check.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::shared::Session;
use crate::{AppError, Families};
use domain::access::{
    decide_access, AccessDecision, AccessFacts, Allowed, Basis, DenyReason, ParentLinkFact,
    RelationshipStatus, Service, ServiceSet,
};
use store::{FamilyTie, InvitationRecord, PersonBrief, ViewerRecord};

use super::facts::*;
use super::views::*;
use ::texts::prelude::*;

impl Families<'_> {
    /// The family page: children one may invite for, invitations sent and
    /// received, what this session sees.
    pub async fn overview(&self, session: &Session) -> Result<FamilyOverview, AppError> {
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let me = viewer.person.id;
        let found = self.sync_family(&viewer, now).await?;
        let mut children: BTreeMap<Uuid, ChildView> = BTreeMap::new();
        let mut proposals = 0;
        for (r, addressed) in found.relationships.values() {
            let held = r.holder_id == Some(me) || r.parent.id == me;
            if r.status == "confirmed" && held {
                children.insert(
                    r.pupil.id,
                    ChildView {
                        pupil_id: r.pupil.id,
                        full_name: r.pupil.display_name(),
                        school: r.pupil.school_name.clone(),
                        class_name: r.pupil.class_name.clone(),
                    },
                );
            }
            if r.status == "proposed" && *addressed {
                proposals += 1;
            }
        }
        let mut children: Vec<ChildView> = children.into_values().collect();
        children.sort_by(|a, b| a.full_name.cmp(&b.full_name));
        let mut sent = Vec::new();
        let mut received = Vec::new();
        let mut all: Vec<&InvitationRecord> = found.invitations.values().collect();
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        for i in all {
            // Re-read what sync may have just changed (expiry).
            let view = self.invitation_view(i, me, now);
            if i.inviter_id == me {
                sent.push(view);
            } else {
                received.push(view);
            }
        }
        Ok(FamilyOverview {
            role: viewer.person.role.clone(),
            can_invite: viewer.person.role != "trusted",
            opening_delay_hours: self.family_policy().opening_delay.num_hours(),
            children,
            proposals,
            sent,
            received,
            access: self.access_list(&viewer, now).await?,
            zone: self.account().time_zone(viewer.region),
        })
    }

    /// `GET /api/v1/me/access`: the pupils this session may see.
    pub async fn my_access(&self, session: &Session) -> Result<AccessList, AppError> {
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        self.access_list(&viewer, self.now()).await
    }

    pub(crate) async fn access_list(
        &self,
        viewer: &ViewerRecord,
        now: DateTime<Utc>,
    ) -> Result<AccessList, AppError> {
        let me = viewer.person.id;
        let mut pupils = Vec::new();
        let mut upcoming = Vec::new();
        if viewer.person.role == "pupil" {
            pupils.push(PupilAccess {
                pupil_id: me,
                full_name: viewer.person.display_name(),
                school: viewer.person.school_name.clone(),
                class_name: viewer.person.class_name.clone(),
                basis: Basis::SelfPupil,
                services: ServiceSet::ALL,
                since: None,
                until: None,
            });
        }
        let mut by_pupil: BTreeMap<Uuid, (PersonBrief, AccessFacts)> = BTreeMap::new();
        for (pupil, tie) in self.store().family_pupils(me).await? {
            if pupil.id == me {
                continue;
            }
            let entry = by_pupil.entry(pupil.id).or_insert_with(|| {
                let facts = AccessFacts {
                    same_account: false,
                    target_is_pupil: pupil.role == "pupil",
                    parent_links: Vec::new(),
                    grants: Vec::new(),
                };
                (pupil, facts)
            });
            match tie {
                FamilyTie::Link { since, .. } => entry.1.parent_links.push(ParentLinkFact {
                    status: RelationshipStatus::Confirmed,
                    since,
                }),
                FamilyTie::Grant { row, .. } => entry.1.grants.push(grant_fact(&row)),
            }
        }
        for (pupil, facts) in by_pupil.into_values() {
            match decide_access(&facts, None, now) {
                AccessDecision::Allow(Allowed {
                    basis,
                    services,
                    since,
                    until,
                }) => pupils.push(PupilAccess {
                    pupil_id: pupil.id,
                    full_name: pupil.display_name(),
                    school: pupil.school_name.clone(),
                    class_name: pupil.class_name.clone(),
                    basis,
                    services,
                    since,
                    until,
                }),
                AccessDecision::Deny(DenyReason::NotYetOpen { opens_at }) => {
                    let services = facts
                        .grants
                        .iter()
                        .filter(|g| g.invitation.opens_at == Some(opens_at))
                        .fold(ServiceSet::NONE, |all, g| all.union(g.services));
                    upcoming.push(UpcomingAccess {
                        pupil_id: pupil.id,
                        full_name: pupil.display_name(),
                        services,
                        opens_at,
                    });
                }
                AccessDecision::Deny(_) => {}
            }
        }
        Ok(AccessList {
            account_id: me,
            pupils,
            upcoming,
        })
    }

    /// The access decision for (viewer, pupil, service) as of now: one
    /// database statement, or none when the facts are cached (see
    /// [`super::access_cache`]; the decision is always taken anew).
    /// `school` limits the answer to one school's pupils (the asking
    /// school's token).
    pub async fn access_decision(
        &self,
        viewer: Uuid,
        pupil: Uuid,
        service: Service,
        school: Option<Uuid>,
    ) -> Result<AccessAnswer, AppError> {
        let (target, ties) = match self.access_cache().get(viewer, pupil) {
            Some(cached) => cached,
            None => {
                let ticket = self.access_cache().ticket();
                let (target, ties) = self.store().access_facts(viewer, pupil).await?;
                let (target, ties) = (Arc::new(target), Arc::new(ties));
                self.access_cache()
                    .fill(ticket, viewer, pupil, target.clone(), ties.clone());
                (target, ties)
            }
        };
        let facts = AccessFacts {
            same_account: viewer == pupil,
            target_is_pupil: target.role.as_deref() == Some("pupil"),
            parent_links: ties
                .links
                .iter()
                .filter(|link| link.pupil == pupil)
                .map(|link| ParentLinkFact {
                    status: relationship_status(&link.status),
                    since: link.decided_at,
                })
                .collect(),
            grants: ties
                .grants
                .iter()
                .filter(|grant| grant.pupil == pupil)
                .map(|grant| grant_fact(&grant.row))
                .collect(),
        };
        let outside = match (school, facts.target_is_pupil) {
            (Some(school), true) => target.school != Some(school),
            _ => false,
        };
        let decision = if ties.blocked {
            AccessDecision::Deny(DenyReason::ViewerBlocked)
        } else if outside {
            AccessDecision::Deny(DenyReason::OutsideSchool)
        } else {
            decide_access(&facts, Some(service), self.now())
        };
        Ok(match decision {
            AccessDecision::Allow(a) => AccessAnswer {
                viewer,
                pupil,
                service,
                allowed: true,
                basis: Some(a.basis),
                services: a.services,
                since: a.since,
                until: a.until,
                reason: None,
                opens_at: None,
                message: a.basis.label(i18n::Lang::En).to_string(),
            },
            AccessDecision::Deny(reason) => AccessAnswer {
                viewer,
                pupil,
                service,
                allowed: false,
                basis: None,
                services: ServiceSet::NONE,
                since: None,
                until: None,
                reason: Some(reason.code()),
                opens_at: match reason {
                    DenyReason::NotYetOpen { opens_at } => Some(opens_at),
                    _ => None,
                },
                message: reason.message(i18n::Lang::En),
            },
        })
    }

    /// `GET /api/v1/access`: a school's system asks, with its bearer token
    /// (the school API token), whether a viewer may see a service of one of
    /// its pupils. A bad token is `Forbidden`.
    pub async fn check_access(
        &self,
        token: &str,
        viewer: Uuid,
        pupil: Uuid,
        service: Service,
    ) -> Result<AccessAnswer, AppError> {
        let school = self.school().school_for_token(token).await?;
        self.access_decision(viewer, pupil, service, Some(school))
            .await
    }
}
