//! The scenarios: who each virtual user is, and what one operation is.

use std::collections::VecDeque;
use std::time::Instant;

use reqwest::Method;
use serde_json::json;

use crate::client::{Client, Failure, field};
use crate::manifest::Manifest;

pub const ALL: &[&str] = &[
    "baseline",
    "login",
    "inbox",
    "case_detail",
    "approve",
    "send_code",
    "forms",
    "forms_aggregate",
];

/// One virtual user's identity and what it works through.
pub enum Vu {
    /// A sign-in: code exchange, then `GET /m/v1/me`.
    Login { login: String, device: String },
    /// GETs of `paths` in turn, with a token or none.
    Reader {
        token: Option<String>,
        paths: Vec<String>,
        next: usize,
    },
    /// A handler applies to seal a notice, and an approver approves.
    Approve {
        handler: String,
        approver: String,
        seal_id: String,
        notices: VecDeque<String>,
        key: String,
    },
    /// Verification codes for numbers nobody else asks for.
    SendCode { next: u64 },
    /// A form filler saving and submitting its returns in turn.
    Fill {
        token: String,
        queue: VecDeque<String>,
        revision: i64,
        saves: u32,
        seed: usize,
    },
}

/// What one operation came to.
pub enum Step {
    Done {
        http_requests: u64,
        /// When the measured part began, when not at the call.
        timed_from: Option<Instant>,
    },
    /// Nothing left to do (an approver out of notices).
    Exhausted,
}

/// Sets up `users` virtual users for `scenario` (sign-ins and step-ups are
/// not measured).
pub async fn setup(
    client: &Client,
    m: &Manifest,
    scenario: &str,
    users: usize,
) -> anyhow::Result<Vec<Vu>> {
    match scenario {
        "baseline" => Ok(baseline(m, users)),
        "login" => Ok(logins(m, users)),
        "inbox" => inbox_readers(client, m, users).await,
        "case_detail" => case_readers(client, m, users).await,
        "approve" => approvers(client, m, users).await,
        "send_code" => Ok(code_senders(users)),
        "forms" => crate::forms::fillers(client, users).await,
        "forms_aggregate" => crate::forms::aggregate_readers(client).await,
        other => anyhow::bail!("unknown scenario {other}; one of {}", ALL.join(", ")),
    }
}

/// Unauthenticated readers of the baseline route, each over every unit.
fn baseline(m: &Manifest, users: usize) -> Vec<Vu> {
    let units = &m.units;
    let n = units.len();
    let mut vus = Vec::with_capacity(users);
    for i in 0..users {
        let paths = (0..n)
            .map(|k| format!("/bench/units/{}", units[(i + k) % n].id))
            .collect();
        vus.push(Vu::Reader {
            token: None,
            paths,
            next: 0,
        });
    }
    vus
}

/// Officials signing in, round robin.
fn logins(m: &Manifest, users: usize) -> Vec<Vu> {
    let mut vus = Vec::with_capacity(users);
    let officials = m.officials();
    for i in 0..users {
        vus.push(Vu::Login {
            login: officials[i % officials.len()].to_owned(),
            device: format!("bench-{i}"),
        });
    }
    vus
}

/// Approvers reading their inbox.
async fn inbox_readers(client: &Client, m: &Manifest, users: usize) -> anyhow::Result<Vec<Vu>> {
    let units = &m.units;
    let n = units.len();
    let mut vus = Vec::with_capacity(users);
    for i in 0..users {
        let unit = &units[i % n];
        let approver = &unit.approvers[(i / n) % unit.approvers.len()];
        let token = sign_in(client, approver, i).await?;
        vus.push(Vu::Reader {
            token: Some(token),
            paths: vec!["/m/v1/inbox".into()],
            next: 0,
        });
    }
    Ok(vus)
}

/// Dispatchers reading their unit's cases.
async fn case_readers(client: &Client, m: &Manifest, users: usize) -> anyhow::Result<Vec<Vu>> {
    let units = &m.units;
    let n = units.len();
    let mut vus = Vec::with_capacity(users);
    for i in 0..users {
        let unit = &units[i % n];
        let dispatcher = &unit.dispatchers[(i / n) % unit.dispatchers.len()];
        let token = sign_in(client, dispatcher, i).await?;
        let paths: Vec<String> = unit
            .cases
            .iter()
            .map(|c| format!("/m/v1/cases/{c}"))
            .collect();
        let next = (i / n) * 7 % paths.len().max(1);
        vus.push(Vu::Reader {
            token: Some(token),
            paths,
            next,
        });
    }
    Ok(vus)
}

