//! After a lost race: may a row-level change still go on top of what the winners committed?
//! Checked on the snapshots committed since the statement read the table, as Iceberg Java's
//! row-delta validation does:
//! - no data file the change deleted from was removed or rewritten meanwhile (any isolation);
//! - no delete file was added for those data files (any isolation: the rows may be gone);
//! - under `serializable`, no data file was added that the statements' conditions could match.
//!   The conditions are the filters DuckDB pushed into the scans, a superset of the rows
//!   matched, so the check errs on the side of a conflict.

use std::collections::HashSet;

use futures::TryStreamExt;
use iceberg::io::FileIO;
use iceberg::spec::{DataContentType, Manifest, ManifestStatus, Struct, TableMetadata};

use super::{Isolation, RowDelta};
use crate::commit::snapshot::load_manifest_list;
use crate::error::{Error, ErrorKind, Result};
use crate::scan::promotion::Promotions;
use crate::table::LoadedTable;

impl RowDelta {
    /// Whether this delta, built on `table` as the transaction loaded it, may be committed on
    /// `now`, the table as the catalog has it after a lost race.
    pub async fn check_on(&self, table: &LoadedTable, file_io: &FileIO, now: &TableMetadata) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let name = table.qualified_name();
        let statement = self.statement_words();
        let conflict = |what: String, fix: &str| {
            Error::new(ErrorKind::CommitConflict, format!("Cannot commit the {statement} on table '{name}': {what}"))
                .with_fix(fix.to_string())
        };
        let since = snapshots_since(&table.metadata, now).ok_or_else(|| {
            conflict(
                "its history was replaced by another writer while the statement ran".into(),
                "run the statement again on the table as it is now",
            )
        })?;
        let partitions: HashSet<(i32, &Struct)> = self.touched.values().map(|t| (t.spec_id, &t.partition)).collect();
        let mut added_data = HashSet::new();
        // Each snapshot's own manifests, read from its own manifest list: a later commit may
        // have merged them, turning their ADDED entries EXISTING and dropping DELETED ones.
        for snapshot in since.iter().filter_map(|id| now.snapshot_by_id(*id)) {
            let id = snapshot.snapshot_id();
            let list = load_manifest_list(file_io, now, snapshot).await?;
            for manifest in list.entries().iter().filter(|m| m.added_snapshot_id == id) {
                let loaded = manifest.load_manifest(file_io).await?;
                self.check_entries(&loaded, manifest.partition_spec_id, id, &partitions, &mut added_data, &conflict)?;
            }
        }
        if self.isolation == Some(Isolation::Serializable) && !added_data.is_empty() {
            if let Some(path) = self.matching(table, file_io, now, &added_data).await? {
                let word = self.operations.first().map_or("delete", |o| o.word());
                return Err(conflict(
                    format!("another writer added rows its condition could match ({path}); the table's isolation level is serializable"),
                    &format!("run the statement again; or, if concurrent appends need not be seen, set the table property write.{word}.isolation-level to snapshot"),
                ));
            }
        }
        Ok(())
    }

    /// The entries `snapshot` wrote into one of its manifests (of partition spec `spec_id`): a
    /// conflict if it removed or deleted from what this change touched; the data files it added
    /// go into `added_data`.
    fn check_entries(
        &self,
        manifest: &Manifest,
        spec_id: i32,
        snapshot: i64,
        partitions: &HashSet<(i32, &Struct)>,
        added_data: &mut HashSet<String>,
        conflict: &dyn Fn(String, &str) -> Error,
    ) -> Result<()> {
        let again = "run the statement again on the table as it is now";
        for entry in manifest.entries().iter().filter(|e| e.snapshot_id() == Some(snapshot)) {
            let file = entry.data_file();
            let path = file.file_path();
            let in_touched_partition =
                partitions.contains(&(spec_id, file.partition())) || file.partition().fields().is_empty();
            match (entry.status(), file.content_type()) {
                (ManifestStatus::Deleted, DataContentType::Data) if self.touched.contains_key(path) => {
                    return Err(conflict(
                        format!("another writer removed or rewrote data file {path}, which it deletes rows from"),
                        again,
                    ))
                }
                (ManifestStatus::Added, DataContentType::PositionDeletes) => {
                    let hits = match file.referenced_data_file() {
                        Some(data_file) => self.touched.contains_key(&data_file),
                        None => in_touched_partition,
                    };
                    if hits {
                        return Err(conflict(
                            format!("another writer deleted rows of the same data files meanwhile ({path})"),
                            again,
                        ));
                    }
                }
                (ManifestStatus::Added, DataContentType::EqualityDeletes) if in_touched_partition => {
                    return Err(conflict(
                        format!("another writer deleted rows of the same partitions meanwhile ({path})"),
                        again,
                    ))
                }
                (ManifestStatus::Added, DataContentType::Data) => {
                    added_data.insert(path.to_string());
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// One of the `added` data files that the statements' filters could match, if any.
    async fn matching(
        &self,
        table: &LoadedTable,
        file_io: &FileIO,
        now: &TableMetadata,
        added: &HashSet<String>,
    ) -> Result<Option<String>> {
        let iceberg_table = table.iceberg_table_at(std::sync::Arc::new(now.clone()), file_io.clone())?;
        let promotions = Promotions::of(now, now.current_schema());
        for filter in &self.filters {
            let Some(predicate) = filter.as_ref().and_then(|f| f.to_predicate(now.current_schema(), &promotions))
            else {
                return Ok(added.iter().next().cloned());
            };
            let scan = iceberg_table.scan().select_empty().with_filter(predicate).build()?;
            let tasks: Vec<_> = scan.plan_files().await?.try_collect().await?;
            if let Some(task) = tasks.iter().find(|t| added.contains(&t.data_file_path)) {
                return Ok(Some(task.data_file_path.clone()));
            }
        }
        Ok(None)
    }

    fn statement_words(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        for word in self.operations.iter().map(|op| op.word().to_ascii_uppercase()) {
            if !words.contains(&word) {
                words.push(word);
            }
        }
        words.join(" and ")
    }
}

/// Ids of the snapshots committed on `main` after `original`'s current one, up to `now`'s; None
/// when `original`'s is no longer an ancestor (history rolled back or replaced).
fn snapshots_since(original: &TableMetadata, now: &TableMetadata) -> Option<HashSet<i64>> {
    let stop = original.current_snapshot_id();
    let mut since = HashSet::new();
    let mut next = now.current_snapshot_id();
    while next != stop {
        let id = next?;
        since.insert(id);
        next = now.snapshot_by_id(id)?.parent_snapshot_id();
    }
    Some(since)
}
