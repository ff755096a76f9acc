//! Commercial cryptography (GB/T 39786): SM3 digests, HMAC-SM3, SM4-GCM and
//! SM2 signatures, all from RustCrypto.
//!
//! These crates are not certified crypto modules. Production signing goes
//! through the city's certified services behind an adapter (SEC-08); the
//! functions here protect data at rest and are the local implementation used
//! in development and tests.

pub mod sign;
pub mod signed_request;
pub mod sm4gcm;

use hmac::{Hmac, Mac};
use sm3::{Digest, Sm3};

type HmacSm3 = Hmac<Sm3>;

/// SM3 digest (GB/T 32905).
pub fn sm3(data: &[u8]) -> [u8; 32] {
    Sm3::digest(data).into()
}

/// HMAC-SM3 over the concatenation of `parts`. Callers that hash several
/// fields must make them unambiguous first (length-prefix or a fixed layout).
pub fn hmac_sm3(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <HmacSm3 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Compares two MACs in constant time.
pub fn mac_eq(a: &[u8], b: &[u8]) -> bool {
    use hmac::digest::CtOutput;
    type Out = CtOutput<HmacSm3>;
    if a.len() != 32 || b.len() != 32 {
        return false;
    }
    let a: [u8; 32] = a.try_into().unwrap_or([0; 32]);
    let b: [u8; 32] = b.try_into().unwrap_or([1; 32]);
    Out::new(a.into()) == Out::new(b.into())
}

/// Compares two short secrets (codes, tokens) in constant time for equal
/// lengths; the length itself is not secret.
pub fn mac_eq_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from ../shared/reference/domain.md §0 (GB/T 32905 examples and
    // an HMAC-SM3 value cross-checked with OpenSSL, Python and gmssl).
    #[test]
    fn sm3_matches_gbt_32905_examples() {
        assert_eq!(
            hex::encode(sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            hex::encode(sm3("abcd".repeat(16).as_bytes())),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    #[test]
    fn hmac_sm3_matches_cross_checked_vector() {
        assert_eq!(
            hex::encode(hmac_sm3(b"key", &[b"abc"])),
            "28e63256e7c5a087b1f073265dc53092163f7b82729735d06f28f10af9d52393"
        );
        // Split input gives the same MAC as the whole.
        assert_eq!(
            hmac_sm3(b"key", &[b"a", b"bc"]),
            hmac_sm3(b"key", &[b"abc"])
        );
    }

    #[test]
    fn mac_eq_rejects_differences_and_wrong_lengths() {
        let m = hmac_sm3(b"key", &[b"abc"]);
        let mut other = m;
        other[31] ^= 1;
        assert!(mac_eq(&m, &m));
        assert!(!mac_eq(&m, &other));
        assert!(!mac_eq(&m, &m[..31]));
    }
}
