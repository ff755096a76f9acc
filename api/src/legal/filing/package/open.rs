//! Opening a package: every check before anything is written. The order
//! is the cheapest refusal first: a zip at all, the manifest and its
//! format, the network it came from, a trusted signer, the signature, no
//! file missing and none extra, then every file's SM3 — each file read
//! through a budget, so a zip that inflates beyond `max_unpacked_bytes` is
//! refused part-way and nothing is unpacked to disk. CPU work: the caller
//! runs it on the blocking pool.

use std::io::{Cursor, Read};

use super::manifest::{
    self, MANIFEST, Manifest, Record, Refusal, SIGNATURE, expected_names, file_path, record_path,
};
use crate::config::FilingSide;
use crate::crypto::sign::verify_der;
use crate::seal::adapter::key_id_of;

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// A package that passed every check.
#[derive(Debug)]
pub struct Opened {
    pub manifest: Manifest,
    pub records: Vec<Record>,
}

pub struct Trust<'a> {
    /// This server's network.
    pub side: FilingSide,
    /// PEMs of the keys whose packages are taken.
    pub keys: &'a [String],
    pub max_unpacked: u64,
}

pub fn open(bytes: &[u8], trust: &Trust<'_>) -> Result<Opened, Refusal> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| Refusal::NotAPackage)?;
    let mut budget = Budget {
        left: trust.max_unpacked,
        max: trust.max_unpacked,
    };
    let manifest_bytes = read(&mut zip, MANIFEST, &mut budget)?;
    let manifest = manifest::parse(&manifest_bytes)?;
    if trust.side != FilingSide::Single && manifest.source_side == trust.side {
        return Err(Refusal::SameSide(manifest.source_side.as_str().into()));
    }
    signed(&mut zip, &manifest, &manifest_bytes, trust, &mut budget)?;
    complete(&zip, &manifest)?;
    let mut records = Vec::with_capacity(manifest.records.len());
    for entry in &manifest.records {
        let name = record_path(&entry.id);
        let bytes = read(&mut zip, &name, &mut budget)?;
        if hex::encode(crate::crypto::sm3(&bytes)) != entry.sm3 {
            return Err(Refusal::Altered(name));
        }
        let record: Record = serde_json::from_slice(&bytes)
            .map_err(|e| Refusal::BadRecord(name.clone(), e.to_string()))?;
        if record.id != entry.id || record.version != entry.version {
            return Err(Refusal::BadRecord(
                name,
                "与清单中的编号或版本不一致".into(),
            ));
        }
        let listed = |h: &String| manifest.files.iter().any(|f| &f.sm3 == h);
        if let Some(f) = record.files.iter().find(|f| !listed(&f.hash)) {
            return Err(Refusal::Missing(file_path(&f.hash)));
        }
        records.push(record);
    }
    for f in &manifest.files {
        let name = file_path(&f.sm3);
        let bytes = read(&mut zip, &name, &mut budget)?;
        if bytes.len() as u64 != f.size || hex::encode(crate::crypto::sm3(&bytes)) != f.sm3 {
            return Err(Refusal::Altered(name));
        }
    }
    Ok(Opened { manifest, records })
}

/// The signer is one this side trusts, and the signature is over exactly
/// these manifest bytes.
fn signed(
    zip: &mut Archive<'_>,
    m: &Manifest,
    manifest_bytes: &[u8],
    trust: &Trust<'_>,
    budget: &mut Budget,
) -> Result<(), Refusal> {
    let pem = m.signer.public_key_pem.trim();
    let trusted = trust.keys.iter().any(|k| k.trim() == pem);
    if !trusted || key_id_of(&m.signer.public_key_pem) != m.signer.key_id {
        return Err(Refusal::UntrustedSigner(m.signer.key_id.clone()));
    }
    let sig = read(zip, SIGNATURE, budget)?;
    let der = std::str::from_utf8(&sig)
        .ok()
        .and_then(|s| hex::decode(s.trim()).ok())
        .ok_or(Refusal::BadSignature)?;
    verify_der(&m.signer.public_key_pem, manifest_bytes, &der).map_err(|_| Refusal::BadSignature)
}

/// Every file the manifest names is there, and nothing else is.
fn complete(zip: &Archive<'_>, m: &Manifest) -> Result<(), Refusal> {
    let expected = expected_names(m);
    let mut seen = 0usize;
    for name in zip.file_names() {
        let name = name.map_err(|_| Refusal::NotAPackage)?;
        if !expected.contains(name.as_ref()) {
            return Err(Refusal::Unexpected(name.into_owned()));
        }
        seen += 1;
    }
    if seen != expected.len() {
        let missing = expected
            .iter()
            .find(|n| zip.index_for_name(n).is_none())
            .cloned()
            .unwrap_or_else(|| "重复的文件".into());
        return Err(Refusal::Missing(missing));
    }
    Ok(())
}

/// What a package may still unpack to.
struct Budget {
    left: u64,
    max: u64,
}

/// One file's bytes, at most what is left of the budget.
fn read(zip: &mut Archive<'_>, name: &str, budget: &mut Budget) -> Result<Vec<u8>, Refusal> {
    let file = zip
        .by_name(name)
        .map_err(|_| Refusal::Missing(name.into()))?;
    let mut out = Vec::new();
    let n = file
        .take(budget.left + 1)
        .read_to_end(&mut out)
        .map_err(|_| Refusal::Altered(name.into()))? as u64;
    if n > budget.left {
        return Err(Refusal::TooLargeUnpacked(budget.max));
    }
    budget.left -= n;
    Ok(out)
}

/// An attachment's bytes from a package already opened (for the write).
pub fn attachment(bytes: &[u8], sm3: &str) -> Result<Vec<u8>, Refusal> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| Refusal::NotAPackage)?;
    let mut budget = Budget {
        left: u64::MAX - 1,
        max: u64::MAX - 1,
    };
    let out = read(&mut zip, &file_path(sm3), &mut budget)?;
    if hex::encode(crate::crypto::sm3(&out)) != sm3 {
        return Err(Refusal::Altered(file_path(sm3)));
    }
    Ok(out)
}
