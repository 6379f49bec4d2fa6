//! `/auth/*`: start a login, take the IdP's answer, show the outcome.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::WebError;
use super::kit::Visit;
use super::lang::RequestLang;
use super::pages::{render, Chrome, MessagePage, Offer, OutcomePage, SupportBlock};
use super::return_to::safe_return_target;
use super::texts::outcome_text;
use super::{bounded, cookies, query_param, AppState};
use app::login::{CallbackParams, Completed, OutcomeReport, LOGIN_TTL, OUTCOME_TTL};
use app::AppError;
use domain::OutcomeCode;
use i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/start/{provider}", get(start))
        .route("/auth/callback/{provider}", get(callback))
        .route("/auth/outcome", get(outcome))
}

async fn start(
    State(app): State<AppState>,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    visit: Visit,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let return_to = match query_param(query.as_deref(), "return_to").filter(|r| !r.is_empty()) {
        None => None,
        Some(raw) => Some(
            safe_return_target(&raw, &app.config().server.allowed_return_origins)
                .ok_or(AppError::ReturnTargetRefused)?,
        ),
    };
    let client = visit.client.clone();
    match app
        .login()
        .start_login(&provider, return_to, lang, &client)
        .await
    {
        Ok(started) => {
            let mut headers = HeaderMap::new();
            cookies::set(
                &mut headers,
                cookies::LOGIN,
                &started.browser_token,
                "/auth",
                LOGIN_TTL.as_secs(),
                app.config().server.secure_cookies,
            );
            Ok(see_other(headers, &started.authorize_url))
        }
        Err((error, Some(report))) => {
            let status = match error {
                AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            Ok(render(
                status,
                &outcome_page(&app, &report, lang, false).await,
            ))
        }
        Err((error, None)) => Err(WebError::page(error, lang)),
    }
}

async fn callback(
    State(app): State<AppState>,
    visit: Visit,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    request_headers: HeaderMap,
    RequestLang(request_lang): RequestLang,
) -> Result<Response, WebError> {
    let secure = app.config().server.secure_cookies;
    // Parsed by hand: a malformed query of any shape still gets the
    // outcome page (with a reference), never a framework's plain 400.
    let params = callback_params(query.as_deref());
    let browser = cookies::get(&request_headers, cookies::LOGIN);
    let previous_session = cookies::get(&request_headers, cookies::SESSION);
    let client = visit.client.clone();
    let mut headers = HeaderMap::new();
    let completed = app
        .login()
        .complete_login(
            &provider,
            &params,
            browser.as_deref(),
            previous_session.as_deref(),
            &client,
            request_lang,
        )
        .await
        .map_err(|e| WebError::page(e, request_lang))?;
    let report = match completed {
        Completed::Success {
            session_id,
            redirect_to,
            report: _,
        } => {
            cookies::remove(&mut headers, cookies::LOGIN, "/auth", secure);
            cookies::set(
                &mut headers,
                cookies::SESSION,
                &session_id,
                "/",
                app.config().server.session_absolute_hours * 3600,
                secure,
            );
            return Ok(see_other(headers, &redirect_to));
        }
        Completed::Failure {
            report,
            pending_link,
        } => {
            // A rejected callback was refused before any login was used (a
            // repeated parameter, another browser's state): this browser's
            // own login, if it has one, stays finishable.
            if !matches!(report.outcome, OutcomeCode::Rejected) {
                cookies::remove(&mut headers, cookies::LOGIN, "/auth", secure);
            }
            if let Some(token) = pending_link {
                cookies::set(
                    &mut headers,
                    cookies::PENDING_LINK,
                    &token,
                    "/",
                    15 * 60,
                    secure,
                );
            }
            report
        }
        Completed::Throttled => {
            return Err(WebError::page(AppError::RateLimited, request_lang));
        }
        // The login is kept, and so is its cookie: "try again" is this very
        // callback (its code and state are in the address bar already).
        Completed::Interrupted { error, reference } => {
            let retry = match &query {
                Some(query) => format!("/auth/callback/{provider}?{query}"),
                None => format!("/auth/callback/{provider}"),
            };
            return Err(WebError::page(error, request_lang).retryable(reference, retry));
        }
    };
    // The outcome is shown on a clean URL: the code never stays in the address bar.
    let token = match app.login().keep_outcome(&report).await {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(error = %e, "cannot keep the outcome for display");
            return Ok(render(
                StatusCode::OK,
                &outcome_page(&app, &report, report.lang, false).await,
            ));
        }
    };
    cookies::set(
        &mut headers,
        cookies::OUTCOME,
        &token,
        "/auth",
        OUTCOME_TTL.as_secs(),
        secure,
    );
    Ok(see_other(
        headers,
        &format!("/auth/outcome?lang={}", report.lang.code()),
    ))
}

