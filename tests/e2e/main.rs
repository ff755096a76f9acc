//! End-to-end tests of the `gov-server` binary over HTTP. One test binary,
//! so the suite links once; each test starts its own server and database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod annual_report;
mod assessment;
mod audit;
mod authz_matrix;
mod calendar;
mod cases;
mod cli;
mod crash;
mod demo;
mod disclosure;
mod errors;
mod exchange;
mod experts;
mod filings;
mod forms;
mod identity;
mod legal;
mod mobile;
mod notify;
mod ops;
mod org;
mod pc;
mod push;
mod roles;
mod schema;
mod seals;
mod startup;
mod sync;
mod verification;
mod warnings;
