//! Deterministic ECS simulator (in progress).
