//! ecsdeck: a terminal operations console for AWS ECS.
//!
//! Rooms (see `shared/design.md`): `model` (plain types, pure logic), `source`
//! (simulator and AWS behind one interface), `store` (the UI task's state),
//! `sanitize` (untrusted text → display text), `ui` (ratatui), `cli` and
//! `status` (one-shot commands).

pub mod cli;
pub mod config;
pub mod model;
pub mod review;
pub mod runbook;
pub mod sanitize;
pub mod source;
pub mod status;
pub mod store;
pub mod ui;
