//! Personal data (SEC-04): typed values parsed at the edge, encrypted at rest
//! with SM4-GCM, found again through a keyed blind index (HMAC-SM3), and
//! masked whenever shown.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{self, sm4gcm::Sm4Key};

/// A mainland China mobile number, normalised to its 11 digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Accepts `13812345678`, `+86 138 1234 5678`, `0086-138-1234-5678`.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .unwrap_or(&digits);
        let ok = digits.len() == 11
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.as_bytes()[0] == b'1'
            && (b'3'..=b'9').contains(&digits.as_bytes()[1]);
        if ok {
            Ok(Self(digits.to_owned()))
        } else {
            Err("不是有效的中国大陆手机号码")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`: the 3+4 rule common in Chinese government systems.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Debug never prints the number, so a `{:?}` in a log line is safe.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// Masks the middle four digits of an 11-digit number; anything else is
/// masked whole rather than risk showing it.
pub fn mask_phone(phone: &str) -> String {
    if phone.len() == 11 && phone.is_ascii() {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        "***********".to_owned()
    }
}

/// The keys for personal data. Cheap to share behind an `Arc`.
pub struct PiiCipher {
    key: Sm4Key,
    index_key: SecretString,
}

#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    #[error("crypto.pii_key must be 32 hex digits (an SM4 key)")]
    BadKey,
    #[error("stored personal data does not decrypt: it was altered or the key changed")]
    Undecryptable,
}

impl PiiCipher {
    pub fn new(pii_key: &SecretString, index_key: SecretString) -> Result<Self, PiiError> {
        let key = Sm4Key::from_hex(pii_key.expose_secret()).map_err(|_| PiiError::BadKey)?;
        Ok(Self { key, index_key })
    }

    /// Encrypts `value`; `field` (e.g. `"users.phone"`) is bound as
    /// associated data so ciphertext cannot be moved between columns.
    pub fn encrypt(&self, field: &str, value: &str) -> Vec<u8> {
        self.key.seal(value.as_bytes(), field.as_bytes())
    }

    pub fn decrypt(&self, field: &str, sealed: &[u8]) -> Result<String, PiiError> {
        let bytes = self
            .key
            .open(sealed, field.as_bytes())
            .map_err(|_| PiiError::Undecryptable)?;
        String::from_utf8(bytes).map_err(|_| PiiError::Undecryptable)
    }

    /// Deterministic keyed index for exact-match lookups. The field name is
    /// mixed in so equal values in different fields do not correlate.
    pub fn blind_index(&self, field: &str, value: &str) -> String {
        let mac = crypto::hmac_sm3(
            self.index_key.expose_secret().as_bytes(),
            &[field.as_bytes(), &[0], value.as_bytes()],
        );
        hex::encode(mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_parse_accepts_common_spellings() {
        for input in ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678"] {
            assert_eq!(Phone::parse(input).unwrap().as_str(), "13812345678");
        }
    }

    #[test]
    fn phone_parse_rejects_non_mobile_numbers() {
        for input in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "1381234567a",
            "021-12345678",
            "１３８１２３４５６７８",
        ] {
            assert!(Phone::parse(input).is_err(), "{input} should be rejected");
        }
    }

    #[test]
    fn masking_hides_the_middle_and_debug_masks() {
        let phone = Phone::parse("13812345678").unwrap();
        assert_eq!(phone.masked(), "138****5678");
        assert_eq!(format!("{phone:?}"), "Phone(138****5678)");
        assert_eq!(mask_phone("12345"), "***********");
    }

    #[test]
    fn encrypt_decrypt_and_blind_index() {
        let pii = PiiCipher::new(
            &SecretString::from("0123456789abcdeffedcba9876543210"),
            SecretString::from("index key"),
        )
        .unwrap();
        let sealed = pii.encrypt("users.phone", "13812345678");
        assert!(!sealed.windows(11).any(|w| w == b"13812345678"));
        assert_eq!(pii.decrypt("users.phone", &sealed).unwrap(), "13812345678");
        assert!(pii.decrypt("applicants.phone", &sealed).is_err());
        let a = pii.blind_index("users.phone", "13812345678");
        assert_eq!(a, pii.blind_index("users.phone", "13812345678"));
        assert_ne!(a, pii.blind_index("users.phone", "13812345679"));
        assert_ne!(a, pii.blind_index("applicants.phone", "13812345678"));
    }
}
