//! The forms scenarios: fillers saving and submitting returns of a
//! 40-field form with a 50-row table (`forms`), and the sender reading the
//! progress and aggregate over them (`forms_aggregate`).

use std::collections::VecDeque;

use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Client, Failure};
use crate::scenario::{Step, Vu};

const SENDER: &str = "gk_forms";
/// The demo filler of 徐汇, whose subtree holds the bench streets.
const FILLER: &str = "xh_filler";
pub const TITLE: &str = "基准测试：街道政务公开情况统计";
/// Saves of each return before it is submitted.
const SAVES: u32 = 3;

/// 39 typed fields of four kinds, a computed total, and a document table.
fn definition() -> Value {
    let mut fields: Vec<Value> = (1..=39)
        .map(|i| match i % 4 {
            0 => json!({ "key": format!("f{i:02}"), "label": format!("整数项{i}"), "type": "integer", "min": 0, "required": true }),
            1 => json!({ "key": format!("f{i:02}"), "label": format!("金额项{i}"), "type": "decimal", "scale": 2 }),
            2 => json!({ "key": format!("f{i:02}"), "label": format!("文字项{i}"), "type": "short_text", "max_length": 50 }),
            _ => json!({ "key": format!("f{i:02}"), "label": format!("选择项{i}"), "type": "single_choice", "options": ["是", "否", "部分"] }),
        })
        .collect();
    fields.push(json!({ "key": "total", "label": "合计", "type": "integer", "computed": "f04 + f08 + f12 + sum(docs.pages)" }));
    fields.push(json!({ "key": "docs", "label": "文件清单", "type": "table", "columns": [
        { "key": "title", "label": "文件名称", "type": "short_text", "required": true },
        { "key": "kind", "label": "类别", "type": "single_choice", "options": ["规章", "规范性文件", "其他"] },
        { "key": "pages", "label": "页数", "type": "integer", "min": 1 },
        { "key": "fee", "label": "费用", "type": "decimal", "scale": 2 } ] }));
    json!({ "sections": [{ "title": "基本情况", "fields": fields }] })
}

fn answers(seed: usize) -> Value {
    let mut a = serde_json::Map::new();
    for i in 1..=39usize {
        let v = match i % 4 {
            0 => json!(seed % 100 + i),
            1 => json!(format!("{}.{:02}", seed % 1000, i)),
            2 => json!(format!("第{i}项说明")),
            _ => json!("是"),
        };
        a.insert(format!("f{i:02}"), v);
    }
    let rows: Vec<Value> = (0..50)
        .map(|r| json!({ "title": format!("文件{r}"), "kind": "规范性文件", "pages": r % 9 + 1, "fee": "12.50" }))
        .collect();
    a.insert("docs".into(), json!(rows));
    Value::Object(a)
}

async fn expect(
    client: &Client,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
    status: u16,
) -> anyhow::Result<Value> {
    client
        .expect(
            client.request(method, path, Some(token)).json(&body),
            status,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

/// The sender creates the form and distributes it to every street under
/// 徐汇; each user gets its own returns, round robin, and fills them as the
/// district's filler.
pub async fn fillers(client: &Client, users: usize) -> anyhow::Result<Vec<Vu>> {
    let sender = sign_in(client, SENDER, "bench-forms-sender").await?;
    let body = json!({ "title": TITLE, "deadline_on": "2099-12-31", "definition": definition() });
    let form = expect(client, Method::POST, "/api/v1/forms", &sender, body, 201).await?;
    let id = form["id"].as_str().unwrap_or_default().to_owned();
    // The filler's home unit is the district.
    let filler = sign_in(client, FILLER, "bench-forms-filler").await?;
    let me = expect(client, Method::GET, "/api/v1/me", &filler, Value::Null, 200).await?;
    let district = me["unit"]["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/api/v1/forms/{id}/distribution");
    let mut req = json!({ "subtrees": [{ "unit_id": district, "kinds": ["street"] }] });
    let preview = expect(client, Method::POST, &path, &sender, req.clone(), 200).await?;
    req["confirm"] = preview["token"].clone();
    let started = std::time::Instant::now();
    let sent = expect(client, Method::POST, &path, &sender, req, 200).await?;
    let count = sent["units"].as_array().map_or(0, Vec::len);
    eprintln!(
        "forms: distributed to {count} units in one request, {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let progress = expect(
        client,
        Method::GET,
        &format!("/api/v1/forms/{id}/progress"),
        &sender,
        Value::Null,
        200,
    )
    .await?;
    let returns: Vec<String> = progress["units"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["return_id"].as_str().map(str::to_owned))
        .collect();
    anyhow::ensure!(
        returns.len() >= users,
        "forms: {} returns for {users} users",
        returns.len()
    );
    let vus = (0..users)
        .map(|i| Vu::Fill {
            token: filler.clone(),
            queue: returns.iter().skip(i).step_by(users).cloned().collect(),
            revision: 0,
            saves: 0,
            seed: i,
        })
        .collect();
    Ok(vus)
}

async fn sign_in(client: &Client, login: &str, device: &str) -> anyhow::Result<String> {
    client
        .sign_in(login, device)
        .await
        .map_err(|e| anyhow::anyhow!("signing in {login}: {e}"))
}

/// One operation of a filler: a save of its current return (three times),
/// then its submission; then the next return.
pub async fn fill(
    client: &Client,
    token: &str,
    queue: &mut VecDeque<String>,
    revision: &mut i64,
    saves: &mut u32,
    seed: usize,
) -> Result<Step, Failure> {
    let Some(ret) = queue.front().cloned() else {
        return Ok(Step::Exhausted);
    };
    let body = json!({ "revision": *revision, "answers": answers(seed) });
    let (method, path) = if *saves < SAVES {
        (Method::PUT, format!("/m/v1/forms/returns/{ret}/draft"))
    } else {
        (
            Method::POST,
            format!("/m/v1/forms/returns/{ret}/submission"),
        )
    };
    let v = client
        .expect(client.request(method, &path, Some(token)).json(&body), 200)
        .await?;
    *saves += 1;
    *revision = v["revision"].as_i64().unwrap_or(0);
    if *saves > SAVES {
        queue.pop_front();
        *saves = 0;
        *revision = 0;
    }
    Ok(Step::Done {
        http_requests: 1,
        timed_from: None,
    })
}

/// Two senders' screens reading the progress and aggregate of the bench
/// form, over the returns `forms` submitted.
pub async fn aggregate_readers(client: &Client) -> anyhow::Result<Vec<Vu>> {
    let sender = sign_in(client, SENDER, "bench-forms-aggregate").await?;
    let list = expect(
        client,
        Method::GET,
        "/api/v1/forms?status=distributed",
        &sender,
        Value::Null,
        200,
    )
    .await?;
    let form = list
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["title"] == TITLE)
        .and_then(|f| f["id"].as_str())
        .ok_or_else(|| anyhow::anyhow!("forms_aggregate: run the forms scenario first"))?
        .to_owned();
    let path = format!("/api/v1/forms/{form}/progress");
    let progress = expect(client, Method::GET, &path, &sender, Value::Null, 200).await?;
    eprintln!(
        "forms_aggregate: {} returns counted of {}",
        progress["aggregate"]["returns"], progress["counts"]["units"]
    );
    Ok((0..2)
        .map(|_| Vu::Reader {
            token: Some(sender.clone()),
            paths: vec![path.clone()],
            next: 0,
        })
        .collect())
}
