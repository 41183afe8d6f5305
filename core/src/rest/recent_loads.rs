//! Table loads that may serve reads again for `MAX_TABLE_STALENESS` (the official DuckDB
//! extension's ATTACH option, same name and meaning).
//!
//! Every statement loads the tables it reads, so it sees the latest commit of any writer: one
//! LoadTable round trip, whose cost grows with the table's history (the whole metadata is sent
//! and parsed, 0.4 MB after 500 commits). A catalog that tags its answers spares the transfer
//! (`If-None-Match`, see `RestCatalog::load_table`); one that does not can only be asked less
//! often. With a staleness bound, a load serves the reads of every connection of the database
//! for that long, as Iceberg Java's `CachingCatalog` does (`cache.expiration-interval-ms`):
//! another engine's commit is seen at most that much later. This database's own commits are
//! seen at once: committing, creating, dropping or renaming a table forgets its load, and a load
//! that was under way while something was forgotten is not kept (it may predate the commit).
//! Writes always commit on a freshly loaded base; reads and the statement a write starts from
//! may be that much older (a conflict check then reaches back to that version).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::catalog::Namespace;
use super::model::LoadTableResult;

/// Tables whose load is kept: each holds the table's whole metadata.
const KEPT_LOADS: u64 = 256;

type Key = (Namespace, String);

pub struct RecentLoads {
    loads: Option<moka::future::Cache<Key, LoadTableResult>>,
    /// Counts forgets: a load kept only if none happened since it started.
    forgets: AtomicU64,
}

/// What a load must show to be kept: the forget count when it started.
#[derive(Clone, Copy)]
pub struct LoadStart(u64);

impl RecentLoads {
    /// `None`: nothing is kept.
    pub fn new(staleness: Option<Duration>) -> RecentLoads {
        let loads =
            staleness.map(|ttl| moka::future::Cache::builder().max_capacity(KEPT_LOADS).time_to_live(ttl).build());
        RecentLoads { loads, forgets: AtomicU64::new(0) }
    }

    /// The table's kept load, if it is recent enough.
    pub async fn get(&self, namespace: &Namespace, table: &str) -> Option<LoadTableResult> {
        self.loads.as_ref()?.get(&(namespace.clone(), table.to_string())).await
    }

    /// To be taken before a load that may be kept.
    pub fn start(&self) -> LoadStart {
        LoadStart(self.forgets.load(Ordering::SeqCst))
    }

    /// Keeps `result`, loaded since `start`, unless something was forgotten meanwhile.
    pub async fn keep(&self, start: LoadStart, namespace: &Namespace, table: &str, result: &LoadTableResult) {
        let Some(loads) = &self.loads else { return };
        let key = (namespace.clone(), table.to_string());
        loads.insert(key.clone(), result.clone()).await;
        // Checked after the insert, so a forget racing it either sees the entry or is seen here.
        if self.forgets.load(Ordering::SeqCst) != start.0 {
            loads.invalidate(&key).await;
        }
    }

    /// The table changed here (or may have): its next read loads it.
    pub async fn forget(&self, namespace: &Namespace, table: &str) {
        let Some(loads) = &self.loads else { return };
        self.forgets.fetch_add(1, Ordering::SeqCst);
        loads.invalidate(&(namespace.clone(), table.to_string())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> LoadTableResult {
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "format-version": 2, "table-uuid": "9c12d441-03fe-4693-9a96-a0705ddf69c1",
                "location": "s3://b/t", "last-sequence-number": 0, "last-updated-ms": 0,
                "last-column-id": 1, "current-schema-id": 0,
                "schemas": [{"type": "struct", "schema-id": 0, "fields": [{"id": 1, "name": "a", "required": false, "type": "long"}]}],
                "default-spec-id": 0, "partition-specs": [{"spec-id": 0, "fields": []}], "last-partition-id": 999,
                "default-sort-order-id": 0, "sort-orders": [{"order-id": 0, "fields": []}]
            }
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn keeps_a_load_for_its_staleness_and_forgets_a_changed_table() {
        let ns = vec!["n".to_string()];
        let loads = RecentLoads::new(Some(Duration::from_millis(300)));
        let start = loads.start();
        loads.keep(start, &ns, "t", &result()).await;
        assert!(loads.get(&ns, "t").await.is_some());
        assert!(loads.get(&ns, "u").await.is_none());
        loads.forget(&ns, "t").await;
        assert!(loads.get(&ns, "t").await.is_none());

        loads.keep(loads.start(), &ns, "t", &result()).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(loads.get(&ns, "t").await.is_none(), "kept past its staleness");
    }

    #[tokio::test]
    async fn a_load_under_way_while_a_table_was_forgotten_is_not_kept() {
        let ns = vec!["n".to_string()];
        let loads = RecentLoads::new(Some(Duration::from_secs(60)));
        let start = loads.start();
        loads.forget(&ns, "t").await;
        loads.keep(start, &ns, "t", &result()).await;
        assert!(loads.get(&ns, "t").await.is_none());
    }

    #[tokio::test]
    async fn keeps_nothing_without_a_staleness() {
        let ns = vec!["n".to_string()];
        let loads = RecentLoads::new(None);
        loads.keep(loads.start(), &ns, "t", &result()).await;
        assert!(loads.get(&ns, "t").await.is_none());
    }
}
