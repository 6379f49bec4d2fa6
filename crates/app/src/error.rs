//! The one error type of the application layer.

use ephemeral::EphemeralError;
use federation::FederationError;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("unknown provider")]
    UnknownProvider,
    #[error("too many login attempts")]
    RateLimited,
    #[error("the callback carries no state")]
    StateMissing,
    #[error("the login is unknown, expired or already used")]
    StateUnknown,
    #[error("the login was started in another browser")]
    OtherBrowser,
    /// RFC 6749 §3.1: a parameter of the callback given more than once.
    #[error("the callback repeats the parameter {0:?}")]
    RepeatedParameter(String),
    #[error("cannot reach the identity provider")]
    ProviderUnavailable(#[source] FederationError),
    /// Another request is finishing the same login right now (a double
    /// click, or a retry while the first try still runs).
    #[error("the login is being finished by another request")]
    LoginBusy,
    #[error("no valid session")]
    NotLoggedIn,
    #[error("the form's CSRF token does not match the session")]
    CsrfMismatch,
    #[error("the return address points to a foreign site")]
    ReturnTargetRefused,
    #[error("an operator action needs a reason")]
    ReasonRequired,
    #[error("no such record")]
    NotFound,
    #[error("this needs an operator role")]
    Forbidden,
    #[error("temporary storage unavailable")]
    Ephemeral(#[from] EphemeralError),
    #[error("database unavailable")]
    Store(#[from] StoreError),
    /// A failure of the service itself (e.g. a hashing task that died).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A stable machine code: attempt records, logs, JSON errors.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::UnknownProvider => "flow.unknown_provider",
            AppError::RateLimited => "flow.rate_limited",
            AppError::StateMissing => "state.missing",
            AppError::StateUnknown => "state.unknown",
            AppError::OtherBrowser => "state.other_browser",
            AppError::RepeatedParameter(_) => "flow.repeated_parameter",
            AppError::ProviderUnavailable(_) => "idp.unreachable",
            AppError::LoginBusy => "flow.login_busy",
            AppError::NotLoggedIn => "session.missing",
            AppError::CsrfMismatch => "form.csrf",
            AppError::ReturnTargetRefused => "flow.return_target",
            AppError::ReasonRequired => "ops.reason_required",
            AppError::NotFound => "ops.not_found",
            AppError::Forbidden => "ops.forbidden",
            AppError::Ephemeral(ephemeral::EphemeralError::Full(_)) => "internal.busy",
            AppError::Ephemeral(_) => "internal.ephemeral",
            AppError::Store(_) => "internal.store",
            AppError::Internal(_) => "internal.error",
        }
    }

    /// The service's own failure (a backing store), not the request's.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            AppError::Ephemeral(_) | AppError::Store(_) | AppError::Internal(_)
        )
    }

    /// A failure that passes by itself (a store or the IdP down, the login
    /// busy in another request): the same request, tried again later, can
    /// succeed. A login callback that fails so keeps its login usable.
    pub fn is_temporary(&self) -> bool {
        self.is_internal() || matches!(self, AppError::ProviderUnavailable(_) | AppError::LoginBusy)
    }
}
