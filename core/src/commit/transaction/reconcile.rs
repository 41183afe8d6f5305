//! After a 500/502/504 on a commit the catalog may or may not have applied it. Resending could
//! apply it twice and deleting the files could break a table that now refers to them, so
//! neither is done: the tables are reloaded and the outcome reported as found.

use super::work::Work;
use super::{display, Transaction};
use crate::error::{Error, ErrorKind, Result};

impl Transaction {
    /// Whether every change of `batch` landed: Ok if so, CommitStateUnknown naming the tables
    /// where it did and did not otherwise. The batch is emptied either way, so that no file of
    /// it is deleted: the files are, or may yet be, part of the tables.
    pub(super) async fn reconcile(&self, batch: &mut Vec<Work>, err: Error) -> Result<()> {
        let mut applied = Vec::new();
        let mut missing = Vec::new();
        for work in batch.iter() {
            let landed = match self.catalog.load_table(&work.id.namespace, &work.id.name).await {
                Ok(result) => match &work.snapshot {
                    Some(snapshot) => result.metadata.snapshot_by_id(snapshot.snapshot_id).is_some(),
                    None => result.metadata.uuid() == work.target.metadata.uuid(),
                },
                Err(_) => false,
            };
            if landed {
                applied.push(display(&work.id))
            } else {
                missing.push(display(&work.id))
            }
        }
        batch.clear();
        if missing.is_empty() {
            return Ok(());
        }
        let state = if applied.is_empty() {
            format!("not visible (missing in {})", missing.join(", "))
        } else {
            format!("only partly visible (applied to {}, missing in {})", applied.join(", "), missing.join(", "))
        };
        Err(Error::new(
            ErrorKind::CommitStateUnknown,
            format!(
                "The catalog failed while committing ({}); after reloading, the change is {state}. No written file was deleted",
                err.message()
            ),
        )
        .with_fix("check the tables' history (iceberg_snapshots) before running the statement again"))
    }
}
