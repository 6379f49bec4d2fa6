//! The scopes this provider knows, as a small set type: requests,
//! client permissions, codes and token families all carry one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::errors::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Required in every request: this is an OpenID Provider only.
    Openid,
    /// Name parts (family, given, middle name).
    Profile,
    /// Role, school, region, and the pupils the person may see.
    Diary,
    /// A refresh-token family that outlives the browser session.
    OfflineAccess,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Openid,
        Scope::Profile,
        Scope::Diary,
        Scope::OfflineAccess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Openid => "openid",
            Scope::Profile => "profile",
            Scope::Diary => "diary",
            Scope::OfflineAccess => "offline_access",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u8 {
        match self {
            Scope::Openid => 1,
            Scope::Profile => 2,
            Scope::Diary => 4,
            Scope::OfflineAccess => 8,
        }
    }
}

/// A set of [`Scope`]s; prints space-separated in a fixed order, as the
/// `scope` parameter and claim are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Scopes(u8);

impl Scopes {
    pub fn empty() -> Scopes {
        Scopes(0)
    }

    pub fn with(self, scope: Scope) -> Scopes {
        Scopes(self.0 | scope.bit())
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Space-separated names; an unknown name is `invalid_scope` naming it
    /// (RFC 6749 §3.3). A name given twice is harmless and kept once.
    pub fn parse(text: &str) -> Result<Scopes> {
        let mut scopes = Scopes::empty();
        for name in text.split(' ').filter(|n| !n.is_empty()) {
            match Scope::parse(name) {
                Some(scope) => scopes = scopes.with(scope),
                None => {
                    let shown: String = name.chars().take(40).collect();
                    return Err(Error::invalid_scope(format!("unknown scope {shown}")));
                }
            }
        }
        Ok(scopes)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(Scopes::empty(), Scopes::with)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in self.iter() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
            first = false;
        }
        Ok(())
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Scopes::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let cases = [
            ("openid", Some("openid")),
            ("diary openid", Some("openid diary")),
            ("openid  profile openid", Some("openid profile")),
            (
                "openid offline_access diary profile",
                Some("openid profile diary offline_access"),
            ),
            ("openid email", None),
            ("OPENID", None),
        ];
        for (text, printed) in cases {
            let parsed = Scopes::parse(text).ok().map(|s| s.to_string());
            assert_eq!(parsed.as_deref(), printed, "{text}");
        }
    }

    #[test]
    fn subset() {
        let all = Scopes::parse("openid profile diary").unwrap();
        assert!(Scopes::parse("openid diary").unwrap().is_subset_of(all));
        assert!(!Scopes::parse("openid offline_access")
            .unwrap()
            .is_subset_of(all));
    }

    #[test]
    fn serde_round_trip() {
        let scopes = Scopes::parse("openid diary").unwrap();
        let json = serde_json::to_string(&scopes).unwrap();
        assert_eq!(json, "\"openid diary\"");
        assert_eq!(serde_json::from_str::<Scopes>(&json).unwrap(), scopes);
    }
}
