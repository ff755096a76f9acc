//! The one-net service (一网通办) connector (GK-14): an applicant signed in
//! at the one-net portal hands us a one-time login ticket; we redeem it
//! server-side for their verified profile.
//!
//! The one-net service publishes no spec to us; the protocol follows the
//! usual shape of the city's open interfaces and `standin` is its executable
//! description. Every endpoint, id and secret is configuration.
//!
//! `POST {base}/api/v1/ticket/profile` with body `{"app_id", "ticket"}`,
//! signed like org sync: `X-Onenet-Timestamp` (unix seconds) and
//! `X-Onenet-Signature`, hex HMAC-SM3 with the app secret over
//! `timestamp ‖ "\n" ‖ body`. The answer is HTTP 200 with `code` "0" and the
//! profile in `data`, or another `code` and `msg`:
//! - citizens (`user_type` "person"): `uid`, `name`, `cert_type` (公安部证件
//!   类型代码: 111 resident ID, 414 passport, 516 Hong Kong/Macau permit, 511
//!   Taiwan permit, 553 foreign permanent residence), `cert_no`, `mobile`,
//!   `address`;
//! - companies (`user_type` "legal"): `uid`, `org_name`, `uscc`,
//!   `legal_person`, `contact_name`, `contact_mobile`.

#[cfg(feature = "stand-ins")]
pub mod standin;

use std::time::Duration;

use api::disclosure::applicant::{IdType, Identity, VerifiedProfile};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub const TIMESTAMP_HEADER: &str = "x-onenet-timestamp";
pub const SIGNATURE_HEADER: &str = "x-onenet-signature";

pub const ERR_BAD_APP: &str = "10001";
pub const ERR_BAD_SIGNATURE: &str = "10003";
pub const ERR_BAD_TICKET: &str = "20001";

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The service refused the ticket (unknown, used or expired).
    #[error("one-net refused: code {code} ({message})")]
    Rejected { code: String, message: String },
    #[error("one-net unreachable or answered badly: {0}")]
    Transport(String),
}

#[derive(Deserialize)]
struct Envelope {
    code: String,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// The profile as the one-net service sends it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct OneNetProfile {
    pub uid: String,
    pub user_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub cert_type: Option<String>,
    #[serde(default)]
    pub cert_no: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub org_name: Option<String>,
    #[serde(default)]
    pub uscc: Option<String>,
    #[serde(default)]
    pub legal_person: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_mobile: Option<String>,
}

fn id_type(code: &str) -> Option<IdType> {
    Some(match code {
        "111" => IdType::ResidentId,
        "414" => IdType::Passport,
        "516" => IdType::HkMacauPermit,
        "511" => IdType::TaiwanPermit,
        "553" => IdType::ForeignPermanentResident,
        _ => return None,
    })
}

impl OneNetProfile {
    /// Our form of the profile; a profile missing what its type needs is the
    /// service answering badly.
    pub fn verified(self) -> Result<VerifiedProfile, ConnectorError> {
        let missing = |what: &str| ConnectorError::Transport(format!("profile without {what}"));
        let (identity, phone) = match self.user_type.as_str() {
            "person" => (
                Identity::Citizen {
                    name: self.name.ok_or_else(|| missing("name"))?,
                    id_type: self
                        .cert_type
                        .as_deref()
                        .and_then(id_type)
                        .ok_or_else(|| missing("a known cert_type"))?,
                    id_number: self.cert_no.ok_or_else(|| missing("cert_no"))?,
                    address: self.address,
                },
                self.mobile,
            ),
            "legal" => (
                Identity::Company {
                    name: self.org_name.ok_or_else(|| missing("org_name"))?,
                    uscc: self.uscc.ok_or_else(|| missing("uscc"))?,
                    legal_representative: self
                        .legal_person
                        .ok_or_else(|| missing("legal_person"))?,
                    contact_name: self.contact_name.ok_or_else(|| missing("contact_name"))?,
                },
                self.contact_mobile,
            ),
            other => return Err(missing(&format!("a known user_type (got {other})"))),
        };
        Ok(VerifiedProfile {
            uid: self.uid,
            identity,
            phone,
        })
    }
}

pub struct OneNetClient {
    http: reqwest::Client,
    base: String,
    app_id: String,
    secret: SecretString,
}

impl OneNetClient {
    pub fn new(
        base: &str,
        app_id: &str,
        secret: SecretString,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(OneNetClient {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            base: base.trim_end_matches('/').to_owned(),
            app_id: app_id.to_owned(),
            secret,
        })
    }

    /// Redeems a login ticket (single use at the service) for the profile.
    pub async fn profile_by_ticket(&self, ticket: &str) -> Result<VerifiedProfile, ConnectorError> {
        let body = serde_json::json!({ "app_id": self.app_id, "ticket": ticket }).to_string();
        let ts = time::OffsetDateTime::now_utc().unix_timestamp();
        let sig = api::crypto::signed_request::sign(
            self.secret.expose_secret().as_bytes(),
            ts,
            body.as_bytes(),
        );
        let resp = self
            .http
            .post(format!("{}/api/v1/ticket/profile", self.base))
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, sig)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| ConnectorError::Transport(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(ConnectorError::Transport(format!("HTTP {}", resp.status())));
        }
        let env: Envelope = resp
            .json()
            .await
            .map_err(|e| ConnectorError::Transport(e.to_string()))?;
        if env.code != "0" {
            return Err(ConnectorError::Rejected {
                code: env.code,
                message: env.msg,
            });
        }
        let profile: OneNetProfile = serde_json::from_value(env.data)
            .map_err(|e| ConnectorError::Transport(e.to_string()))?;
        profile.verified()
    }
}
