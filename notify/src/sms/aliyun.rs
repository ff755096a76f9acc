//! Aliyun Dysmsapi `SendSms` (2017-05-25), signed with RPC signature V1.
//!
//! Answers are JSON `{Code, Message, BizId, RequestId}`; `Code = "OK"` is
//! success. Business errors are mapped: a per-minute flow-control limit is
//! retried after a minute; hourly and daily limits, an invalid number, or a
//! rejected template or signature fail the message with the reason. Aliyun
//! has no idempotency of its own, so the outbox id travels as `OutId`.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;

use super::signature::sign_v1;
use crate::provider::{Outgoing, Provider, SendError, SendFuture, retry_after};

pub struct AliyunSms {
    http: reqwest::Client,
    endpoint: String,
    access_key_id: String,
    access_key_secret: SecretString,
    sign_name: String,
    /// Aliyun template code per notification kind.
    templates: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    biz_id: Option<String>,
}

fn transient(reason: String, retry_after: Option<Duration>) -> SendError {
    SendError::Transient {
        reason,
        retry_after,
    }
}

/// Maps an Aliyun business error code to what the dispatcher should do.
pub fn classify(code: &str, message: &str) -> SendError {
    let reason = format!("{code}: {message}");
    match code {
        "isv.BUSINESS_LIMIT_CONTROL" if message.contains("分钟") => {
            transient(reason, Some(Duration::from_secs(60)))
        }
        "isv.BUSINESS_LIMIT_CONTROL"
        | "isv.DAY_LIMIT_CONTROL"
        | "isv.MOBILE_NUMBER_ILLEGAL"
        | "isv.MOBILE_COUNT_OVER_LIMIT"
        | "isv.TEMPLATE_MISSING_PARAMETERS"
        | "isv.TEMPLATE_PARAMS_ILLEGAL"
        | "isv.SMS_TEMPLATE_ILLEGAL"
        | "isv.SMS_SIGNATURE_ILLEGAL"
        | "isv.INVALID_PARAMETERS"
        | "isv.BLACK_KEY_CONTROL_LIMIT" => SendError::Permanent { reason },
        "isv.AMOUNT_NOT_ENOUGH" | "isv.OUT_OF_SERVICE" => {
            transient(reason, Some(Duration::from_secs(600)))
        }
        // Throttling, signature and credential errors: worth retrying once
        // the cause is fixed, until the message expires.
        _ => transient(reason, None),
    }
}

impl AliyunSms {
    pub fn new(
        endpoint: &str,
        access_key_id: &str,
        access_key_secret: SecretString,
        sign_name: &str,
        templates: BTreeMap<String, String>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(AliyunSms {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            endpoint: endpoint.to_owned(),
            access_key_id: access_key_id.to_owned(),
            access_key_secret,
            sign_name: sign_name.to_owned(),
            templates,
        })
    }

    async fn send_one(&self, msg: &Outgoing) -> Result<String, SendError> {
        let permanent = |reason: &str| SendError::Permanent {
            reason: reason.to_owned(),
        };
        let phone = msg.payload["phone"]
            .as_str()
            .ok_or_else(|| permanent("payload has no phone"))?;
        let template = self.templates.get(&msg.kind).ok_or_else(|| {
            permanent(&format!(
                "no Aliyun template code configured for {}",
                msg.kind
            ))
        })?;
        let params =
            serde_json::to_string(&msg.payload["params"]).map_err(|e| permanent(&e.to_string()))?;
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let timestamp = now.format(&Rfc3339).unwrap_or_default();
        let nonce = ulid::Ulid::new().to_string();
        let mut form = vec![
            ("AccessKeyId", self.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("OutId", msg.id.as_str()),
            ("PhoneNumbers", phone),
            ("RegionId", "cn-hangzhou"),
            ("SignName", self.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce.as_str()),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", template.as_str()),
            ("TemplateParam", params.as_str()),
            ("Timestamp", timestamp.as_str()),
            ("Version", "2017-05-25"),
        ];
        let signature = sign_v1("POST", &form, self.access_key_secret.expose_secret());
        form.push(("Signature", signature.as_str()));
        let resp = self
            .http
            .post(&self.endpoint)
            .form(&form)
            .send()
            .await
            .map_err(|e| transient(format!("unreachable: {}", e.without_url()), None))?;
        let status = resp.status();
        let wait = retry_after(resp.headers());
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(transient(format!("HTTP {status}"), wait));
        }
        let answer: Answer = resp
            .json()
            .await
            .map_err(|e| transient(format!("HTTP {status}, unreadable answer: {e}"), None))?;
        if answer.code == "OK" {
            Ok(answer.biz_id.unwrap_or_default())
        } else {
            Err(classify(&answer.code, &answer.message))
        }
    }
}

impl Provider for AliyunSms {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(self.send_one(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_errors_map_to_retry_or_fail() {
        assert_eq!(
            classify("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
            SendError::Transient {
                reason: "isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控Permits:1".into(),
                retry_after: Some(Duration::from_secs(60)),
            }
        );
        assert!(matches!(
            classify("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"),
            SendError::Permanent { .. }
        ));
        assert!(matches!(
            classify("isv.MOBILE_NUMBER_ILLEGAL", ""),
            SendError::Permanent { .. }
        ));
        assert!(matches!(
            classify("Throttling.User", ""),
            SendError::Transient {
                retry_after: None,
                ..
            }
        ));
    }
}
