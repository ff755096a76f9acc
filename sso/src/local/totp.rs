//! TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, one step of skew
//! either way, and no step accepted twice (RFC 6238 §5.2: "the verifier MUST
//! NOT accept the second attempt of the OTP after the successful
//! validation"). totp-rs's own `check` says only yes or no, so the step that
//! matched is found here, and the caller stores it.

use totp_rs::{Algorithm, TOTP};

pub const STEP: u64 = 30;
pub const DIGITS: usize = 6;
pub const ISSUER: &str = "上海市政务信息资源应用系统";

fn totp(secret: &[u8], account: &str) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP,
        secret.to_vec(),
        Some(ISSUER.to_owned()),
        account.to_owned(),
    )
    .ok()
}

/// A new 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// The `otpauth://` URI an authenticator app scans at enrolment.
pub fn otpauth_uri(secret: &[u8], account: &str) -> Option<String> {
    totp(secret, account).map(|t| t.get_url())
}

/// The step (unix time / 30) whose code matches, if it lies within one step
/// of `now` and after `last_used`. Comparison is constant-time.
pub fn verify(secret: &[u8], code: &str, now_unix: u64, last_used: Option<i64>) -> Option<i64> {
    let t = totp(secret, "verify")?;
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = (now_unix / STEP) as i64;
    let mut matched = None;
    for step in [now_step - 1, now_step, now_step + 1] {
        if step < 0 {
            continue;
        }
        let candidate = t.generate(step as u64 * STEP);
        if api::crypto::mac_eq_str(&candidate, code) {
            matched = Some(step);
        }
    }
    matched.filter(|step| last_used.is_none_or(|last| *step > last))
}

/// The current code, for tests and the demo.
pub fn current_code(secret: &[u8], now_unix: u64) -> Option<String> {
    totp(secret, "code").map(|t| t.generate(now_unix))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 seed, truncated to the 6 digits we use.
    #[test]
    fn rfc_6238_vectors() {
        let seed = b"12345678901234567890";
        for (t, code8) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(current_code(seed, t).unwrap(), &code8[2..], "t={t}");
        }
    }

    #[test]
    fn accepts_one_step_either_way_and_never_twice() {
        let secret = new_secret();
        let now = 1_800_000_000u64;
        let step = (now / STEP) as i64;
        for offset in [-1i64, 0, 1] {
            let code = current_code(&secret, (now as i64 + offset * STEP as i64) as u64).unwrap();
            assert_eq!(verify(&secret, &code, now, None), Some(step + offset));
        }
        let code = current_code(&secret, now).unwrap();
        assert_eq!(
            verify(&secret, &code, now, Some(step)),
            None,
            "replay of the same step"
        );
        assert_eq!(
            verify(&secret, &code, now, Some(step + 1)),
            None,
            "older than the last used"
        );
        let stale = current_code(&secret, now - 2 * STEP).unwrap();
        assert_eq!(verify(&secret, &stale, now, None), None);
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert_eq!(verify(&secret, bad, now, None), None);
        }
    }
}
