//! HTTP against the server under test: sign-in through the Suishenban
//! stand-in, step-up through the SMS stand-in, and checked answers.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

/// An answer other than the one expected: status and the problem's code.
pub type Failure = String;

impl Client {
    pub fn new(base: &str, users: usize) -> anyhow::Result<Client> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(users.max(1) * 2)
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends and checks the status; answers the body (JSON, or the text
    /// as a JSON string).
    pub async fn expect(&self, req: RequestBuilder, status: u16) -> Result<Value, Failure> {
        let resp = req.send().await.map_err(|e| format!("transport: {e}"))?;
        answer(resp, status).await
    }

    /// The phone's part of a Suishenban sign-in (the stand-in hands out a
    /// one-time code), then the exchange at the server; answers the token.
    pub async fn auth_code(&self, login: &str) -> Result<String, Failure> {
        let req = self
            .request(Method::POST, "/stand-in/suishenban/auth-codes", None)
            .json(&json!({ "user": login }));
        let v = self.expect(req, 201).await?;
        field(&v, "auth_code")
    }

    pub async fn session(&self, code: &str, device: &str) -> Result<String, Failure> {
        let req = self
            .request(Method::POST, "/m/v1/session", None)
            .json(&json!({ "auth_code": code, "device_id": device }));
        let v = self.expect(req, 200).await?;
        field(&v, "access_token")
    }

    pub async fn sign_in(&self, login: &str, device: &str) -> Result<String, Failure> {
        let code = self.auth_code(login).await?;
        self.session(&code, device).await
    }

    /// Steps a session up with the SMS code the SMS stand-in received.
    pub async fn step_up(&self, token: &str, phone: &str) -> Result<(), Failure> {
        let sent = self.request(Method::POST, "/m/v1/session/step-up/sms-code", Some(token));
        self.expect(sent, 202).await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let code = loop {
            let path = format!("/stand-in/sms/messages?phone={phone}");
            let got = self
                .expect(self.request(Method::GET, &path, None), 200)
                .await?;
            let code = got.as_array().and_then(|all| {
                all.iter()
                    .rev()
                    .find_map(|m| m["params"]["code"].as_str().map(str::to_owned))
            });
            if let Some(code) = code {
                break code;
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("no step-up code reached {phone}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let req = self
            .request(Method::POST, "/m/v1/session/step-up", Some(token))
            .json(&json!({ "sms_code": code }));
        self.expect(req, 204).await.map(|_| ())
    }
}

async fn answer(resp: Response, status: u16) -> Result<Value, Failure> {
    let got = resp.status().as_u16();
    let text = resp
        .text()
        .await
        .map_err(|e| format!("reading body: {e}"))?;
    if got != status {
        let code = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| text.chars().take(120).collect());
        return Err(format!("{got} (wanted {status}): {code}"));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub fn field(v: &Value, name: &str) -> Result<String, Failure> {
    v[name]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("answer without {name}"))
}
