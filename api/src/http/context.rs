//! What every part of a request may need to know about it: its id, the
//! language the caller reads, and where it came from. Set once by the
//! outermost middleware as a task-local, so an error rendered deep inside a
//! handler still carries the request id and the right language.

use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// Chinese unless the caller's first preference is English.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let first = header
            .and_then(|h| h.split(',').next())
            .map(|tag| tag.trim().to_ascii_lowercase());
        match first {
            Some(tag) if tag == "en" || tag.starts_with("en-") => Lang::En,
            _ => Lang::Zh,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub lang: Lang,
    pub source_ip: Option<IpAddr>,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

pub async fn scope<F: Future>(ctx: RequestContext, fut: F) -> F::Output {
    CURRENT.scope(ctx, fut).await
}

/// The current request's context; outside a request (CLI, background jobs)
/// an empty one.
pub fn current() -> RequestContext {
    CURRENT.try_with(Clone::clone).unwrap_or(RequestContext {
        request_id: String::new(),
        lang: Lang::Zh,
        source_ip: None,
    })
}

/// A caller may pass its own `X-Request-Id` for tracing across systems; we
/// keep it only if it is short and plain, so it is safe in logs and headers.
pub fn accept_request_id(header: Option<&str>) -> String {
    match header {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            id.to_owned()
        }
        _ => ulid::Ulid::new().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_defaults_to_chinese() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("zh-CN,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en-US,zh;q=0.5")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("fr")), Lang::Zh);
    }

    #[test]
    fn hostile_request_ids_are_replaced() {
        assert_eq!(accept_request_id(Some("abc-123")), "abc-123");
        for bad in ["", "a\nb", "<script>", &"x".repeat(65)] {
            let id = accept_request_id(Some(bad));
            assert_ne!(id, bad);
            assert_eq!(id.len(), 26);
        }
    }
}
