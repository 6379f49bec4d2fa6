//! Who may use the console: an operator role granted to a diary account by
//! its login, with a reason, audited. A `school_admin` is bound to the
//! account's own school.

use crate::shared::{required_reason, OperatorRole};
use crate::{AppError, Console};

/// Why a grant was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantRefusal {
    /// No account has this login.
    NoSuchLogin,
    /// The role is none of `support`, `privileged_support`, `school_admin`.
    UnknownRole,
    /// A school administrator needs an account of a school.
    NoSchool,
}

impl Console<'_> {
    /// Grants (or changes) the operator role of the account with `login`.
    pub async fn grant_role(
        &self,
        login: &str,
        role: &str,
        reason: &str,
        actor: &str,
    ) -> Result<Result<OperatorRole, GrantRefusal>, AppError> {
        let reason = required_reason(reason)?;
        let Some(account) = self
            .store()
            .find_account_by_login(&login.trim().to_lowercase())
            .await?
        else {
            return Ok(Err(GrantRefusal::NoSuchLogin));
        };
        let granted = match (role, account.school_id) {
            ("school_admin", None) => return Ok(Err(GrantRefusal::NoSchool)),
            (role, school) => match OperatorRole::parse(role, school) {
                Some(granted) => granted,
                None => return Ok(Err(GrantRefusal::UnknownRole)),
            },
        };
        match granted.school() {
            Some(school) => {
                self.store()
                    .grant_school_admin(account.id, school, actor, reason)
                    .await?
            }
            None => {
                self.store()
                    .grant_operator(account.id, role, actor, reason)
                    .await?
            }
        }
        Ok(Ok(granted))
    }
}
