//! floe-core: everything floe does that needs no DuckDB — the Iceberg REST catalog client
//! (OAuth2 with refresh, retries, vended credentials), table loading, scan planning, the
//! Iceberg <-> DuckDB type map — so it can be tested against a real catalog on its own.
//!
//! ```no_run
//! use floe_core::options::{AttachRequest, CatalogOptions};
//! use floe_core::rest::RestCatalog;
//! # fn main() -> floe_core::Result<()> {
//! let request: AttachRequest = serde_json::from_str(
//!     r#"{"warehouse":"lake","options":{"endpoint":"http://127.0.0.1:8181","token":"t"}}"#).unwrap();
//! let catalog = floe_core::runtime::block_on(RestCatalog::connect(CatalogOptions::parse(&request)?))?;
//! # Ok(()) }
//! ```

pub mod commit;
pub mod error;
pub mod inspect;
pub mod maintenance;
pub mod options;
pub mod platform;
pub mod redact;
pub mod rest;
pub mod runtime;
pub mod scan;
pub mod storage;
pub mod sync;
pub mod table;
pub mod types;
pub mod write_properties;

pub use error::{Error, ErrorKind, Result};
pub use redact::Redactor;
