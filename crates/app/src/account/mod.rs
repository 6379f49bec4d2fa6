//! The logged-in person: whose session this is, what the account page and
//! `/api/v1/me` show, logging out; whom a person asks for help and which
//! clock their times are shown by.

pub mod activation;
pub mod home;
pub mod password;
pub mod recovery;

use serde::Serialize;
use uuid::Uuid;

use crate::login::OutcomeReport;
use crate::shared::Session;
use crate::{Accounts, AppError};
use config::SupportContacts;
use domain::tier::Tier;
use ephemeral::sessions::tokens_equal;

/// Who the session is: the JSON of `/api/v1/me` and the account page.
#[derive(Debug, Serialize)]
pub struct Me {
    pub account_id: Uuid,
    pub role: String,
    pub full_name: FullNameJson,
    pub school: Option<SchoolJson>,
    pub region: Option<RegionJson>,
    pub linked_identities: Vec<IdentityJson>,
}

#[derive(Debug, Serialize)]
pub struct FullNameJson {
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
}

impl FullNameJson {
    /// "Surname Given Patronymic".
    pub fn display(&self) -> String {
        [
            Some(self.surname.as_str()),
            Some(self.given_name.as_str()),
            self.patronymic.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }
}

#[derive(Debug, Serialize)]
pub struct SchoolJson {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct RegionJson {
    pub code: i64,
    pub name_ru: String,
    pub name_en: String,
}

#[derive(Debug, Serialize)]
pub struct IdentityJson {
    pub provider: String,
    pub provider_name_ru: String,
    pub provider_name_en: String,
    pub tier: Option<Tier>,
    pub linked_at: chrono::DateTime<chrono::Utc>,
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Accounts<'_> {
    /// The live session behind a cookie value; refreshes its idle timeout.
    pub async fn session(&self, cookie: Option<&str>) -> Result<Session, AppError> {
        let id = cookie.ok_or(AppError::NotLoggedIn)?;
        let data = self.sessions.get(id).await?.ok_or(AppError::NotLoggedIn)?;
        Ok(Session {
            id: id.to_string(),
            data,
        })
    }

    /// The account behind a session: two statements (account with school
    /// and region; its links).
    pub async fn me(&self, session: &Session) -> Result<Me, AppError> {
        let overview = self.store.account_overview(session.data.account_id).await?;
        let links = self.store.links_for_account(overview.account.id).await?;
        let account = overview.account;
        Ok(Me {
            account_id: account.id,
            role: account.role,
            full_name: FullNameJson {
                surname: account.surname,
                given_name: account.given_name,
                patronymic: account.patronymic,
            },
            school: overview.school.map(|s| SchoolJson {
                id: s.id,
                name: s.name,
            }),
            region: overview.region.map(|r| RegionJson {
                code: r.code,
                name_ru: r.name_ru,
                name_en: r.name_en,
            }),
            linked_identities: links
                .into_iter()
                .map(|l| {
                    let (name_ru, name_en) = match self.providers.get(&l.provider) {
                        Some(p) => (
                            p.settings().display_name_ru.clone(),
                            p.settings().display_name_en.clone(),
                        ),
                        None => (l.provider.clone(), l.provider.clone()),
                    };
                    IdentityJson {
                        provider: l.provider,
                        provider_name_ru: name_ru,
                        provider_name_en: name_en,
                        tier: Tier::parse(&l.tier_at_link),
                        linked_at: l.linked_at,
                        last_login_at: l.last_login_at,
                    }
                })
                .collect(),
        })
    }

    /// Support contacts for people of this school and region: the school's,
    /// else the region's, else the service's (see [`config::Config::support_for`]).
    pub fn support_for(
        &self,
        school: Option<Uuid>,
        region: Option<i64>,
    ) -> Option<SupportContacts> {
        let region = region.and_then(|code| u16::try_from(code).ok());
        self.config.support_for(school, region)
    }

    /// Support contacts for the holder of an account (one they proved).
    pub async fn support_for_account(
        &self,
        account_id: Uuid,
    ) -> Result<Option<SupportContacts>, AppError> {
        let overview = self.store.account_overview(account_id).await?;
        Ok(self.support_for(
            overview.school.as_ref().map(|s| s.id),
            overview.region.as_ref().map(|r| r.code),
        ))
    }

    /// Support contacts for an outcome page. The school's own contacts only
    /// when State Services vouched for the SNILS the account was found by
    /// (standard tier or better): anyone can type a SNILS into a simplified
    /// account, and a school's phone would tell them whose it is. Never
    /// fails the page: without contacts it says "support" in general words.
    pub async fn support_for_outcome(&self, report: &OutcomeReport) -> Option<SupportContacts> {
        let vouched = report.actual_tier.is_some_and(|t| t >= Tier::Standard);
        let school = match report.account_id.filter(|_| vouched) {
            Some(id) => match self.store.account_overview(id).await {
                Ok(overview) => overview.school.map(|s| s.id),
                Err(error) => {
                    tracing::warn!(error = %error, "no school for the support contacts");
                    None
                }
            },
            None => None,
        };
        self.config.support_for(school, report.region)
    }

    /// The zone a region's times are shown in (Moscow when it names none).
    pub fn time_zone(&self, region: Option<i64>) -> chrono_tz::Tz {
        self.config
            .time_zone(region.and_then(|code| u16::try_from(code).ok()))
    }

    /// Whether this session's login linked the identity just now; true
    /// once, then the notice is cleared.
    pub async fn take_link_notice(&self, session: &Session) -> Result<bool, AppError> {
        if !session.data.just_linked {
            return Ok(false);
        }
        self.sessions
            .clear_notice(&session.id, &session.data)
            .await?;
        Ok(true)
    }

    /// Ends every session of the account behind `cookie` (every browser, every
    /// instance), if the form carries its CSRF token.
    pub async fn logout_everywhere(
        &self,
        cookie: Option<&str>,
        csrf: &str,
    ) -> Result<String, AppError> {
        let session = self.session(cookie).await?;
        if !tokens_equal(csrf, &session.data.csrf) {
            return Err(AppError::CsrfMismatch);
        }
        self.end_all_sessions(session.data.account_id, "account", "logout everywhere")
            .await?;
        self.sessions.destroy(&session.id).await?;
        Ok("/?logged_out=1".into())
    }

    /// Ends the session behind `cookie` if the form carries its CSRF token.
    /// No session is not an error: the person is logged out either way.
    /// Returns where the browser goes next: the IdP's logout when the
    /// session came from ESIA (a shared school computer must not sign the
    /// next person in silently), else the login page.
    pub async fn logout(&self, cookie: Option<&str>, csrf: &str) -> Result<String, AppError> {
        let logged_out = format!(
            "{}/?logged_out=1",
            self.config.server.public_url.trim_end_matches('/')
        );
        let session = match self.session(cookie).await {
            Ok(session) => session,
            Err(AppError::NotLoggedIn) => return Ok("/?logged_out=1".into()),
            Err(other) => return Err(other),
        };
        if !tokens_equal(csrf, &session.data.csrf) {
            return Err(AppError::CsrfMismatch);
        }
        self.sessions.destroy(&session.id).await?;
        // The person is logged out here whatever happens next; an app that
        // cannot be told now keeps its grant until it expires.
        if let Err(error) = self
            .apps()
            .session_ended(&session, "account", "logout")
            .await
        {
            tracing::warn!(%error, "the apps' grants of an ended session were not revoked");
        }
        Ok(self
            .providers
            .get(&session.data.provider)
            .and_then(|p| p.logout_url(&logged_out))
            .unwrap_or_else(|| "/?logged_out=1".into()))
    }
}
