//! Byte ranges of data and delete files that DuckDB's Parquet reader asked for, kept in memory.
//!
//! Iceberg never rewrites a file in place: a data file's path names the same bytes for as long
//! as it exists, so a range read once may be served again with no request and no validation. A
//! query repeated in a warm database (a dashboard's refresh, a test's assertion) then reads its
//! footers and row groups from memory. DuckDB keeps such a cache of its own, the external file
//! cache, but only for the paths it knows to be remote (`s3://`, `https://`, ...), and floe's data
//! is read through `floe://` paths (see `registry.rs`), which it treats as local.
//!
//! Ranges are kept as read, keyed by file and range: the reader asks for the same ranges each
//! time it plans the same columns of the same row groups (its footer read included), which is
//! what repeated queries do. A range overlapping a kept one is read again. Bounded by the ATTACH
//! option `DATA_CACHE_SIZE`; the least recently and least frequently used go first (moka's
//! TinyLFU, which also keeps one large scan from flushing what repeated queries use). A read
//! larger than a quarter of the bound is never kept.
//!
//! ```
//! # async fn demo() -> floe_core::Result<()> {
//! use floe_core::storage::DataCache;
//! use opendal::Buffer;
//! let cache = DataCache::new(1 << 20);
//! let url = "s3://lake/gold/m/data/00000-0-4a.parquet";
//! let first = cache.read(url, 4..8, || async { Ok(Buffer::from(vec![1u8, 2, 3, 4])) }).await?;
//! let again = cache.read(url, 4..8, || async { unreachable!("read from the cache") }).await?;
//! assert_eq!(first.to_vec(), again.to_vec());
//! # Ok(()) }
//! ```

use std::future::Future;
use std::ops::Range;
use std::sync::{Arc, RwLock};

use opendal::Buffer;

use crate::error::Error;

/// Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct DataCache {
    /// `None` when off or cleared: the tables' storage entries hold clones for as long as the
    /// process lives, so the catalog empties it when it goes (see [`DataCache::clear`]).
    ranges: Arc<RwLock<Option<Ranges>>>,
    /// Reads above this many bytes are not kept.
    largest: u64,
}

type Ranges = moka::future::Cache<(String, u64, u64), Buffer>;

impl std::fmt::Debug for DataCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ranges() {
            Some(ranges) => write!(f, "DataCache({} ranges)", ranges.entry_count()),
            None => write!(f, "DataCache(off)"),
        }
    }
}

impl DataCache {
    /// The default bound: the row groups a few selective queries touch, and the footers of a
    /// few thousand files, with memory left to DuckDB (the cache lives outside its memory limit).
    pub const DEFAULT_BYTES: u64 = 256 << 20;

    /// A cache holding at most `capacity_bytes` of ranges; 0: none.
    pub fn new(capacity_bytes: u64) -> DataCache {
        let ranges = (capacity_bytes > 0).then(|| {
            moka::future::Cache::builder()
                .max_capacity(capacity_bytes)
                // Reads larger than u32::MAX bytes are never kept (see `largest`).
                .weigher(|(url, _, _): &(String, u64, u64), bytes: &Buffer| {
                    u32::try_from(url.len() + bytes.len()).unwrap_or(u32::MAX)
                })
                .build()
        });
        DataCache { ranges: Arc::new(RwLock::new(ranges)), largest: (capacity_bytes / 4).min(u32::MAX as u64) }
    }

    fn ranges(&self) -> Option<Ranges> {
        self.ranges.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Drops everything and keeps nothing more: the catalog is gone (DETACH).
    pub fn clear(&self) {
        self.ranges.write().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    }

    /// The bytes of `range` of the file at `url`: from the cache, or from `fetch` (once, however
    /// many ask at the same time) and then kept. A failed fetch is not kept.
    pub async fn read<F, Fut>(&self, url: &str, range: Range<u64>, fetch: F) -> Result<Buffer, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Buffer, Error>>,
    {
        match self.ranges() {
            Some(ranges) if range.end.saturating_sub(range.start) <= self.largest => {
                let entry =
                    ranges
                        .entry((url.to_string(), range.start, range.end))
                        .or_try_insert_with(fetch())
                        .await
                        .map_err(|shared: Arc<Error>| Arc::try_unwrap(shared).unwrap_or_else(|e| e.as_ref().clone()))?;
                if entry.is_fresh() {
                    // moka evicts in batches: evicting now keeps the bound after every insert.
                    ranges.run_pending_tasks().await;
                }
                Ok(entry.into_value())
            }
            _ => fetch().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const URL: &str = "s3://b/t/data/00000-0-a.parquet";

    async fn read_counting(cache: &DataCache, url: &str, range: Range<u64>, reads: &AtomicUsize) -> Vec<u8> {
        let len = (range.end - range.start) as usize;
        let buffer = cache
            .read(url, range, || async {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(Buffer::from(vec![7u8; len]))
            })
            .await
            .unwrap();
        buffer.to_vec()
    }

    #[tokio::test]
    async fn reads_a_range_once() {
        let reads = AtomicUsize::new(0);
        let cache = DataCache::new(100_000);
        for _ in 0..3 {
            assert_eq!(read_counting(&cache, URL, 100..1100, &reads).await.len(), 1000);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // Another range of the file, or the same range of another file, is read.
        read_counting(&cache, URL, 100..1200, &reads).await;
        read_counting(&cache, "s3://b/t/data/00001-0-a.parquet", 100..1100, &reads).await;
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn keeps_within_its_bound_and_never_keeps_large_reads() {
        let reads = AtomicUsize::new(0);
        let cache = DataCache::new(10_000);
        for i in 0..50 {
            read_counting(&cache, &format!("s3://b/t/data/{i}.parquet"), 0..1000, &reads).await;
            assert!(cache.ranges().unwrap().weighted_size() <= 10_000);
        }
        for _ in 0..2 {
            read_counting(&cache, URL, 0..2600, &reads).await;
        }
        assert_eq!(reads.load(Ordering::SeqCst), 52);
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept_and_off_or_cleared_reads_each_time() {
        let cache = DataCache::new(100_000);
        let failed = cache.read(URL, 0..10, || async { Err(Error::storage("refused")) }).await;
        assert!(failed.is_err());
        let reads = AtomicUsize::new(0);
        read_counting(&cache, URL, 0..10, &reads).await;
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        cache.clear();
        let off = DataCache::new(0);
        for _ in 0..2 {
            read_counting(&cache, URL, 0..10, &reads).await;
            read_counting(&off, URL, 0..10, &reads).await;
        }
        assert_eq!(reads.load(Ordering::SeqCst), 5);
    }
}
