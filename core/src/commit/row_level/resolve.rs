//! From the positions a statement deleted to its delta: the delete file of each data file it
//! touched, or the data file's removal when no row of it is left.

use std::collections::{HashMap, HashSet};

use futures::{StreamExt, TryStreamExt};
use iceberg::io::FileIO;
use iceberg::spec::{DataContentType, DataFile, FormatVersion, ManifestContentType, Struct};

use super::position_delete_file::write_position_deletes;
use super::rewrite::rewrite_without;
use super::{row_level_properties, Mode, RowDelta, StatementDeletes, Touched};
use crate::commit::data_file::{data_file, WrittenFile};
use crate::commit::snapshot::load_manifest_list;
use crate::error::{Error, Result};
use crate::table::LoadedTable;

/// Delete files written at once by one statement.
const PARALLEL_WRITES: usize = 8;

/// A statement's deletes, resolved.
pub struct Resolved {
    pub delta: RowDelta,
    /// Files written earlier in this transaction whose every row is now deleted: dropped from
    /// what the transaction commits.
    pub removed_pending: HashSet<String>,
    /// Rows deleted.
    pub count: u64,
}

/// A data file as the table (or this transaction) has it.
struct Target {
    file: DataFile,
    spec_id: i32,
    committed: bool,
    /// Written again by an earlier copy-on-write statement of the transaction.
    rewritten: bool,
    /// Positions deleted before this statement: by committed delete files and by earlier
    /// statements of the transaction.
    deleted_before: Vec<i64>,
    /// Whether equality deletes may apply, which cannot be counted without reading the data.
    equality_deletes: bool,
}

/// Resolves `statement`'s deletes in `table` (as the transaction loaded it): `pending` are the
/// files the transaction wrote into it so far, `earlier` its earlier row-level changes (the
/// positions they deleted, the files they rewrote), and new files go into the directory `dir`.
pub async fn resolve(
    table: &LoadedTable,
    file_io: &FileIO,
    statement: StatementDeletes,
    pending: &[WrittenFile],
    earlier: &RowDelta,
    dir: &str,
) -> Result<Resolved> {
    let name = table.qualified_name();
    let metadata = &table.metadata;
    match metadata.format_version() {
        FormatVersion::V1 => {
            return Err(Error::unsupported(format!(
                "Table '{name}' is an Iceberg format version 1 table, which has no delete files"
            ))
            .with_fix(
                "upgrade it to format-version 2 in the catalog, or rewrite it with CREATE OR REPLACE TABLE ... AS",
            ))
        }
        FormatVersion::V3 => {
            return Err(Error::unsupported(format!(
                "Table '{name}' is an Iceberg format version 3 table; floe does not write deletion vectors yet"
            ))
            .with_fix("rewrite the rows with CREATE OR REPLACE TABLE ... AS, or change the table with another engine"))
        }
        FormatVersion::V2 => {}
    }
    let (mode, isolation) = row_level_properties(metadata.properties(), statement.operation, &name)?;

    let mut positions = statement.positions;
    let mut count = 0u64;
    for (path, list) in positions.iter_mut() {
        list.sort_unstable();
        let before = list.len();
        list.dedup();
        if statement.refuse_repeats && list.len() != before {
            return Err(Error::invalid_input(format!(
                "MERGE into table '{name}' matched one row of data file {path} with more than one source row"
            ))
            .with_fix("make the ON condition match each target row at most once (deduplicate the source)"));
        }
        count += list.len() as u64;
    }
    let mut targets = targets(table, file_io, &positions, pending, earlier).await?;

    let mut delta = RowDelta {
        isolation: Some(isolation),
        filters: vec![statement.filter],
        operations: vec![statement.operation],
        ..RowDelta::default()
    };
    let mut removed_pending = HashSet::new();
    let mut writes = Vec::new();
    let mut rewrites = Vec::new();
    for (path, new) in positions {
        let Some(target) = targets.remove(&path) else {
            return Err(Error::internal(format!("table '{name}' has no live data file {path} to delete from")));
        };
        let new: Vec<i64> = new.into_iter().filter(|p| target.deleted_before.binary_search(p).is_err()).collect();
        if new.is_empty() {
            continue;
        }
        if target.committed {
            delta
                .touched
                .insert(path.clone(), Touched { spec_id: target.spec_id, partition: target.file.partition().clone() });
        }
        let every_row =
            !target.equality_deletes && (target.deleted_before.len() + new.len()) as u64 >= target.file.record_count();
        delta.deleted.insert(path.clone(), new.clone());
        if every_row {
            match (target.committed, target.rewritten) {
                (true, _) => delta.removed.insert(path),
                (false, true) => delta.removed_rewritten.insert(path),
                (false, false) => removed_pending.insert(path),
            };
            continue;
        }
        let dir = dir.trim_end_matches('/');
        // Copy-on-write rewrites committed files; rows of files this transaction wrote, and of
        // files equality deletes apply to (whose rows a rewrite could not tell), are masked.
        if mode == Mode::CopyOnWrite && target.committed && !target.equality_deletes {
            let mut all = target.deleted_before;
            all.extend(new);
            all.sort_unstable();
            let rewrite_path = format!("{dir}/{}.parquet", uuid::Uuid::now_v7());
            rewrites.push((rewrite_path, target.file, target.spec_id, all));
            continue;
        }
        let delete_path = format!("{dir}/{}-deletes.parquet", uuid::Uuid::now_v7());
        writes.push((delete_path, path, new, target.file.partition().clone(), target.spec_id));
    }
    let written: Vec<(i32, DataFile)> = futures::stream::iter(writes.into_iter().map(
        |(delete_path, data_path, new, partition, spec_id): (String, String, Vec<i64>, Struct, i32)| async move {
            let file = write_position_deletes(file_io, &delete_path, &data_path, &new, partition, spec_id).await?;
            Ok::<_, Error>((spec_id, file))
        },
    ))
    .buffer_unordered(PARALLEL_WRITES)
    .try_collect()
    .await?;
    delta.delete_files = written;
    let schema = metadata.current_schema();
    let rewritten: Vec<(String, i32, Option<DataFile>)> = futures::stream::iter(rewrites.into_iter().map(
        |(path, file, spec_id, all): (String, DataFile, i32, Vec<i64>)| async move {
            let new = rewrite_without(file_io, schema, &file, spec_id, &all, &path).await?;
            Ok::<_, Error>((file.file_path().to_string(), spec_id, new))
        },
    ))
    .buffer_unordered(PARALLEL_WRITES)
    .try_collect()
    .await?;
    for (old, spec_id, new) in rewritten {
        delta.removed.insert(old);
        delta.rewritten.extend(new.map(|file| (spec_id, file)));
    }
    Ok(Resolved { delta, removed_pending, count })
}

