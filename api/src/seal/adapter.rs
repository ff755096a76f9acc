//! The signing services (SEC-08): the city runs certified signing, e-seal
//! and time-stamp services; the product reaches them through this one
//! interface, and ships a local implementation of it (SM2 with a key from
//! configuration, SM3 document hashes, a local time stamp) used by default
//! and in tests. A certified service plugs in behind the same trait.

use serde::Serialize;

use crate::crypto::sign::{SignError, Sm2Signer, verify_der};

/// A stamp applied to a document hash (GB/T 38540's SES_Signature, reduced
/// to what we keep on record).
#[derive(Debug, Clone, Serialize)]
pub struct Stamp {
    /// Hex DER SM2 signature over `document_sm3 ‖ seal ‖ time`.
    pub signature: String,
    /// The time stamp token (local: a signed `time ‖ document_sm3`).
    pub time_stamp: String,
    pub stamped_at: time::OffsetDateTime,
}

pub trait SignService: Send + Sync + 'static {
    /// Which key signs (recorded with each signature).
    fn key_id(&self) -> &str;
    /// The public key (PEM), which a peer needs to check our signatures
    /// (the filings' data packages carry it).
    fn public_key_pem(&self) -> &str;
    /// SM2 signature (hex DER) over `message`.
    fn sign(&self, message: &[u8]) -> String;
    /// Checks a signature made by this service.
    fn verify(&self, message: &[u8], signature_hex: &str) -> Result<(), SignError>;
    /// Stamps a document, known by its SM3, with the seal `cert_ref`.
    fn stamp(&self, document_sm3: &str, cert_ref: &str) -> Stamp;
}

/// The local implementation: one SM2 key from `crypto.signing_key`.
pub struct LocalSignService {
    signer: Sm2Signer,
    public_pem: String,
    key_id: String,
}

impl LocalSignService {
    /// The service with the key `crypto.signing_key`.
    pub fn from_config(c: &crate::config::CryptoConfig) -> Result<Self, SignError> {
        use secrecy::ExposeSecret;
        Self::new(c.signing_key.expose_secret())
    }

    pub fn new(secret_hex: &str) -> Result<Self, SignError> {
        let signer = Sm2Signer::from_hex(secret_hex)?;
        let public_pem = signer.public_key_pem()?;
        let key_id = key_id_of(&public_pem);
        Ok(Self {
            signer,
            public_pem,
            key_id,
        })
    }
}

/// A key's id: the start of the SM3 of its public key, so a peer's key
/// named in a package is known by the same id on both sides.
pub fn key_id_of(public_pem: &str) -> String {
    format!(
        "local-sm2-{}",
        &hex::encode(crate::crypto::sm3(public_pem.as_bytes()))[..16]
    )
}

impl SignService for LocalSignService {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.signer.sign_der(message))
    }

    fn verify(&self, message: &[u8], signature_hex: &str) -> Result<(), SignError> {
        let der = hex::decode(signature_hex).map_err(|_| SignError::BadSignature)?;
        verify_der(&self.public_pem, message, &der)
    }

    fn stamp(&self, document_sm3: &str, cert_ref: &str) -> Stamp {
        let now = crate::clock::now();
        let at = crate::clock::rfc3339(now);
        let signature = self.sign(format!("{document_sm3}\n{cert_ref}\n{at}").as_bytes());
        let token = self.sign(format!("tsa\n{at}\n{document_sm3}").as_bytes());
        Stamp {
            signature,
            time_stamp: format!("{at};{token}"),
            stamped_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_refuse_any_change() {
        let s = LocalSignService::new(&"11".repeat(32)).unwrap();
        let sig = s.sign(b"application=1\ndecision=approve");
        assert!(s.verify(b"application=1\ndecision=approve", &sig).is_ok());
        assert!(s.verify(b"application=1\ndecision=reject", &sig).is_err());
        assert!(s.verify(b"application=1\ndecision=approve", "00").is_err());
        assert!(s.key_id().starts_with("local-sm2-"));
        let stamp = s.stamp(&"ab".repeat(32), "seal-1");
        assert!(stamp.time_stamp.contains(';'));
    }
}
