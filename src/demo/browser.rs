//! A scripted browser for the benchmark and the tests: keeps cookies, never
//! follows redirects on its own (every hop is visible), fills the IdP's
//! login and consent forms like a person would.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use cookie_store::{CookieStore, RawCookie};
use reqwest::header::{HeaderValue, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode, Url};

/// The answer to the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Allow,
    Deny,
}

/// One HTTP exchange.
#[derive(Debug, Clone)]
pub struct Hop {
    pub method: &'static str,
    pub url: String,
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

/// How a scripted login ended.
#[derive(Debug, Clone)]
pub struct LoginRun {
    pub hops: Vec<Hop>,
    /// The service's answer to the callback, if the flow got there.
    pub callback: Option<Hop>,
    /// `data-outcome` of the outcome page, when the callback led there.
    pub outcome: Option<String>,
    /// The reference code shown on the outcome page.
    pub reference: Option<String>,
    /// The outcome page itself.
    pub outcome_page: Option<Hop>,
}

impl LoginRun {
    /// Where the callback sent the browser.
    pub fn landed_at(&self) -> Option<&str> {
        self.callback.as_ref().and_then(|c| c.location.as_deref())
    }
}

pub struct ScriptedBrowser {
    client: Client,
    /// Its own jar rather than reqwest's (the same `cookie_store` inside):
    /// reqwest's `cookies` feature puts a cookie layer, which parses the URL
    /// of every request, into every client of the binary, the service's own
    /// calls to the IdP included, and `bench login` measures that binary.
    jar: Mutex<CookieStore>,
}

impl Default for ScriptedBrowser {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptedBrowser {
    pub fn new() -> ScriptedBrowser {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|_| Client::new());
        ScriptedBrowser {
            client,
            jar: Mutex::default(),
        }
    }

    /// A request to build on; [`ScriptedBrowser::send`] sends it as this
    /// browser.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends `request` with the cookies this browser holds for its address
    /// (unless it carries its own `Cookie` header) and keeps the cookies the
    /// answer sets.
    pub async fn send(&self, request: RequestBuilder) -> reqwest::Result<Response> {
        let mut request = request.build()?;
        let url = request.url().clone();
        if !request.headers().contains_key(COOKIE) {
            if let Some(cookies) = self.cookie_header(&url) {
                request.headers_mut().insert(COOKIE, cookies);
            }
        }
        let response = self.client.execute(request).await?;
        let set = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| RawCookie::parse(value.to_string()).ok());
        self.jar().store_response_cookies(set, &url);
        Ok(response)
    }

    fn jar(&self) -> MutexGuard<'_, CookieStore> {
        self.jar.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        let pairs: Vec<String> = self
            .jar()
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if pairs.is_empty() {
            return None;
        }
        HeaderValue::from_str(&pairs.join("; ")).ok()
    }

    /// The value of cookie `name` this browser would send to `url`.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let url = Url::parse(url).ok()?;
        self.jar()
            .get_request_values(&url)
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    }

    pub async fn get(&self, url: &str) -> anyhow::Result<Hop> {
        let response = self.send(self.request(Method::GET, url)).await?;
        hop("GET", url, response).await
    }

    pub async fn post_form(&self, url: &str, form: &[(String, String)]) -> anyhow::Result<Hop> {
        let response = self
            .send(self.request(Method::POST, url).form(form))
            .await?;
        hop("POST", url, response).await
    }

    /// Starts at `start_url` (the service's `/auth/start/...`), logs in at the
    /// IdP as `login`, answers the consent page, and stops after the service
    /// answered the callback (reading the outcome page if it sent us there).
    pub async fn login(
        &self,
        service_base: &str,
        start_url: &str,
        login: &str,
        password: &str,
        consent: Consent,
    ) -> anyhow::Result<LoginRun> {
        let (hops, callback_url) = self
            .reach_callback(service_base, start_url, login, password, consent)
            .await?;
        let mut run = LoginRun {
            hops,
            callback: None,
            outcome: None,
            reference: None,
            outcome_page: None,
        };
        let Some(callback_url) = callback_url else {
            return Ok(run);
        };
        self.finish_at(&mut run, &callback_url).await?;
        Ok(run)
    }

    /// Calls the service's callback URL and reads the outcome page, if any.
    pub async fn callback(&self, callback_url: &str) -> anyhow::Result<LoginRun> {
        let mut run = LoginRun {
            hops: Vec::new(),
            callback: None,
            outcome: None,
            reference: None,
            outcome_page: None,
        };
        self.finish_at(&mut run, callback_url).await?;
        Ok(run)
    }

    async fn finish_at(&self, run: &mut LoginRun, callback_url: &str) -> anyhow::Result<()> {
        let answer = self.get(callback_url).await?;
        if let Some(location) = &answer.location {
            if location.starts_with("/auth/outcome") {
                let page = self.get(&resolve(&answer.url, location)?).await?;
                run.outcome = attribute(&page.body, "data-outcome");
                run.reference = element_text(&page.body, "reference");
                run.outcome_page = Some(page);
            }
        }
        run.hops.push(answer.clone());
        run.callback = Some(answer);
        Ok(())
    }

    /// Drives the flow up to the IdP's redirect to the service's callback and
    /// returns that URL without calling it (`None` if the flow stopped earlier).
    pub async fn reach_callback(
        &self,
        service_base: &str,
        start_url: &str,
        login: &str,
        password: &str,
        consent: Consent,
    ) -> anyhow::Result<(Vec<Hop>, Option<String>)> {
        let callback_prefix = format!("{}/auth/callback/", service_base.trim_end_matches('/'));
        let mut hops = Vec::new();
        let mut current = self.get(start_url).await?;
        for _ in 0..12 {
            hops.push(current.clone());
            if let Some(location) = &current.location {
                let next = resolve(&current.url, location)?;
                if next.starts_with(&callback_prefix) {
                    return Ok((hops, Some(next)));
                }
                current = self.get(&next).await?;
                continue;
            }
            if current.status != StatusCode::OK {
                return Ok((hops, None));
            }
            let Some(form) = parse_form(&current.body) else {
                return Ok((hops, None));
            };
            let mut fields = form.fields.clone();
            if form.has_field("password") {
                set_field(&mut fields, "login", login);
                set_field(&mut fields, "password", password);
            } else if form.has_button("decision") {
                let value = match consent {
                    Consent::Allow => "allow",
                    Consent::Deny => "deny",
                };
                set_field(&mut fields, "decision", value);
            } else {
                return Ok((hops, None));
            }
            let action = resolve(&current.url, &form.action)?;
            current = self.post_form(&action, &fields).await?;
        }
        anyhow::bail!("the login did not reach the service's callback within 12 hops")
    }
}

