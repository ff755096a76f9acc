#![forbid(unsafe_code)]
//! The `gov-server` binary's library: the composition root that builds the
//! running application from every crate (`startup`), the list of every
//! module's routes (`routes`), and the command-line tools (`commands`).

pub mod commands;
pub mod routes;
pub mod startup;
