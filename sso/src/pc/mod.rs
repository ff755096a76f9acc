//! PC sign-in through the unified office platform (GK-02): OAuth 2.0
//! authorization code with PKCE (S256 only), OpenID Connect ID tokens, and
//! OIDC Back-Channel Logout.
//!
//! How the browser holds its session: the callback puts the refresh token
//! in an HttpOnly, Secure, SameSite=Strict cookie whose path is `/auth/pc`,
//! and the single-page app trades it for short-lived access tokens
//! (`POST /auth/pc/token`), which it keeps in memory and sends as bearer
//! tokens. Script on the page (XSS) can never read the long-lived
//! credential, other sites cannot use it (SameSite=Strict, and the token
//! call needs an `X-Requested-With` header, which a cross-site form cannot
//! send and cross-site script cannot send without a CORS preflight we never
//! allow), and the API itself stays one bearer-token API for every channel.

pub mod client;
pub mod routes;
#[cfg(feature = "stand-ins")]
pub mod standin;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

pub const STATE_COOKIE: &str = "gov_pc_state";
pub const REFRESH_COOKIE: &str = "gov_pc_rt";
pub const COOKIE_PATH: &str = "/auth/pc";

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly and Secure always.
pub fn set_cookie(name: &str, value: &str, same_site: &str, max_age_secs: u64) -> String {
    format!(
        "{name}={value}; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite={same_site}; Max-Age={max_age_secs}"
    )
}

/// Only same-site paths may be returned to after login: never another
/// origin (an open redirect), never a protocol-relative `//host`.
pub fn safe_return_to(raw: Option<&str>) -> String {
    match raw {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && p.len() <= 512 =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(safe_return_to(Some("/cases?tab=1")), "/cases?tab=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/");
        }
        assert_eq!(safe_return_to(None), "/");
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "a=1; gov_pc_rt=xyz; b=2".parse().unwrap());
        assert_eq!(cookie(&h, REFRESH_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "gov_pc"), None);
    }
}
