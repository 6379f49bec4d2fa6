//! `openidconnect`'s HTTP client, over our own [`reqwest::Client`] (no
//! redirects followed, bounded time) and [`read_limited`]: discovery, the
//! JWKS it fetches and the token response are capped like every other
//! answer from an IdP.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use openidconnect::http::Uri;
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
    client: reqwest::Client,
    limit: usize,
    /// The last address asked and its parsed form: nearly every call is a
    /// code exchange at the same token endpoint.
    last_url: Arc<Mutex<Option<(Uri, reqwest::Url)>>>,
}

impl BoundedHttp {
    pub fn new(client: reqwest::Client, limit: usize) -> BoundedHttp {
        BoundedHttp {
            client,
            limit,
            last_url: Arc::default(),
        }
    }

    fn url(&self, uri: &Uri) -> Result<reqwest::Url, BoundedHttpError> {
        let mut last = self.last_url.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((known, url)) = last.as_ref() {
            if known == uri {
                return Ok(url.clone());
            }
        }
        let url = reqwest::Url::parse(&uri.to_string())
            .map_err(|e| BoundedHttpError::Request(e.to_string()))?;
        *last = Some((uri.clone(), url.clone()));
        Ok(url)
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, BoundedHttpError> {
        let (parts, body) = request.into_parts();
        let url = self.url(&parts.uri)?;
        // openidconnect and reqwest share the `http` crate: method and
        // headers pass as they are, without being parsed again.
        let response = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| BoundedHttpError::Unreachable(describe_reqwest(&e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_limited(response, self.limit)
            .await
            .map_err(|e| match e {
                FederationError::BadResponse(_) => BoundedHttpError::TooLarge(self.limit),
                other => BoundedHttpError::Unreachable(other.to_string()),
            })?;
        let mut answer = HttpResponse::new(body);
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

impl<'c> AsyncHttpClient<'c> for BoundedHttp {
    type Error = BoundedHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoundedHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_own_parsed_url() {
        let http = BoundedHttp::new(reqwest::Client::new(), 1024);
        let token: Uri = "https://idp.example/token".parse().expect("uri");
        let keys: Uri = "https://idp.example/jwks?v=2".parse().expect("uri");
        for uri in [&token, &token, &keys, &token, &keys, &keys] {
            assert_eq!(http.url(uri).expect("url").as_str(), uri.to_string());
        }
    }
}
