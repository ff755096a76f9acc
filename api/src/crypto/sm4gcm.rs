//! SM4 in GCM mode (AEAD) for personal data at rest.
//!
//! Layout of a sealed value: `version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
//! The version byte names the key generation, so keys can be rotated without
//! rewriting every row at once.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{AesGcm, aead::consts::U12};
use sm4::Sm4;

pub type Sm4Gcm = AesGcm<Sm4, U12>;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("SM4 key must be 16 bytes (32 hex digits)")]
    BadKey,
    #[error("sealed value is malformed or was altered")]
    Tampered,
}

pub struct Sm4Key(Sm4Gcm);

impl Sm4Key {
    pub fn from_hex(hex_key: &str) -> Result<Self, SealError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| SealError::BadKey)?;
        let cipher = Sm4Gcm::new_from_slice(&bytes).map_err(|_| SealError::BadKey)?;
        Ok(Self(cipher))
    }

    /// Encrypts with a fresh random nonce. `aad` binds the value to its
    /// context (for example the column name) so a value copied into another
    /// column does not decrypt.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce = Sm4Gcm::generate_nonce(&mut OsRng);
        // Encryption only fails for inputs beyond GCM's 64 GiB limit.
        let ct = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(SealError::Tampered);
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        self.0
            .decrypt(nonce.into(), Payload { msg: ct, aad })
            .map_err(|_| SealError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm4::cipher::BlockEncrypt;

    const KEY: &str = "0123456789abcdeffedcba9876543210";

    #[test]
    fn sm4_block_matches_gbt_32907() {
        let key = hex::decode(KEY).unwrap();
        let cipher = Sm4::new_from_slice(&key).unwrap();
        let mut block = sm4::cipher::generic_array::GenericArray::clone_from_slice(&key);
        cipher.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    }

    #[test]
    fn sm4_gcm_matches_cross_checked_vector() {
        let key = hex::decode(KEY).unwrap();
        let cipher = Sm4Gcm::new_from_slice(&key).unwrap();
        let ct = cipher
            .encrypt(&[0u8; 12].into(), b"13800138000".as_slice())
            .unwrap();
        assert_eq!(
            hex::encode(ct),
            "822054347ea47b157f551e06119bf8f350b5a2e2e6b1a1a36c4ebf"
        );
    }

    #[test]
    fn seal_round_trips_and_detects_tampering() {
        let key = Sm4Key::from_hex(KEY).unwrap();
        let sealed = key.seal(b"13800138000", b"users.phone");
        assert_eq!(key.open(&sealed, b"users.phone").unwrap(), b"13800138000");
        // Same plaintext, different nonce.
        assert_ne!(sealed, key.seal(b"13800138000", b"users.phone"));
        // Wrong context, flipped bit, truncated.
        assert_eq!(key.open(&sealed, b"other.col"), Err(SealError::Tampered));
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert_eq!(key.open(&flipped, b"users.phone"), Err(SealError::Tampered));
        assert_eq!(
            key.open(&sealed[..10], b"users.phone"),
            Err(SealError::Tampered)
        );
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(Sm4Key::from_hex("abcd").is_err());
        assert!(Sm4Key::from_hex("not hex at all, not hex at all!!").is_err());
    }
}