/// The data files `positions` names, from the table's current snapshot and the transaction's
/// pending files, with what was deleted from each before.
async fn targets(
    table: &LoadedTable,
    file_io: &FileIO,
    positions: &HashMap<String, Vec<i64>>,
    pending: &[WrittenFile],
    earlier: &RowDelta,
) -> Result<HashMap<String, Target>> {
    let metadata = &table.metadata;
    let mut targets = HashMap::new();
    let before = |path: &str| earlier.deleted.get(path).cloned().unwrap_or_default();
    for file in pending.iter().filter(|f| positions.contains_key(&f.path)) {
        let spec = metadata.default_partition_spec();
        targets.insert(
            file.path.clone(),
            Target {
                file: data_file(file, metadata, metadata)?,
                spec_id: spec.spec_id(),
                committed: false,
                rewritten: false,
                deleted_before: before(&file.path),
                equality_deletes: false,
            },
        );
    }
    for (spec_id, file) in earlier.rewritten.iter().filter(|(_, f)| positions.contains_key(f.file_path())) {
        targets.insert(
            file.file_path().to_string(),
            Target {
                file: file.clone(),
                spec_id: *spec_id,
                committed: false,
                rewritten: true,
                deleted_before: before(file.file_path()),
                equality_deletes: false,
            },
        );
    }
    let wanted: HashSet<&String> = positions.keys().filter(|p| !targets.contains_key(*p)).collect();
    let Some(snapshot) = metadata.current_snapshot().filter(|_| !wanted.is_empty()) else {
        return Ok(targets);
    };
    let list = load_manifest_list(file_io, metadata, snapshot).await?;
    // Delete files that may apply to a wanted data file: positions by reference, equality
    // deletes by partition.
    let mut position_deletes: Vec<DataFile> = Vec::new();
    let mut equality_partitions: HashSet<(i32, Struct)> = HashSet::new();
    for manifest in list.entries() {
        let loaded = manifest.load_manifest(file_io).await?;
        for entry in loaded.entries().iter().filter(|e| e.is_alive()) {
            let file = entry.data_file();
            match (manifest.content, file.content_type()) {
                (ManifestContentType::Data, _) if wanted.contains(&file.file_path().to_string()) => {
                    targets.insert(
                        file.file_path().to_string(),
                        Target {
                            file: file.clone(),
                            spec_id: manifest.partition_spec_id,
                            committed: true,
                            rewritten: false,
                            deleted_before: Vec::new(),
                            equality_deletes: false,
                        },
                    );
                }
                (ManifestContentType::Deletes, DataContentType::PositionDeletes) => {
                    let applies = file.referenced_data_file().is_none_or(|d| wanted.contains(&d));
                    if applies {
                        position_deletes.push(file.clone());
                    }
                }
                (ManifestContentType::Deletes, DataContentType::EqualityDeletes) => {
                    equality_partitions.insert((manifest.partition_spec_id, file.partition().clone()));
                }
                _ => {}
            }
        }
    }
    for (path, target) in targets.iter_mut().filter(|(_, t)| t.committed) {
        let paths: Vec<String> = position_deletes
            .iter()
            .filter(|f| f.referenced_data_file().is_none_or(|d| &d == path))
            .map(|f| f.file_path().to_string())
            .collect();
        let mut deleted =
            if paths.is_empty() { Vec::new() } else { table.position_deletes.positions(file_io, path, &paths).await? };
        deleted.extend(before(path));
        deleted.sort_unstable();
        deleted.dedup();
        target.deleted_before = deleted;
        target.equality_deletes = !equality_partitions.is_empty()
            && (equality_partitions.contains(&(target.spec_id, target.file.partition().clone()))
                || equality_partitions.iter().any(|(_, p)| p.fields().is_empty()));
    }
    Ok(targets)
}
