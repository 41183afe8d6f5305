//! floe's object-storage I/O: one stack (opendal operators with timeouts and retries) for the
//! metadata and manifests the core reads and writes (iceberg's `FileIO`) and the data files
//! DuckDB reads and writes through `floe://` paths.
//!
//! ```no_run
//! # async fn demo(catalog: std::sync::Arc<floe_core::rest::RestCatalog>,
//! #               table: floe_core::rest::model::LoadTableResult) -> floe_core::Result<()> {
//! use floe_core::storage::{self, StorageProps};
//! let props = StorageProps::resolve(&catalog, &table);
//! let entry = storage::register(&catalog, "gold.m", table.metadata.location(), props, None, catalog.caches().clone());
//! let path = entry.wrap("s3://lake/gold/m/data/a.parquet");    // what DuckDB is handed
//! let (entry, url) = storage::unwrap(&path)?;                   // what it hands back
//! let url = url.as_str();
//! let size = entry.with_store(|store| async move { store.size(url).await }).await?;
//! # Ok(()) }
//! ```
//!
//! Here: where a table's storage properties and credentials come from (`props`), object URLs
//! (`location`), operators built from the properties (`operator`), reads, writes, listings and
//! deletes (`object`), storage ids, `floe://` paths and credential renewal (`registry`), iceberg's
//! `FileIO` over all of it (`file_io`), the manifests a catalog's tables were planned with
//! (`metadata_cache`), the data-file ranges DuckDB read (`data_cache`), manifest lists another
//! writer got wrong mended as read (`manifest_list_repair`) and storage failures as floe errors
//! (`error`).

mod data_cache;
mod error;
mod file_io;
pub mod location;
mod manifest_list_repair;
mod metadata_cache;
mod object;
mod operator;
mod props;
mod refresh;
mod registry;

pub use data_cache::DataCache;
pub use error::StorageError;
pub use file_io::fixed as fixed_file_io;
pub use metadata_cache::MetadataCache;
pub use object::{ObjectWriter, Store, CHUNK_BYTES};
pub use props::{CredentialSource, DuckdbSecret, StorageProps};
pub use refresh::CatalogRenewal;
pub use registry::{by_id, real_path, register, unwrap, wrap, Entry, Renew};

/// Gets object-storage I/O ready in the background (its HTTP client), so that an attached
/// catalog's first read or write does not wait for it.
pub fn prepare() {
    operator::prepare_http_clients();
}

/// The caches of one attached catalog, shared by its tables' storage entries (and so by every
/// connection of the database). Cheap to clone; clones share the caches.
#[derive(Clone, Debug)]
pub struct Caches {
    pub metadata: MetadataCache,
    pub data: DataCache,
}

impl Caches {
    pub fn new(metadata_bytes: u64, data_bytes: u64) -> Caches {
        Caches { metadata: MetadataCache::new(metadata_bytes), data: DataCache::new(data_bytes) }
    }

    /// No caching: for tables that are not a catalog's (and tests).
    pub fn off() -> Caches {
        Caches::new(0, 0)
    }

    /// Drops everything and keeps nothing more: the catalog is gone (DETACH).
    pub fn clear(&self) {
        self.metadata.clear();
        self.data.clear();
    }
}
