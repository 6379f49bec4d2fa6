//! Redirect URIs a client may register, and how a presented one matches.
//!
//! Allowed (RFC 8252 for native apps, RFC 6749 §3.1.2 otherwise):
//! - `https://` with a host;
//! - `http://127.0.0.1` or `http://[::1]` (loopback, RFC 8252 §7.3): the
//!   port may differ at request time, since a native app binds whatever
//!   port is free; everything else must match;
//! - a private-use scheme in reverse-domain form such as
//!   `ru.school.diary:/oauth2` (RFC 8252 §7.1).
//!
//! `http://localhost` is refused (RFC 8252 §8.3: the name may resolve
//! elsewhere). No fragments. Matching is otherwise exact string equality:
//! no prefix or wildcard rules, which is where open redirectors come from.

use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    registered: String,
    /// The parsed registration when it is a loopback URI, for port-free
    /// matching.
    loopback: Option<Url>,
}

impl RedirectUri {
    /// Validates a registered URI; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<RedirectUri, String> {
        if text.contains('#') {
            return Err("has a fragment".into());
        }
        let url = Url::parse(text).map_err(|e| format!("is not an absolute URI ({e})"))?;
        let loopback = match url.scheme() {
            "https" => {
                if url.host().is_none() {
                    return Err("https URI without a host".into());
                }
                None
            }
            "http" => match url.host() {
                Some(Host::Ipv4(ip)) if ip.is_loopback() => Some(url.clone()),
                Some(Host::Ipv6(ip)) if ip.is_loopback() => Some(url.clone()),
                Some(Host::Domain("localhost")) => {
                    return Err(
                        "uses localhost; use http://127.0.0.1 or http://[::1] (RFC 8252 §8.3)"
                            .into(),
                    )
                }
                _ => return Err("plain http is allowed only on the loopback address".into()),
            },
            scheme if is_private_use_scheme(scheme) => None,
            scheme => {
                return Err(format!(
                    "scheme {scheme} is neither https, loopback http, nor a reverse-domain private-use scheme"
                ))
            }
        };
        if loopback.is_some() && url.as_str() != text {
            // Port-free matching compares normalised forms; a registration
            // in another spelling would never match, so say so at load.
            return Err(format!("write it as {}", url.as_str()));
        }
        if url.username() != "" || url.password().is_some() {
            return Err("carries user information".into());
        }
        Ok(RedirectUri {
            registered: text.to_string(),
            loopback,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.registered
    }

    /// Whether the presented URI is this one: exactly, or — for loopback —
    /// the same URI with another port.
    pub fn matches(&self, presented: &str) -> bool {
        if presented == self.registered {
            return true;
        }
        let Some(registered) = &self.loopback else {
            return false;
        };
        let Ok(url) = Url::parse(presented) else {
            return false;
        };
        let mut expected = registered.clone();
        if expected.set_port(url.port()).is_err() {
            return false;
        }
        // Equal text, so nothing but the port differs (not the host's
        // spelling, the path, the query, user info or a fragment).
        expected.as_str() == presented
    }
}

/// RFC 8252 §7.1: a reverse domain name with at least one period, such as
/// `ru.school.diary`; single words like `diary` collide between apps.
fn is_private_use_scheme(scheme: &str) -> bool {
    scheme.contains('.')
        && scheme.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
