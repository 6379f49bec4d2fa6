//! Operator actions on a person's way in: reset the activation (a new
//! one-time code, shown once to the operator) and confirm a parent-pupil
//! relationship the school listed. Each needs a reason and is audited; a
//! school administrator acts only on people of their own school.

use uuid::Uuid;

use crate::access_cache::Invalidation;
use crate::shared::required_reason;
use crate::{AppError, Console};
use domain::code::ActivationCode;
use store::StoreError;

impl Console<'_> {
    /// Resets `account_id`'s activation: password removed, sessions ended,
    /// earlier codes revoked, a new code returned (its only copy).
    pub async fn operator_reset_activation(
        &self,
        cookie: Option<&str>,
        csrf: &str,
        account_id: Uuid,
        reason: &str,
    ) -> Result<ActivationCode, AppError> {
        let operator = self.acting_operator(cookie, csrf).await?;
        let reason = required_reason(reason)?;
        self.account_in_scope(account_id, operator.role.school())
            .await?;
        let code = ActivationCode::generate();
        let days = self.config().activation.code_days;
        let expires = self.now() + chrono::Duration::days(i64::from(days));
        match self
            .store()
            .reset_activation(
                account_id,
                &self.codes().hash(&code),
                expires,
                &operator.actor,
                reason,
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        }
        self.end_all_sessions(account_id, &operator.actor, "activation reset")
            .await?;
        tracing::info!(actor = %operator.actor, account = %account_id, "activation reset by an operator");
        Ok(code)
    }

    /// Confirms the relationship between `parent` and `pupil` that a school
    /// listed (e.g. the parent confirmed it at the school's office).
    pub async fn operator_confirm_relationship(
        &self,
        cookie: Option<&str>,
        csrf: &str,
        parent: Uuid,
        pupil: Uuid,
        reason: &str,
    ) -> Result<(), AppError> {
        let operator = self.acting_operator(cookie, csrf).await?;
        let reason = required_reason(reason)?;
        let scope = operator.role.school();
        self.account_in_scope(parent, scope).await?;
        self.account_in_scope(pupil, scope).await?;
        match self
            .store()
            .confirm_relationship_by_operator(parent, pupil, &operator.actor, reason)
            .await
        {
            Ok(()) => {
                self.access_changed(&[Invalidation::Pupil(pupil), Invalidation::Viewer(parent)])
                    .await;
                Ok(())
            }
            Err(StoreError::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}
