//! Signed requests between us and the city's platforms (org sync, the
//! one-net service, the "two pages"): a timestamp (unix seconds) and the hex
//! HMAC-SM3 with the shared secret over `timestamp ‖ "\n" ‖ payload`, where
//! the payload is the raw body (or, for a GET, `METHOD ␠ path?query`). Each
//! connector names its own two headers. A timestamp more than five minutes
//! off is refused, so a captured request cannot be replayed later.

use super::{hmac_sm3, mac_eq};

pub const MAX_SKEW_SECS: i64 = 300;

pub fn sign(secret: &[u8], timestamp: i64, payload: &[u8]) -> String {
    hex::encode(hmac_sm3(
        secret,
        &[timestamp.to_string().as_bytes(), b"\n", payload],
    ))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Stale,
    Mismatch,
}

pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    payload: &[u8],
    now: i64,
) -> Result<(), Refusal> {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(Refusal::Missing);
    };
    let ts: i64 = ts.trim().parse().map_err(|_| Refusal::Missing)?;
    if (now - ts).abs() > MAX_SKEW_SECS {
        return Err(Refusal::Stale);
    }
    let given = hex::decode(sig.trim()).map_err(|_| Refusal::Mismatch)?;
    let expected = hex::decode(sign(secret, ts, payload)).map_err(|_| Refusal::Mismatch)?;
    if mac_eq(&given, &expected) {
        Ok(())
    } else {
        Err(Refusal::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_refuse_changes() {
        let sig = sign(b"secret", 1_800_000_000, b"{\"changes\":[]}");
        let ok =
            |ts: &str, s: &str, body: &[u8], now| verify(b"secret", Some(ts), Some(s), body, now);
        assert_eq!(
            ok("1800000000", &sig, b"{\"changes\":[]}", 1_800_000_100),
            Ok(())
        );
        assert_eq!(
            ok("1800000000", &sig, b"{\"changes\":[1]}", 1_800_000_100),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            ok("1800000001", &sig, b"{\"changes\":[]}", 1_800_000_100),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            ok("1800000000", &sig, b"{\"changes\":[]}", 1_800_000_301),
            Err(Refusal::Stale)
        );
        assert_eq!(
            ok("1800000000", "zz", b"{\"changes\":[]}", 1_800_000_000),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            verify(b"secret", None, Some(&sig), b"", 0),
            Err(Refusal::Missing)
        );
        assert_eq!(
            verify(
                b"other",
                Some("1800000000"),
                Some(&sig),
                b"{\"changes\":[]}",
                1_800_000_000
            ),
            Err(Refusal::Mismatch)
        );
    }
}
