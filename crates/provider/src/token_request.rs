//! The token endpoint's form, by grant type.

use crate::errors::{Error, Result};
use crate::params::Params;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest<'a> {
    AuthorizationCode {
        code: &'a str,
        redirect_uri: Option<&'a str>,
        code_verifier: Option<&'a str>,
    },
    RefreshToken {
        refresh_token: &'a str,
        scope: Option<&'a str>,
    },
}

/// Parses the form after client authentication read its own fields.
pub fn parse_token_request(params: &Params) -> Result<TokenRequest<'_>> {
    params.refuse_repeats()?;
    match params.required("grant_type")? {
        "authorization_code" => Ok(TokenRequest::AuthorizationCode {
            code: params.required("code")?,
            redirect_uri: params.get("redirect_uri"),
            code_verifier: params.get("code_verifier"),
        }),
        "refresh_token" => Ok(TokenRequest::RefreshToken {
            refresh_token: params.required("refresh_token")?,
            scope: params.get("scope"),
        }),
        _ => Err(Error::UnsupportedGrantType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types() {
        let cases: Vec<(&str, std::result::Result<&str, &str>)> = vec![
            (
                "grant_type=authorization_code&code=c&code_verifier=v",
                Ok("code"),
            ),
            (
                "grant_type=refresh_token&refresh_token=r&scope=openid",
                Ok("refresh"),
            ),
            ("grant_type=authorization_code", Err("invalid_request")),
            ("grant_type=refresh_token", Err("invalid_request")),
            (
                "grant_type=password&username=a&password=b",
                Err("unsupported_grant_type"),
            ),
            (
                "grant_type=client_credentials",
                Err("unsupported_grant_type"),
            ),
            ("code=c", Err("invalid_request")),
            (
                "grant_type=authorization_code&code=c&code=d",
                Err("invalid_request"),
            ),
        ];
        for (form, expected) in cases {
            let params = Params::parse(form);
            let got = parse_token_request(&params)
                .map(|r| match r {
                    TokenRequest::AuthorizationCode { .. } => "code",
                    TokenRequest::RefreshToken { .. } => "refresh",
                })
                .map_err(|e| e.code());
            assert_eq!(got, expected, "{form}");
        }
    }
}
