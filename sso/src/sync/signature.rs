//! Org sync's request signing (both directions): `X-Sync-Timestamp` and
//! `X-Sync-Signature`, as in `api::crypto::signed_request`.

pub use api::crypto::signed_request::{MAX_SKEW_SECS, Refusal, sign, verify};

pub const TIMESTAMP_HEADER: &str = "x-sync-timestamp";
pub const SIGNATURE_HEADER: &str = "x-sync-signature";