async fn hop(method: &'static str, url: &str, response: Response) -> anyhow::Result<Hop> {
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.text().await.unwrap_or_default();
    Ok(Hop {
        method,
        url: url.to_string(),
        status,
        location,
        body,
    })
}

fn resolve(base: &str, reference: &str) -> anyhow::Result<String> {
    Ok(url::Url::parse(base)?.join(reference)?.to_string())
}

fn set_field(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    fields.retain(|(k, _)| k != name);
    fields.push((name.to_string(), value.to_string()));
}

/// The first `<form>` of a page: its action and named inputs.
#[derive(Debug, Clone)]
pub struct Form {
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub buttons: Vec<(String, String)>,
}

impl Form {
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }

    pub fn has_button(&self, name: &str) -> bool {
        self.buttons.iter().any(|(k, _)| k == name)
    }
}

/// Finds the first form with `method="post"` and reads its inputs and buttons.
pub fn parse_form(html: &str) -> Option<Form> {
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let after = &rest[start..];
        let tag_end = after.find('>')?;
        let tag = &after[..tag_end];
        let end = after.find("</form>").unwrap_or(after.len());
        let body = &after[tag_end..end];
        if attr(tag, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
            let action = attr(tag, "action").unwrap_or_default();
            let mut fields = Vec::new();
            let mut buttons = Vec::new();
            for (element, list) in [("<input", &mut fields), ("<button", &mut buttons)] {
                let mut scan = body;
                while let Some(pos) = scan.find(element) {
                    let piece = &scan[pos..];
                    let close = piece.find('>').unwrap_or(piece.len());
                    let tag = &piece[..close];
                    if let Some(name) = attr(tag, "name") {
                        list.push((name, attr(tag, "value").unwrap_or_default()));
                    }
                    scan = &piece[close..];
                }
            }
            return Some(Form {
                action,
                fields,
                buttons,
            });
        }
        rest = &after[tag_end..];
    }
    None
}

fn attr(tag: &str, name: &str) -> Option<String> {
    for quote in ['"', '\''] {
        let needle = format!(" {name}={quote}");
        if let Some(pos) = tag.find(&needle) {
            let value = &tag[pos + needle.len()..];
            let end = value.find(quote)?;
            return Some(unescape(&value[..end]));
        }
    }
    None
}

/// Value of the first `name="..."` attribute anywhere in the page.
pub fn attribute(html: &str, name: &str) -> Option<String> {
    attr(html, name)
}

/// Text of the element with `id="..."`.
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let needle = format!("id=\"{id}\"");
    let pos = html.find(&needle)?;
    let after = &html[pos..];
    let start = after.find('>')? + 1;
    let end = after[start..].find('<')?;
    Some(unescape(after[start..start + end].trim()))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forms_like_a_browser() {
        let html = r#"<form method="get" action="/x"><input name="q"></form>
            <form action="/aas/login?a=1&amp;b=2" method="post">
            <input type="hidden" name="pending" value="ab&quot;c">
            <input name="login"><input type="password" name="password">
            <button name="decision" value="allow">Предоставить</button></form>"#;
        let form = parse_form(html).expect("post form");
        assert_eq!(form.action, "/aas/login?a=1&b=2");
        assert!(form.has_field("password"));
        assert!(form.has_button("decision"));
        assert_eq!(form.fields[0], ("pending".to_string(), "ab\"c".to_string()));
        assert_eq!(
            element_text(
                r#"<span class="ref" id="reference">7KQ2-M9XD</span>"#,
                "reference"
            )
            .as_deref(),
            Some("7KQ2-M9XD")
        );
    }
}
