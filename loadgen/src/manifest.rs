//! The manifest `gov-server demo-data` writes: who and what the generated
//! data holds, by login name.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub units: Vec<Unit>,
}

#[derive(Debug, Deserialize)]
pub struct Unit {
    pub id: String,
    pub approvers: Vec<String>,
    pub approver_phones: Vec<String>,
    pub dispatchers: Vec<String>,
    pub handlers: Vec<String>,
    pub seal_id: String,
    pub cases: Vec<String>,
    /// (notice id, the handler who may apply to seal it)
    pub notices: Vec<(String, String)>,
}

impl Manifest {
    pub fn load(path: &std::path::Path) -> anyhow::Result<Manifest> {
        let bytes = std::fs::read(path)?;
        let m: Manifest = serde_json::from_slice(&bytes)?;
        anyhow::ensure!(!m.units.is_empty(), "the manifest lists no units");
        Ok(m)
    }

    /// Every official, for sign-ins.
    pub fn officials(&self) -> Vec<&str> {
        self.units
            .iter()
            .flat_map(|u| u.approvers.iter().chain(&u.dispatchers).chain(&u.handlers))
            .map(String::as_str)
            .collect()
    }
}
