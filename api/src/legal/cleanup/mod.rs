//! Clean-up campaigns of normative documents (规范性文件清理, FW-01). The
//! pure parts decide: which report line a unit is on and who reviews it
//! ([`line`]), the states of a unit's list and the steps between them
//! ([`status`]), a list's documents checked ([`document`]), an imported
//! sheet read row by row ([`import`]) and the counts per decision of a
//! report ([`counts`]).

pub mod counts;
pub mod document;
pub mod import;
pub mod line;
pub mod status;
pub mod store;
