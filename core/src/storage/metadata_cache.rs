//! Manifests and manifest lists of one attached catalog, kept in memory once read.
//!
//! Iceberg never rewrites a manifest or a manifest list: a commit writes new ones under new
//! names. So the bytes read for a URL stay right for as long as the file exists, and planning a
//! table the second time (any connection of the database, any later snapshot that still lists
//! the manifest) needs no request for what an earlier plan read. Only the files of a new
//! snapshot are fetched.
//!
//! It holds two things. The files' bytes, which every reader of manifests gets through the
//! table's `FileIO`. And the `iceberg::table::Table` each table version was last planned with:
//! `iceberg`'s planner (`TableScan::plan_files`) keeps the manifests it parsed in an object cache
//! that lives and dies with one `Table` (its constructor is crate-private, so it cannot be given
//! another), so planning the same version again (the same metadata file, snapshot, schemas and
//! partition specs) with that `Table` parses nothing; a new version gets a new `Table`, which
//! parses its manifests from the cached bytes.
//!
//! Each of the two is bounded by the ATTACH option `METADATA_CACHE_SIZE`: the files by their
//! size, the tables by the size of the manifest list and manifests of the snapshot they planned;
//! the least recently used go first. Size 0 turns both off.
//!
//! ```
//! # async fn demo() -> floe_core::Result<()> {
//! use floe_core::storage::MetadataCache;
//! let cache = MetadataCache::new(1 << 20);
//! let url = "s3://lake/gold/m/metadata/snap-1-0-4a.avro";
//! let first = cache.read(url, || async { Ok(bytes::Bytes::from_static(b"Obj\x01")) }).await?;
//! let again = cache.read(url, || async { unreachable!("read from the cache") }).await?;
//! assert_eq!(first, again);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use iceberg::spec::TableMetadata;
use iceberg::table::Table;

use crate::error::Error;

/// Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct MetadataCache {
    /// `None` when off or cleared. The tables' storage entries hold clones for as long as the
    /// process lives, so the catalog empties it when it goes (see [`MetadataCache::clear`]).
    caches: Arc<RwLock<Option<Caches>>>,
}

#[derive(Clone)]
struct Caches {
    files: moka::future::Cache<String, Bytes>,
    /// By metadata location: the table and its weight.
    tables: moka::sync::Cache<String, (Table, u32)>,
}

impl std::fmt::Debug for MetadataCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.caches() {
            Some(c) => write!(f, "MetadataCache({} files, {} tables)", c.files.entry_count(), c.tables.entry_count()),
            None => write!(f, "MetadataCache(off)"),
        }
    }
}

impl MetadataCache {
    /// The default bound: a table planned over 10,000 single-row manifests and its manifest list
    /// fit, with room for other tables (floe and PyIceberg write 3.5 to 4.5 KB for such a
    /// manifest of a narrow table; the table's schema, stored in each, makes wider ones larger).
    pub const DEFAULT_BYTES: u64 = 256 << 20;

    /// A cache holding at most `capacity_bytes` of files and as much of planned tables; 0: none.
    pub fn new(capacity_bytes: u64) -> MetadataCache {
        let caches = (capacity_bytes > 0).then(|| Caches {
            files: moka::future::Cache::builder()
                .max_capacity(capacity_bytes)
                // A file larger than u32::MAX bytes counts as that much: still more than any
                // sensible capacity, so it is dropped at once.
                .weigher(|url: &String, bytes: &Bytes| u32::try_from(url.len() + bytes.len()).unwrap_or(u32::MAX))
                .build(),
            tables: moka::sync::Cache::builder()
                .max_capacity(capacity_bytes)
                .weigher(|_: &String, (_, weight): &(Table, u32)| *weight)
                .build(),
        });
        MetadataCache { caches: Arc::new(RwLock::new(caches)) }
    }