async fn outcome(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
) -> Result<Response, WebError> {
    let report = match cookies::get(&headers, cookies::OUTCOME) {
        Some(token) => app.login().kept_outcome(&token).await?,
        None => None,
    };
    Ok(match report {
        Some(report) => {
            let linkable = cookies::get(&headers, cookies::PENDING_LINK).is_some();
            render(
                StatusCode::OK,
                &outcome_page(&app, &report, lang, linkable).await,
            )
        }
        None => render(
            StatusCode::NOT_FOUND,
            &MessagePage::new(
                lang,
                lang.pick("Нет результата входа", "No login result"),
                lang.pick(
                    "Результат входа не найден или устарел. Начните вход заново.",
                    "The login result is missing or has expired. Start the login again.",
                ),
                None,
            ),
        ),
    })
}

fn password_offer(lang: Lang, explanation: &str) -> Offer {
    Offer {
        id: "password-login",
        url: format!("/login/password?lang={}", lang.code()),
        label: lang
            .pick(
                "Войти по логину и паролю дневника",
                "Log in with the e-diary login and password",
            )
            .into(),
        explanation: explanation.into(),
    }
}

fn activation_offer(lang: Lang) -> Offer {
    Offer {
        id: "activate",
        url: format!("/activate?lang={}", lang.code()),
        label: lang
            .pick("Активировать учётную запись кодом", "Activate your account with a code")
            .into(),
        explanation: lang
            .pick(
                "Ещё нет пароля от дневника? Активируйте учётную запись кодом с листа-приглашения от школы.",
                "No e-diary password yet? Activate your account with the code from your school's invitation sheet.",
            )
            .into(),
    }
}

async fn outcome_page(
    app: &AppState,
    report: &OutcomeReport,
    lang: Lang,
    linkable: bool,
) -> OutcomePage {
    let text = outcome_text(report, lang);
    let offers = match report.outcome {
        OutcomeCode::SnilsMissing | OutcomeCode::NoAccount if linkable => vec![
            Offer {
                id: "link-by-password",
                url: format!("/link?lang={}", lang.code()),
                label: lang.pick("Связать по логину и паролю дневника", "Link with your e-diary login and password").into(),
                explanation: lang.pick(
                    "Уже есть логин и пароль от дневника? Подтвердите им свою учётную запись — и следующий вход через Госуслуги пройдёт сразу.",
                    "Already have an e-diary login and password? Prove your account with them, and your next State Services login goes straight in.",
                ).into(),
            },
            Offer {
                id: "link-by-code",
                url: format!("/link/code?lang={}", lang.code()),
                label: lang.pick("Связать по коду активации", "Link with your activation code").into(),
                explanation: lang.pick(
                    "Пароля нет, но есть лист-приглашение от школы? Введите код активации с него — и следующий вход через Госуслуги пройдёт сразу.",
                    "No password, but you have the invitation sheet from your school? Enter the activation code from it, and your next State Services login goes straight in.",
                ).into(),
            },
        ],
        OutcomeCode::RegionDisabled => vec![password_offer(lang, ""), activation_offer(lang)],
        // The link itself waits for the school to correct the names; the
        // diary opens meanwhile with its own password or activation code.
        OutcomeCode::NameMismatch => vec![
            password_offer(
                lang,
                lang.pick(
                    "Пока школа исправляет данные, в дневник можно войти по его логину и паролю.",
                    "While the school corrects the data, you can log in to the diary with its login and password.",
                ),
            ),
            activation_offer(lang),
        ],
        _ => Vec::new(),
    };
    let support = if text.success {
        None
    } else {
        let contacts = app.account().support_for_outcome(report).await;
        Some(SupportBlock::new(lang, contacts.as_ref()))
    };
    OutcomePage {
        chrome: Chrome::new(lang, text.title.clone(), "/auth/outcome"),
        outcome_code: report.outcome.as_str(),
        text,
        reference: report.reference.clone(),
        fixer_label: lang.pick("Кто может исправить:", "Who can fix it:").into(),
        next_label: lang.pick("Что делать", "What to do").into(),
        reference_label: lang
            .pick(
                "Код обращения (назовите его в школе или службе поддержки):",
                "Reference code (quote it to the school or support):",
            )
            .into(),
        again_label: lang.pick("Начать вход заново", "Start again").into(),
        offers,
        support,
    }
}