/// Handlers applying and approvers approving, one approver each.
async fn approvers(client: &Client, m: &Manifest, users: usize) -> anyhow::Result<Vec<Vu>> {
    let units = &m.units;
    let n = units.len();
    let mut vus = Vec::with_capacity(users);
    // One approver per virtual user: a step-up code per phone a
    // minute is the rule, so approvers are not shared.
    let pairs = units
        .iter()
        .map(|u| u.approvers.len().min(2))
        .sum::<usize>();
    anyhow::ensure!(
        users <= pairs,
        "approve: at most {pairs} users (one per approver)"
    );
    for i in 0..users {
        let unit = &units[i % n];
        let slot = i / n;
        let handler_login = &unit.handlers[slot];
        let notices = unit
            .notices
            .iter()
            .filter(|(_, h)| h == handler_login)
            .map(|(id, _)| id.clone())
            .collect();
        let handler = sign_in(client, handler_login, i).await?;
        let approver = sign_in(client, &unit.approvers[slot], users + i).await?;
        client
            .step_up(&approver, &unit.approver_phones[slot])
            .await
            .map_err(|e| anyhow::anyhow!("step-up of {}: {e}", unit.approvers[slot]))?;
        vus.push(Vu::Approve {
            handler,
            approver,
            seal_id: unit.seal_id.clone(),
            notices,
            key: format!("bench-{}-{i}", std::process::id()),
        });
    }
    Ok(vus)
}

/// Applicants asking for codes to numbers no one else uses.
fn code_senders(users: usize) -> Vec<Vu> {
    let mut vus = Vec::with_capacity(users);
    // 13x numbers in a block of a million per user, from a point
    // that differs run by run.
    let offset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for i in 0..users as u64 {
        let block = (offset + i) % 1000;
        vus.push(Vu::SendCode {
            next: 13_000_000_000 + block * 1_000_000,
        });
    }
    vus
}

async fn sign_in(client: &Client, login: &str, i: usize) -> anyhow::Result<String> {
    client
        .sign_in(login, &format!("bench-setup-{i}"))
        .await
        .map_err(|e| anyhow::anyhow!("signing in {login}: {e}"))
}

/// One operation of `vu`.
pub async fn step(client: &Client, vu: &mut Vu) -> Result<Step, Failure> {
    match vu {
        Vu::Login { login, device } => {
            // The phone's half (the SDK handing the app a code) is not the
            // server's work, and is not timed: the caller times from here.
            let code = client.auth_code(login).await?;
            let started = Instant::now();
            let token = client.session(&code, device).await?;
            client
                .expect(client.request(Method::GET, "/m/v1/me", Some(&token)), 200)
                .await?;
            Ok(Step::Done {
                http_requests: 2,
                timed_from: Some(started),
            })
        }
        Vu::Reader { token, paths, next } => {
            let path = &paths[*next % paths.len()];
            *next += 1;
            let status = 200;
            client
                .expect(client.request(Method::GET, path, token.as_deref()), status)
                .await?;
            Ok(Step::Done {
                http_requests: 1,
                timed_from: None,
            })
        }
        Vu::Approve {
            handler,
            approver,
            seal_id,
            notices,
            key,
        } => approve(client, (handler, approver), seal_id, notices, key).await,
        Vu::Fill {
            token,
            queue,
            revision,
            saves,
            seed,
        } => crate::forms::fill(client, token, queue, revision, saves, *seed).await,
        Vu::SendCode { next } => {
            let phone = next.to_string();
            *next += 1;
            let req = client
                .request(Method::POST, "/m/v1/verification-codes", None)
                .json(&json!({ "phone": phone, "purpose": "applicant_login" }));
            client.expect(req, 202).await?;
            Ok(Step::Done {
                http_requests: 1,
                timed_from: None,
            })
        }
    }
}

/// A handler applies to seal the next notice, and the approver approves.
async fn approve(
    client: &Client,
    (handler, approver): (&str, &str),
    seal_id: &str,
    notices: &mut VecDeque<String>,
    key: &str,
) -> Result<Step, Failure> {
    let Some(notice) = notices.pop_front() else {
        return Ok(Step::Exhausted);
    };
    let applied = client
        .request(Method::POST, "/m/v1/seal-applications", Some(handler))
        .header("Idempotency-Key", format!("{key}-a-{notice}"))
        .json(&json!({ "notice_id": notice, "seal_id": seal_id, "reason": "补正告知书用印" }));
    let application = field(&client.expect(applied, 201).await?, "id")?;
    let decided = client
        .request(
            Method::POST,
            &format!("/m/v1/seal-applications/{application}/decision"),
            Some(approver),
        )
        .header("Idempotency-Key", format!("{key}-d-{notice}"))
        .json(&json!({ "decision": "approve", "comment": "同意" }));
    let v = client.expect(decided, 200).await?;
    if v["status"] != "approved" {
        return Err(format!("decision answered status {}", v["status"]));
    }
    Ok(Step::Done {
        http_requests: 2,
        timed_from: None,
    })
}