    fn caches(&self) -> Option<Caches> {
        self.caches.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Drops everything and keeps nothing more: the catalog is gone (DETACH).
    pub fn clear(&self) {
        self.caches.write().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    }

    /// The table last planned at `metadata_location`, if it is still kept and plans snapshot
    /// `snapshot_id` of `metadata` as `metadata` itself would (see [`plans_alike`]).
    pub fn table(&self, metadata_location: &str, metadata: &TableMetadata, snapshot_id: i64) -> Option<Table> {
        let (table, _) = self.caches()?.tables.get(metadata_location)?;
        plans_alike(table.metadata(), metadata, snapshot_id).then_some(table)
    }

    /// The bytes of the file at `url` if the cache holds them; never reads.
    pub async fn cached(&self, url: &str) -> Option<Bytes> {
        self.caches()?.files.get(url).await
    }

    /// Keeps `table`, which planned a snapshot of `manifest_bytes` (its manifest list and
    /// manifests), for the next plan of the same version.
    pub fn keep_table(&self, table: &Table, manifest_bytes: u64) {
        let (Some(caches), Some(location)) = (self.caches(), table.metadata_location()) else { return };
        let weight = u32::try_from(manifest_bytes).unwrap_or(u32::MAX);
        caches.tables.insert(location.to_string(), (table.clone(), weight));
        caches.tables.run_pending_tasks();
    }

    /// Whether the file at `url` is one this cache keeps: a manifest or a manifest list. The
    /// spec writes both as Avro, and every writer names them `*.avro`; the core reads no other
    /// Avro file whole (data files reach DuckDB's reader by ranges). A manifest named otherwise
    /// is simply read every time.
    fn keeps(url: &str) -> bool {
        url.ends_with(".avro")
    }

    /// The bytes of the file at `url`: from the cache, or from `fetch` (once, however many ask at
    /// the same time), kept when the file is a manifest or a manifest list. A failed fetch is not
    /// kept.
    pub async fn read<F, Fut>(&self, url: &str, fetch: F) -> Result<Bytes, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, Error>>,
    {
        match self.caches() {
            Some(Caches { files, .. }) if Self::keeps(url) => {
                let entry = files
                    .entry_by_ref(url)
                    .or_try_insert_with(fetch())
                    .await
                    .map_err(|shared: Arc<Error>| Arc::try_unwrap(shared).unwrap_or_else(|e| e.as_ref().clone()))?;
                if entry.is_fresh() {
                    // moka evicts in batches, so it may hold more than its bound between them;
                    // evicting now keeps the bound after every insert (and drops a file larger
                    // than the whole cache at once).
                    files.run_pending_tasks().await;
                }
                Ok(entry.into_value())
            }
            _ => fetch().await,
        }
    }
}

/// Whether a scan of `snapshot_id` plans the same over `kept` as over `loaded`: `iceberg`'s
/// planner reads the snapshot, its schema, the partition specs, the format version and the
/// encryption keys of the metadata, nothing else. The metadata location alone does not tell:
/// a table changed in a transaction keeps its location until the commit, and a load of the
/// current snapshots and one of the whole history share it. Nor does the whole metadata: some
/// catalogs stamp `last-updated-ms` anew on every load (SeaweedFS does).
fn plans_alike(kept: &TableMetadata, loaded: &TableMetadata, snapshot_id: i64) -> bool {
    let (Some(a), Some(b)) = (kept.snapshot_by_id(snapshot_id), loaded.snapshot_by_id(snapshot_id)) else {
        return false;
    };
    a == b
        && kept.format_version() == loaded.format_version()
        && kept.schemas_iter().len() == loaded.schemas_iter().len()
        && kept.schemas_iter().all(|s| loaded.schema_by_id(s.schema_id()) == Some(s))
        && kept.partition_specs_iter().len() == loaded.partition_specs_iter().len()
        && kept.partition_specs_iter().all(|s| loaded.partition_spec_by_id(s.spec_id()) == Some(s))
        && kept.encryption_keys_iter().eq(loaded.encryption_keys_iter())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    async fn read_counting(cache: &MetadataCache, url: &str, reads: &AtomicUsize) -> Bytes {
        read_sized(cache, url, reads, 1000).await
    }

    async fn read_sized(cache: &MetadataCache, url: &str, reads: &AtomicUsize, size: usize) -> Bytes {
        cache
            .read(url, || async {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(Bytes::from(vec![7u8; size]))
            })
            .await
            .unwrap()
    }

    /// A v2 table with one snapshot, loaded at `updated_ms`, its column `id` of `id_type`.
    fn metadata(updated_ms: i64, id_type: &str) -> TableMetadata {
        serde_json::from_value(serde_json::json!({
            "format-version": 2, "table-uuid": "5d3c1f2e-8a6b-4c1d-9e0f-7a8b9c0d1e2f",
            "location": "s3://b/t", "last-sequence-number": 1, "last-updated-ms": updated_ms,
            "last-column-id": 1, "current-schema-id": 0,
            "schemas": [{"schema-id": 0, "type": "struct",
                         "fields": [{"id": 1, "name": "id", "required": false, "type": id_type}]}],
            "default-spec-id": 0, "partition-specs": [{"spec-id": 0, "fields": []}],
            "last-partition-id": 999, "default-sort-order-id": 0,
            "sort-orders": [{"order-id": 0, "fields": []}], "properties": {},
            "current-snapshot-id": 7,
            "snapshots": [{"snapshot-id": 7, "sequence-number": 1, "timestamp-ms": 1000,
                           "manifest-list": "s3://b/t/metadata/snap-7.avro",
                           "summary": {"operation": "append"}, "schema-id": 0}],
            "snapshot-log": [{"snapshot-id": 7, "timestamp-ms": 1000}], "metadata-log": [],
            "refs": {"main": {"snapshot-id": 7, "type": "branch"}}
        }))
        .unwrap()
    }

    #[test]
    fn a_reload_of_the_same_version_plans_alike_whatever_its_load_time() {
        assert!(plans_alike(&metadata(1000, "long"), &metadata(2000, "long"), 7));
    }

    #[test]
    fn another_schema_under_the_same_id_or_an_absent_snapshot_plans_apart() {
        assert!(!plans_alike(&metadata(1000, "long"), &metadata(1000, "int"), 7));
        assert!(!plans_alike(&metadata(1000, "long"), &metadata(1000, "long"), 8));
    }

    #[tokio::test]
    async fn a_file_larger_than_the_cache_is_read_each_time() {
        let reads = AtomicUsize::new(0);
        let cache = MetadataCache::new(1000);
        for _ in 0..2 {
            read_sized(&cache, "s3://b/t/metadata/big.avro", &reads, 4000).await;
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert_eq!(cache.caches().unwrap().files.weighted_size(), 0);
    }

    #[tokio::test]
    async fn keeps_avro_files_within_its_bound() {
        let reads = AtomicUsize::new(0);
        let cache = MetadataCache::new(10_000);
        for round in 0..2 {
            for i in 0..5 {
                read_counting(&cache, &format!("s3://b/t/metadata/m{i}.avro"), &reads).await;
            }
            assert_eq!(reads.load(Ordering::SeqCst), 5, "round {round}");
        }
        // 50 files of 1 KB do not fit in 10 KB: the cache stays within its bound.
        for i in 0..50 {
            read_counting(&cache, &format!("s3://b/t/metadata/n{i}.avro"), &reads).await;
            assert!(cache.caches().unwrap().files.weighted_size() <= 10_000);
        }
    }

    #[tokio::test]
    async fn a_cleared_cache_keeps_nothing_more() {
        let reads = AtomicUsize::new(0);
        let cache = MetadataCache::new(10_000);
        read_counting(&cache, "s3://b/t/metadata/m0.avro", &reads).await;
        cache.clone().clear();
        for _ in 0..2 {
            read_counting(&cache, "s3://b/t/metadata/m0.avro", &reads).await;
        }
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn reads_other_files_and_everything_when_off_each_time() {
        let reads = AtomicUsize::new(0);
        let on = MetadataCache::new(10_000);
        let off = MetadataCache::new(0);
        for _ in 0..2 {
            read_counting(&on, "s3://b/t/metadata/00001-a.metadata.json", &reads).await;
            read_counting(&off, "s3://b/t/metadata/m0.avro", &reads).await;
        }
        assert_eq!(reads.load(Ordering::SeqCst), 4);
    }
}
