//! Request parameters from a raw query string or form body. OAuth forbids
//! repeating a parameter (RFC 6749 §3.1 and §3.2): a framework's usual
//! "last one wins" map would hide exactly the confusion the rule prevents,
//! so parsing keeps every name and reports a repeat.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use crate::errors::{Error, Result};

/// Parameters with their values form-decoded; an empty value counts as
/// absent (RFC 6749 §3.1: "Parameters sent without a value MUST be treated
/// as if they were omitted").
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    /// Parses `a=1&b=2` (query string without `?`, or a form body).
    pub fn parse(raw: &str) -> Params {
        let mut params = Params::default();
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            if value.is_empty() {
                continue;
            }
            params.add(&name, &value);
        }
        params
    }

    /// From pairs a framework already decoded (tests, or a handler that
    /// kept the pairs with repeats).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Params {
        let mut params = Params::default();
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            params.add(name, value);
        }
        params
    }

    fn add(&mut self, name: &str, value: &str) {
        match self.values.entry(name.to_string()) {
            Entry::Occupied(_) => {
                if !self.repeated.iter().any(|r| r == name) {
                    self.repeated.push(name.to_string());
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(value.to_string());
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|r| r == name)
    }

    /// Names given more than once, in the order first seen.
    pub fn repeated(&self) -> &[String] {
        &self.repeated
    }

    /// `invalid_request` naming the first repeated parameter, if any.
    pub fn refuse_repeats(&self) -> Result<()> {
        match self.repeated.first() {
            Some(name) => Err(Error::invalid_request(format!(
                "parameter {name} was given more than once"
            ))),
            None => Ok(()),
        }
    }

    /// A value, or `invalid_request` naming it when absent.
    pub fn required(&self, name: &'static str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| Error::invalid_request(format!("{name} is required")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_and_empty_values() {
        let cases = [
            ("a=1&b=2", vec![], Some("1")),
            ("a=1&a=2", vec!["a"], Some("1")),
            ("a=&a=2", vec![], Some("2")),
            ("a=1&b=2&a=3&b=4", vec!["a", "b"], Some("1")),
            ("b=%20x+y", vec![], None),
        ];
        for (raw, repeated, a) in cases {
            let params = Params::parse(raw);
            assert_eq!(params.repeated(), repeated.as_slice(), "{raw}");
            assert_eq!(params.get("a"), a, "{raw}");
        }
        assert_eq!(Params::parse("b=%20x+y").get("b"), Some(" x y"));
    }

    #[test]
    fn refuse_repeats_names_the_parameter() {
        let err = Params::parse("scope=openid&scope=profile")
            .refuse_repeats()
            .unwrap_err();
        assert_eq!(err.code(), "invalid_request");
        assert!(err.description().unwrap().contains("scope"));
    }
}
