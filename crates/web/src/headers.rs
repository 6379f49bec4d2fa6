//! What every response carries: the security headers, `no-store` unless the
//! page set its own caching, HSTS on an https deployment, and the cookie
//! that keeps an explicit `?lang=` choice for later pages.
//!
//! One layer in one pass over the response. Seven layers (six header
//! setters and a `from_fn` middleware, which clones the boxed router for
//! every request) each wrapped every request's future in one more level
//! that every poll went through.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tower::{Layer, Service};

use super::cookies;
use super::lang::{query_lang, LANG_COOKIE};
use i18n::Lang;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// A language choice is kept for a year.
const LANG_COOKIE_SECONDS: u64 = 365 * 24 * 3600;
const COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");

#[derive(Clone, Copy)]
pub(super) struct ResponseHeadersLayer {
    /// Cookies get `Secure`.
    secure_cookies: bool,
    /// The deployment is served over https: send HSTS.
    hsts: bool,
}

impl ResponseHeadersLayer {
    pub(super) fn new(secure_cookies: bool, hsts: bool) -> ResponseHeadersLayer {
        ResponseHeadersLayer {
            secure_cookies,
            hsts,
        }
    }
}

impl<S> Layer<S> for ResponseHeadersLayer {
    type Service = ResponseHeaders<S>;

    fn layer(&self, inner: S) -> ResponseHeaders<S> {
        ResponseHeaders {
            inner,
            settings: *self,
        }
    }
}

#[derive(Clone)]
pub(super) struct ResponseHeaders<S> {
    inner: S,
    settings: ResponseHeadersLayer,
}

impl<S> Service<Request> for ResponseHeaders<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let lang_choice = query_lang(request.uri().query());
        ResponseFuture {
            inner: self.inner.call(request),
            lang_choice,
            settings: self.settings,
        }
    }
}

pin_project_lite::pin_project! {
    pub(super) struct ResponseFuture<F> {
        #[pin]
        inner: F,
        lang_choice: Option<Lang>,
        settings: ResponseHeadersLayer,
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        let headers = response.headers_mut();
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        headers
            .entry(CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        headers.insert(COOP, HeaderValue::from_static("same-origin"));
        if this.settings.hsts {
            headers.insert(
                STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
        if let Some(lang) = this.lang_choice.take() {
            cookies::set(
                headers,
                LANG_COOKIE,
                lang.code(),
                "/",
                LANG_COOKIE_SECONDS,
                this.settings.secure_cookies,
            );
        }
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::header::SET_COOKIE;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    async fn answer(layer: ResponseHeadersLayer, uri: &str) -> HeaderMap {
        let router = Router::new()
            .route("/", get(|| async { "page" }))
            .route(
                "/cached",
                get(|| async {
                    (
                        [(CACHE_CONTROL, "public, max-age=60"), (SET_COOKIE, "a=b")],
                        "asset",
                    )
                        .into_response()
                }),
            )
            .fallback(|| async { StatusCode::NOT_FOUND })
            .layer(layer);
        let request = Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("request");
        router
            .oneshot(request)
            .await
            .expect("infallible")
            .headers()
            .clone()
    }

    fn all(headers: &HeaderMap, name: HeaderName) -> Vec<&str> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("ascii"))
            .collect()
    }

    #[tokio::test]
    async fn every_response_carries_the_security_headers() {
        for uri in ["/", "/nowhere", "/cached"] {
            let headers = answer(ResponseHeadersLayer::new(false, false), uri).await;
            assert_eq!(all(&headers, REFERRER_POLICY), ["no-referrer"], "{uri}");
            assert_eq!(all(&headers, X_CONTENT_TYPE_OPTIONS), ["nosniff"]);
            assert_eq!(all(&headers, X_FRAME_OPTIONS), ["DENY"]);
            assert_eq!(all(&headers, CONTENT_SECURITY_POLICY), [CSP]);
            assert_eq!(all(&headers, COOP), ["same-origin"]);
            assert!(headers.get(STRICT_TRANSPORT_SECURITY).is_none());
        }
    }

    #[tokio::test]
    async fn pages_are_not_cached_unless_they_say_so() {
        let layer = ResponseHeadersLayer::new(false, false);
        assert_eq!(all(&answer(layer, "/").await, CACHE_CONTROL), ["no-store"]);
        assert_eq!(
            all(&answer(layer, "/cached").await, CACHE_CONTROL),
            ["public, max-age=60"]
        );
    }

    #[tokio::test]
    async fn https_deployments_send_hsts() {
        let headers = answer(ResponseHeadersLayer::new(true, true), "/").await;
        assert_eq!(
            all(&headers, STRICT_TRANSPORT_SECURITY),
            ["max-age=31536000; includeSubDomains"]
        );
    }

    #[tokio::test]
    async fn an_explicit_language_choice_is_kept_in_a_cookie() {
        let plain = ResponseHeadersLayer::new(false, false);
        let secure = ResponseHeadersLayer::new(true, false);
        assert!(answer(plain, "/").await.get(SET_COOKIE).is_none());
        assert!(answer(plain, "/?lang=xx").await.get(SET_COOKIE).is_none());
        assert_eq!(
            all(&answer(plain, "/?lang=en").await, SET_COOKIE),
            ["el_lang=en; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"]
        );
        assert_eq!(
            all(&answer(secure, "/?x=1&lang=ru").await, SET_COOKIE),
            ["el_lang=ru; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax; Secure"]
        );
        // Added to the page's own cookies, not instead of them.
        assert_eq!(
            all(&answer(plain, "/cached?lang=en").await, SET_COOKIE),
            [
                "a=b",
                "el_lang=en; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"
            ]
        );
    }
}
