//! The account page as the one home after login: what the person can do
//! next (children and their diaries, invitations to answer, unread
//! notices, linking State Services, the family page, the console).

use uuid::Uuid;

use super::Me;
use crate::family::views::{InvitationView, UpcomingAccess};
use crate::shared::Session;
use crate::{Accounts, AppError, ProviderInfo};
use domain::access::{Basis, InvitationState};

/// Unread notices are counted among this many newest (as the centre shows).
const UNREAD_COUNTED: i64 = 100;

/// A diary the person may open.
#[derive(Debug, Clone)]
pub struct HomeDiary {
    pub pupil_id: Uuid,
    pub full_name: String,
    pub school: Option<String>,
    pub class_name: Option<String>,
    /// The person's own diary (a pupil).
    pub own: bool,
    pub diary_url: String,
}

/// Everything the account page shows.
pub struct Home {
    pub me: Me,
    pub diaries: Vec<HomeDiary>,
    /// Accepted, opening after the waiting period.
    pub upcoming: Vec<UpcomingAccess>,
    /// Invitations waiting for this person's answer.
    pub invitations: Vec<InvitationView>,
    /// School links waiting for this person's answer.
    pub proposals: usize,
    pub unread: usize,
    /// Parents have a family page (children, trusted persons).
    pub family_page: bool,
    /// Staff with an operator role reach the console.
    pub console: bool,
    /// Providers not linked yet ("link State Services").
    pub unlinked: Vec<ProviderInfo>,
    pub zone: chrono_tz::Tz,
}

impl Accounts<'_> {
    /// The account page: one read of the family, one of the notices.
    pub async fn home(&self, session: &Session) -> Result<Home, AppError> {
        let me = self.me(session).await?;
        let family = self.family().overview(session).await?;
        // The overview has written what became due; count without a second sync.
        let unread = self
            .store()
            .notifications_of(session.data.account_id, UNREAD_COUNTED)
            .await?
            .iter()
            .filter(|n| n.read_at.is_none())
            .count();
        let console = self.console().operator_role(session).await?.is_some();
        let diaries = family
            .access
            .pupils
            .iter()
            .map(|p| HomeDiary {
                pupil_id: p.pupil_id,
                full_name: p.full_name.clone(),
                school: p.school.clone(),
                class_name: p.class_name.clone(),
                own: matches!(p.basis, Basis::SelfPupil),
                diary_url: self.diary_url(p.pupil_id),
            })
            .collect();
        let invitations = family
            .received
            .into_iter()
            .filter(|i| matches!(i.state, InvitationState::Pending { .. }))
            .collect();
        let unlinked = self
            .providers()
            .into_iter()
            .filter(|p| !me.linked_identities.iter().any(|l| l.provider == p.id))
            .collect();
        Ok(Home {
            family_page: family.role == "parent",
            me,
            diaries,
            upcoming: family.access.upcoming,
            invitations,
            proposals: family.proposals,
            unread,
            console,
            unlinked,
            zone: family.zone,
        })
    }

    /// Where a pupil's diary opens: `server.diary_pupil_url` with `{pupil}`
    /// replaced, else the diary's start page with the pupil as a parameter.
    pub fn diary_url(&self, pupil: Uuid) -> String {
        let server = &self.config().server;
        match &server.diary_pupil_url {
            Some(template) => template.replace("{pupil}", &pupil.to_string()),
            None => {
                let start = &server.diary_start_url;
                let separator = if start.contains('?') { '&' } else { '?' };
                format!("{start}{separator}pupil={pupil}")
            }
        }
    }
}
