//! The Iceberg REST catalog protocol. Written on `reqwest` rather than taken from
//! `iceberg-catalog-rest` 0.10, whose client has no TLS, never refreshes tokens, ignores vended
//! storage credentials, has no multi-table commit and cannot tell a failed commit from one in an
//! unknown state.

pub mod access;
pub mod auth;
pub mod catalog;
pub mod credentials;
pub mod http;
pub mod model;
mod recent_loads;
pub mod restrictions;
pub mod sigv4;
pub mod views;

pub use catalog::{Namespace, RestCatalog};
