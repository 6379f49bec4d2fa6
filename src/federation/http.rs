//! `openidconnect`'s HTTP client, over our own [`reqwest::Client`] (no
//! redirects followed, bounded time) and [`read_limited`]: discovery, the
//! JWKS it fetches and the token response are capped like every other
//! answer from an IdP.

use std::future::Future;
use std::pin::Pin;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

use super::{describe_reqwest, read_limited, FederationError};

/// Why a call through [`BoundedHttp`] failed.
#[derive(Debug, thiserror::Error)]
pub enum BoundedHttpError {
    #[error("{0}")]
    Unreachable(String),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request could not be built: {0}")]
    Request(String),
}

impl From<BoundedHttpError> for FederationError {
    fn from(error: BoundedHttpError) -> FederationError {
        match error {
            BoundedHttpError::TooLarge(_) => FederationError::BadResponse(error.to_string()),
            BoundedHttpError::Unreachable(reason) | BoundedHttpError::Request(reason) => {
                FederationError::Unreachable(reason)
            }
        }
    }
}

/// An [`AsyncHttpClient`] that reads at most `limit` bytes of any answer.
#[derive(Clone)]
pub struct BoundedHttp {
    pub client: reqwest::Client,
    pub limit: usize,
}

impl BoundedHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, BoundedHttpError> {
        let (parts, body) = request.into_parts();
        let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes())
            .map_err(|e| BoundedHttpError::Request(e.to_string()))?;
        let mut outgoing = self
            .client
            .request(method, parts.uri.to_string())
            .body(body);
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
        let response = outgoing
            .send()
            .await
            .map_err(|e| BoundedHttpError::Unreachable(describe_reqwest(&e)))?;
        let mut answer =
            openidconnect::http::Response::builder().status(response.status().as_u16());
        for (name, value) in response.headers() {
            answer = answer.header(name.as_str(), value.as_bytes());
        }
        let body = read_limited(response, self.limit)
            .await
            .map_err(|e| match e {
                FederationError::BadResponse(_) => BoundedHttpError::TooLarge(self.limit),
                other => BoundedHttpError::Unreachable(other.to_string()),
            })?;
        answer
            .body(body)
            .map_err(|e| BoundedHttpError::Request(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for BoundedHttp {
    type Error = BoundedHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoundedHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
