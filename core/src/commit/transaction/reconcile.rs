//! After a 500/502/504 on a commit the catalog may or may not have applied it. Resending could
//! apply it twice and deleting the files could break a table that now refers to them, so
//! neither is done: the tables are reloaded and the outcome reported as found.

use super::work::Work;
use super::{display, Transaction};
use crate::error::{Error, ErrorKind, Result};

impl Transaction {
    /// Whether every change of `batch` landed: Ok if so, CommitStateUnknown naming the tables
    /// where it did, did not, or could not be checked otherwise. The batch is emptied either way,
    /// so that no file of it is deleted: the files are, or may yet be, part of the tables.
    pub(super) async fn reconcile(&self, batch: &mut Vec<Work>, err: Error) -> Result<()> {
        let mut applied = Vec::new();
        let mut missing = Vec::new();
        let mut unchecked = Vec::new();
        for work in batch.iter() {
            match self.catalog.load_table(&work.id.namespace, &work.id.name).await {
                Ok(result) => {
                    let landed = match &work.snapshot {
                        Some(snapshot) => result.metadata.snapshot_by_id(snapshot.snapshot_id).is_some(),
                        None => result.metadata.uuid() == work.target.metadata.uuid(),
                    };
                    if landed { &mut applied } else { &mut missing }.push(display(&work.id));
                }
                Err(reload) => {
                    unchecked.push(format!("{} (reloading failed: {})", display(&work.id), reload.message()))
                }
            }
        }
        batch.clear();
        if missing.is_empty() && unchecked.is_empty() {
            return Ok(());
        }
        let mut parts = Vec::new();
        if !applied.is_empty() {
            parts.push(format!("applied to {}", applied.join(", ")));
        }
        if !missing.is_empty() {
            parts.push(format!("missing in {}", missing.join(", ")));
        }
        if !unchecked.is_empty() {
            parts.push(format!("not known for {}", unchecked.join(", ")));
        }
        let state = match (applied.is_empty(), missing.is_empty(), unchecked.is_empty()) {
            (true, false, true) => "not visible".to_string(),
            (true, true, false) => "unknown: the catalog could not be asked".to_string(),
            _ => "only partly known".to_string(),
        };
        let state = format!("{state} ({})", parts.join("; "));
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
