//! SM2 signatures (GB/T 32918) with SM3 and the default distinguishing id.
//!
//! Signatures travel as DER `SEQUENCE { r INTEGER, s INTEGER }`, the form
//! OpenSSL, BouncyCastle and GM/T 0018 devices produce; `sm2` 0.13 itself only
//! reads raw `r ‖ s`, so this module converts both ways.

use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sm2::{PublicKey, SecretKey};

/// The default user id of GB/T 35276 §5.5 ("1234567812345678").
pub const DEFAULT_DIST_ID: &str = "1234567812345678";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    #[error("SM2 key is malformed")]
    BadKey,
    #[error("signature is malformed")]
    BadSignature,
    #[error("signature does not verify")]
    Invalid,
}

pub struct Sm2Signer {
    key: SigningKey,
}

impl Sm2Signer {
    /// A signer from a 32-byte secret scalar in hex.
    pub fn from_hex(secret_hex: &str) -> Result<Self, SignError> {
        let bytes = hex::decode(secret_hex.trim()).map_err(|_| SignError::BadKey)?;
        let secret = SecretKey::from_slice(&bytes).map_err(|_| SignError::BadKey)?;
        let key = SigningKey::new(DEFAULT_DIST_ID, &secret).map_err(|_| SignError::BadKey)?;
        Ok(Self { key })
    }

    pub fn generate() -> Result<Self, SignError> {
        let secret = SecretKey::random(&mut rand::rngs::OsRng);
        let key = SigningKey::new(DEFAULT_DIST_ID, &secret).map_err(|_| SignError::BadKey)?;
        Ok(Self { key })
    }

    /// Signs `message` (SM3 with Z-value is applied inside) and answers DER.
    pub fn sign_der(&self, message: &[u8]) -> Vec<u8> {
        let sig: Signature = self.key.sign(message);
        raw_to_der(&sig.to_bytes())
    }

    pub fn public_key_pem(&self) -> Result<String, SignError> {
        PublicKey::from(self.key.verifying_key())
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| SignError::BadKey)
    }
}

/// Verifies a DER signature against a PEM (SubjectPublicKeyInfo) public key.
pub fn verify_der(public_key_pem: &str, message: &[u8], der: &[u8]) -> Result<(), SignError> {
    let public = PublicKey::from_public_key_pem(public_key_pem).map_err(|_| SignError::BadKey)?;
    let key = VerifyingKey::new(DEFAULT_DIST_ID, public).map_err(|_| SignError::BadKey)?;
    let raw = der_to_raw(der)?;
    let sig = Signature::from_slice(&raw).map_err(|_| SignError::BadSignature)?;
    key.verify(message, &sig).map_err(|_| SignError::Invalid)
}

fn raw_to_der(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    let r = der_integer(r);
    let s = der_integer(s);
    let mut out = vec![0x30, (r.len() + s.len()) as u8];
    out.extend(r);
    out.extend(s);
    out
}

fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let trimmed = &bytes[first..];
    let pad = trimmed[0] & 0x80 != 0;
    let mut out = vec![0x02, (trimmed.len() + usize::from(pad)) as u8];
    if pad {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
    out
}

/// Reads `SEQUENCE { INTEGER, INTEGER }` into 64 bytes `r ‖ s`. Strict:
/// short-form lengths only (an SM2 signature is at most 72 bytes), no
/// trailing bytes, integers at most 32 bytes after the sign pad.
fn der_to_raw(der: &[u8]) -> Result<[u8; 64], SignError> {
    let bad = SignError::BadSignature;
    let [0x30, len, body @ ..] = der else {
        return Err(bad);
    };
    if usize::from(*len) != body.len() {
        return Err(bad);
    }
    let mut out = [0u8; 64];
    let mut rest = body;
    for half in out.chunks_mut(32) {
        let [0x02, n, tail @ ..] = rest else {
            return Err(SignError::BadSignature);
        };
        let n = usize::from(*n);
        if n == 0 || n > tail.len() {
            return Err(SignError::BadSignature);
        }
        let (int, after) = tail.split_at(n);
        let int = if int.len() == 33 && int[0] == 0 {
            &int[1..]
        } else {
            int
        };
        if int.len() > 32 {
            return Err(SignError::BadSignature);
        }
        half[32 - int.len()..].copy_from_slice(int);
        rest = after;
    }
    if rest.is_empty() { Ok(out) } else { Err(bad) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made with OpenSSL 3.0.19: `openssl genpkey -algorithm SM2`, then
    /// `openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:1234567812345678`
    /// over the UTF-8 bytes of "同意用印"; OpenSSL verified it too.
    const OPENSSL_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEHpCwBPEBuFgCygJoflfecLQt27xF
chTS0SHy0gdMO2gm0549dpwnEQ4PC3STGsVQXzTE+RM6mqZBQHUNz+OTYQ==
-----END PUBLIC KEY-----
";
    const OPENSSL_SIGNATURE: &str = "3045022100f5013f8e5f559f9a9a47f88a0db514f13ecb3d87597e5e74042053ca05791de5022019bd0a98030401210e888d316213d8252ba9fe46212626665bdf9a30b2891228";

    #[test]
    fn verifies_an_openssl_signature() {
        let sig = hex::decode(OPENSSL_SIGNATURE).unwrap();
        verify_der(OPENSSL_PUBLIC_KEY, "同意用印".as_bytes(), &sig).unwrap();
        assert_eq!(
            verify_der(OPENSSL_PUBLIC_KEY, "驳回用印".as_bytes(), &sig),
            Err(SignError::Invalid)
        );
    }

    #[test]
    fn sign_then_verify_round_trips_and_der_is_canonical() {
        let signer = Sm2Signer::generate().unwrap();
        let pem = signer.public_key_pem().unwrap();
        for i in 0..20 {
            let msg = format!("approval {i}");
            let der = signer.sign_der(msg.as_bytes());
            verify_der(&pem, msg.as_bytes(), &der).unwrap();
            assert_eq!(raw_to_der(&der_to_raw(&der).unwrap()), der);
        }
    }

    #[test]
    fn malformed_signatures_and_keys_are_refused() {
        let sig = hex::decode(OPENSSL_SIGNATURE).unwrap();
        let msg = "同意用印".as_bytes();
        let mut trailing = sig.clone();
        trailing.push(0);
        for bad in [&sig[..10], &trailing[..], &[0x30, 0x00][..], &[][..]] {
            assert_eq!(
                verify_der(OPENSSL_PUBLIC_KEY, msg, bad),
                Err(SignError::BadSignature)
            );
        }
        assert_eq!(verify_der("not a key", msg, &sig), Err(SignError::BadKey));
        assert!(Sm2Signer::from_hex("00").is_err());
    }
}
