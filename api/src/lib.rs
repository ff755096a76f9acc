#![forbid(unsafe_code)]
//! The shared core of the Government Information Resource Application
//! System: configuration, storage, errors, authorization, audit, crypto, the
//! org structure, and the PC REST routes. Every other crate builds on it and
//! it depends on none of them.

pub mod annual_report;
pub mod audit;
pub mod authz;
pub mod calendar;
pub mod charts;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod devices;
pub mod disclosure;
pub mod error;
pub mod export_templates;
pub mod files;
pub mod forms;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod jobs;
pub mod legal;
pub mod openapi;
pub mod org;
pub mod outbox;
pub mod pagination;
pub mod pdf;
pub mod pii;
pub mod seal;
pub mod state;
pub mod telemetry;
pub mod text_enum;
pub mod todo;
pub mod validate;
pub mod warning;
pub mod xlsx;