/// One pass over the query (the first value of a repeated name counts, as
/// with [`query_param`]); values are bounded like there. A parameter given
/// twice is noted: RFC 6749 §3.1 says they "MUST NOT be included more than
/// once", and the login use case refuses such a callback before it looks
/// at anything else.
fn callback_params(query: Option<&str>) -> CallbackParams {
    let mut params = CallbackParams::default();
    let Some(query) = query else {
        return params;
    };
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "code" => &mut params.code,
            "state" => &mut params.state,
            "error" => &mut params.error,
            "error_description" => &mut params.error_description,
            "iss" => &mut params.iss,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(bounded(value));
        } else if params.repeated.is_none() {
            params.repeated = Some(key.chars().take(32).collect());
        }
    }
    params
}

pub(super) fn see_other(mut headers: HeaderMap, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            headers.insert(header::LOCATION, value);
            (StatusCode::SEE_OTHER, headers).into_response()
        }
        Err(_) => (StatusCode::BAD_GATEWAY, "invalid redirect target").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any query string parses: no panic, values bounded, and a state
        /// that was sent plainly first comes back as sent.
        #[test]
        fn any_callback_query_parses(query in ".{0,300}", state in "[A-Za-z0-9_-]{1,64}") {
            let params = callback_params(Some(&query));
            let values = [
                params.code,
                params.state,
                params.error,
                params.error_description,
                params.iss,
            ];
            for value in values.iter().flatten() {
                proptest::prop_assert!(value.chars().count() <= 4096);
            }
            let with_state = format!("state={state}&{query}");
            let parsed = callback_params(Some(&with_state));
            proptest::prop_assert_eq!(parsed.state.as_deref(), Some(state.as_str()));
        }

        /// The one pass finds what a lookup of each name finds.
        #[test]
        fn one_pass_agrees_with_lookups_by_name(query in "((code|state|error|error_description|iss|x)(=[a-z%+0-9]{0,6})?&?){0,8}") {
            let params = callback_params(Some(&query));
            let by_name = |name| query_param(Some(&query), name);
            proptest::prop_assert_eq!(params.code, by_name("code"));
            proptest::prop_assert_eq!(params.state, by_name("state"));
            proptest::prop_assert_eq!(params.error, by_name("error"));
            proptest::prop_assert_eq!(params.error_description, by_name("error_description"));
            proptest::prop_assert_eq!(params.iss, by_name("iss"));
        }

        #[test]
        fn any_bytes_as_a_query_parse(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = callback_params(Some(&text));
        }
    }

    #[test]
    fn long_callback_values_are_cut_at_4096_characters() {
        let query = format!("state={}&code={}", "я".repeat(5000), "c".repeat(4096));
        let params = callback_params(Some(&query));
        assert_eq!(params.state, Some("я".repeat(4096)));
        assert_eq!(params.code, Some("c".repeat(4096)));
    }

    #[test]
    fn odd_callback_queries_parse_without_failing() {
        let cases: [(Option<&str>, Option<&str>, Option<&str>); 6] = [
            (None, None, None),
            (Some("state=a&state=a&code=c"), Some("a"), Some("c")),
            (Some("state=%ZZ&code=%"), Some("%ZZ"), Some("%")),
            (Some("&&&=&state"), Some(""), None),
            (Some("code=x+y&state=%D0%B0"), Some("а"), Some("x y")),
            (Some("error=access_denied"), None, None),
        ];
        for (query, state, code) in cases {
            let params = callback_params(query);
            assert_eq!(params.state.as_deref(), state, "{query:?}");
            assert_eq!(params.code.as_deref(), code, "{query:?}");
        }
    }

    /// RFC 6749 §3.1: each parameter we read at most once; the first
    /// repeated name is noted (even with equal values), others are ignored.
    #[test]
    fn repeated_callback_parameters_are_noted() {
        let cases = [
            ("code=A&state=s", None),
            ("code=A&code=B&state=s", Some("code")),
            ("code=A&state=s&code=A", Some("code")),
            ("state=s&state=t&code=A", Some("state")),
            ("error=access_denied&error=x&state=s", Some("error")),
            ("iss=a&iss=a&code=A&state=s", Some("iss")),
            (
                "code=A&state=s&error_description=a&error_description=b",
                Some("error_description"),
            ),
            ("code=A&state=s&lang=ru&lang=en", None),
            ("code=A&code=B&state=s&state=t", Some("code")),
        ];
        for (query, repeated) in cases {
            let params = callback_params(Some(query));
            assert_eq!(params.repeated.as_deref(), repeated, "{query}");
        }
    }
}
