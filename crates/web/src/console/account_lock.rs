//! `/ops/lock` and `/ops/unlock`: the console's forms to block an account
//! and to unblock it, each with a reason (audited). See
//! `app::console::account_lock` for what a lock ends.

use axum::extract::{Form, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use uuid::Uuid;

use crate::error::WebError;
use crate::kit::Visit;
use crate::AppState;

use super::actions::show_kept;
use super::back_to_console;
use super::kept::{reason_error, AccountForm, KeptForm};
use app::console::account_lock::LockChange;
use app::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ops/lock", post(lock))
        .route("/ops/unlock", post(unlock))
}

/// Which of the two forms.
#[derive(Clone, Copy)]
enum Change {
    Lock,
    Unlock,
}

impl Change {
    /// The form's name in [`KeptForm`] and the template.
    fn form(self) -> &'static str {
        match self {
            Change::Lock => "lock",
            Change::Unlock => "unlock",
        }
    }
}

/// `POST /ops/lock`: block an account (its sessions and app grants end).
async fn lock(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<AccountForm>,
) -> Result<Response, WebError> {
    change(&app, &visit, &form, Change::Lock).await
}

/// `POST /ops/unlock`: unblock an account.
async fn unlock(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<AccountForm>,
) -> Result<Response, WebError> {
    change(&app, &visit, &form, Change::Unlock).await
}

async fn change(
    app: &AppState,
    visit: &Visit,
    form: &AccountForm,
    change: Change,
) -> Result<Response, WebError> {
    let (cookie, lang) = (visit.session_cookie(), visit.lang);
    let account = Uuid::parse_str(form.account.trim()).map_err(|_| AppError::NotFound)?;
    let locked = matches!(change, Change::Lock);
    let changed = app
        .console()
        .operator_set_lock(cookie, &form.csrf, account, &form.reason, locked)
        .await;
    match (changed, change) {
        (Ok(LockChange::Done), Change::Lock) => Ok(back_to_console(&form.q, "locked")),
        (Ok(LockChange::Done), Change::Unlock) => Ok(back_to_console(&form.q, "unlocked")),
        (Ok(LockChange::Unchanged), _) => Ok(back_to_console(&form.q, "lock_unchanged")),
        (Ok(LockChange::OwnAccount), _) => {
            let error = lang.pick(
                "Свою учётную запись заблокировать нельзя: попросите другого оператора.",
                "You cannot block your own account: ask another operator.",
            );
            let kept = KeptForm::new(change.form(), account, "", "reason", error)
                .with("reason", &form.reason);
            show_kept(app, cookie, lang, &form.q, kept).await
        }
        // Back to the same form, the reason kept, the error beside it.
        (Err(AppError::ReasonRequired), _) => {
            let kept = KeptForm::new(change.form(), account, "", "reason", reason_error(lang))
                .with("reason", &form.reason);
            show_kept(app, cookie, lang, &form.q, kept).await
        }
        (Err(e), _) => Err(e.into()),
    }
}
