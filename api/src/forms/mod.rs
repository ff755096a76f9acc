//! Online forms (GK-11 to GK-13): a sender's unit configures a form,
//! distributes it to units, their fillers fill and submit returns, and the
//! sender sees the progress and the aggregate.
//!
//! Built so far: the definition and its checks ([`definition`]), a
//! return's answers checked and computed ([`answers`]), the
//! computed-field language ([`expr`]) and the definition as JSON Schema
//! ([`schema`]): the pure parts the rest will apply.
//! Storage, distribution, filling, aggregation and their routes are the
//! rest of issue 12 (not yet built).

pub mod answers;
pub mod definition;
pub mod expr;
pub mod schema;
