//! Walking the audit chain. Reads in pages of a bounded size, so a chain of
//! millions of records verifies in constant memory.

use crate::crypto::mac_eq;
use crate::db::Db;
use crate::on_db;

use super::{GENESIS_MAC, Record};

const PAGE: i64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub seq: i64,
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub records: u64,
    pub first_bad: Option<BadRecord>,
}

pub async fn verify_chain(db: &Db, key: &[u8]) -> Result<VerifyReport, sqlx::Error> {
    const PAGE_SQL: &str = "SELECT seq, id, occurred_at, actor_id, actor_label, action, target_type, \
         target_id, source_ip, outcome, detail, request_id, prev_mac, mac \
         FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";
    const HEAD_SQL: &str = "SELECT seq, mac FROM audit_head WHERE id = 1";

    let mut last_seq = 0i64;
    let mut last_mac = GENESIS_MAC.to_owned();
    let mut count = 0u64;
    loop {
        let page: Vec<Record> = on_db!(db, p => sqlx::query_as(PAGE_SQL)
            .bind(last_seq).bind(PAGE).fetch_all(p).await)?;
        let done = (page.len() as i64) < PAGE;
        for record in page {
            let bad = |reason: String| VerifyReport {
                records: count,
                first_bad: Some(BadRecord {
                    seq: record.seq,
                    id: record.id.clone(),
                    reason,
                }),
            };
            if record.seq != last_seq + 1 {
                return Ok(bad(format!(
                    "sequence jumps from {last_seq} to {}: records were deleted",
                    record.seq
                )));
            }
            if record.prev_mac != last_mac {
                return Ok(bad(
                    "does not chain from the previous record: records were reordered or replaced"
                        .into(),
                ));
            }
            let mac_ok = hex::decode(&record.mac)
                .ok()
                .zip(hex::decode(record.expected_mac(key)).ok())
                .is_some_and(|(stored, expected)| mac_eq(&stored, &expected));
            if !mac_ok {
                return Ok(bad(
                    "MAC does not match its content: the record was changed".into(),
                ));
            }
            last_seq = record.seq;
            last_mac = record.mac;
            count += 1;
        }
        if done {
            break;
        }
    }
    let (head_seq, head_mac): (i64, String) =
        on_db!(db, p => sqlx::query_as(HEAD_SQL).fetch_one(p).await)?;
    if head_seq != last_seq || head_mac != last_mac {
        return Ok(VerifyReport {
            records: count,
            first_bad: Some(BadRecord {
                seq: last_seq + 1,
                id: String::new(),
                reason: format!(
                    "the chain ends at {last_seq} but the head says {head_seq}: records at the end were deleted"
                ),
            }),
        });
    }
    Ok(VerifyReport {
        records: count,
        first_bad: None,
    })
}
