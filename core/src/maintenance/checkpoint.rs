//! `CHECKPOINT lake` / `floe_checkpoint('lake')` on one table: the four procedures in the order
//! that frees the most — expire snapshots (their files go), compact (small files and files with
//! deletes become few), rewrite manifests (the compaction's manifests merged), remove orphans —
//! each with the table's own properties and Spark's defaults, each its own catalog commit.
//!
//! A step that fails (a lost race, a format-3 table floe does not write) is reported and the
//! later steps still run: each leaves the table as it found it when it fails. A table with
//! `gc.enabled=false` is compacted and its manifests merged, but nothing of it is deleted.

use std::sync::Arc;

use serde::Serialize;

use super::expire::{self, ExpireRequest};
use super::orphans::{self, OrphanRequest};
use super::progress::Progress;
use super::rewrite_data_files::{RewriteOptions, RewriteOutcome, Strategy};
use super::{gc_enabled, load_fresh};
use crate::commit::snapshot::Engine;
use crate::commit::Transaction;
use crate::error::Result;
use crate::rest::{Namespace, RestCatalog};
use crate::storage::DuckdbSecret;
use crate::table::LoadedTable;

/// What the checkpoint did to one table.
#[derive(Debug, Default, Serialize)]
pub struct CheckpointOutcome {
    /// Files the expired snapshots alone referenced, deleted.
    pub expired_files_count: u64,
    pub rewritten_data_files_count: u64,
    pub added_data_files_count: u64,
    pub rewritten_manifests_count: u64,
    pub added_manifests_count: u64,
    pub orphan_files_count: u64,
    /// Steps skipped, and why.
    pub notes: Vec<String>,
    /// Steps that failed, each with its error; empty when all ran.
    pub errors: Vec<String>,
}

/// Runs the checkpoint steps on table `namespace.name`. Fails only when the table cannot be
/// loaded; a step's failure is one of the outcome's errors.
pub async fn checkpoint_table(
    catalog: &Arc<RestCatalog>,
    engine: &Engine,
    namespace: &Namespace,
    name: &str,
    user_secret: Option<&DuckdbSecret>,
) -> Result<CheckpointOutcome> {
    let mut outcome = CheckpointOutcome::default();
    let table = load_fresh(catalog, namespace, name).await?;
    // The steps' own progress: the checkpoint shows the share of tables done instead.
    let unwatched = Progress::default();
    let gc = gc_enabled(&table);
    if gc {
        match expire::expire_snapshots(catalog, namespace, name, &ExpireRequest::default(), user_secret, &unwatched)
            .await
        {
            Ok(expired) => outcome.expired_files_count = expired.total(),
            Err(err) => outcome.errors.push(format!("expire: {err}")),
        }
    } else {
        outcome.notes.push("gc.enabled is false: no snapshot expired, no orphan file removed".to_string());
    }
    let steps = Steps { catalog, engine, namespace, name, user_secret };
    match steps.compact().await {
        Ok(rewrite) => {
            outcome.rewritten_data_files_count = rewrite.rewritten_data_files_count;
            outcome.added_data_files_count = rewrite.added_data_files_count;
        }
        Err(err) => outcome.errors.push(format!("rewrite data files: {err}")),
    }
    match steps.merge_manifests().await {
        Ok((rewritten, added)) => {
            outcome.rewritten_manifests_count = rewritten as u64;
            outcome.added_manifests_count = added as u64;
        }
        Err(err) => outcome.errors.push(format!("rewrite manifests: {err}")),
    }
    if gc {
        match orphans::remove_orphan_files(catalog, namespace, name, &OrphanRequest::default(), user_secret, &unwatched)
            .await
        {
            Ok(files) => outcome.orphan_files_count = files.len() as u64,
            Err(err) => outcome.errors.push(format!("remove orphan files: {err}")),
        }
    }
    Ok(outcome)
}

/// The steps that commit through a transaction of their own, on the table as it is then.
struct Steps<'a> {
    catalog: &'a Arc<RestCatalog>,
    engine: &'a Engine,
    namespace: &'a Namespace,
    name: &'a str,
    user_secret: Option<&'a DuckdbSecret>,
}

impl Steps<'_> {
    async fn begin(&self) -> Result<(Transaction, Arc<LoadedTable>)> {
        let table = Arc::new(load_fresh(self.catalog, self.namespace, self.name).await?);
        Ok((Transaction::new(self.catalog.clone(), self.engine.clone()), table))
    }

    /// Compaction with Spark's defaults; a table with a sort order stays sorted.
    async fn compact(&self) -> Result<RewriteOutcome> {
        let (transaction, table) = self.begin().await?;
        let strategy =
            if table.metadata.default_sort_order().is_unsorted() { Strategy::Binpack } else { Strategy::Sort };
        let options = RewriteOptions { strategy, target_file_size_bytes: None, min_input_files: None, filter: None };
        let rewrite = transaction.rewrite_data_files(&table, &options, self.user_secret, &Progress::default()).await?;
        transaction.commit().await?;
        Ok(rewrite)
    }

    /// How many manifests were merged, into how many.
    async fn merge_manifests(&self) -> Result<(usize, usize)> {
        let (transaction, table) = self.begin().await?;
        let counts = transaction.rewrite_manifests(&table, self.user_secret, &Progress::default()).await?;
        transaction.commit().await?;
        Ok(counts)
    }
}
