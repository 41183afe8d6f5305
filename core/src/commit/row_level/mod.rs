//! Row-level changes (DELETE, and the delete half of UPDATE and MERGE), merge-on-read: the rows
//! a statement removes become Iceberg v2 position delete files, one per data file it touched; a
//! data file whose every row is gone is removed from the table instead.
//!
//! Deletes do not commute: after a lost race the change is checked against what the winners
//! committed (`conflicts`) and never re-applied blindly.

mod conflicts;
mod position_delete_file;
pub mod resolve;
mod rewrite;

use std::collections::{HashMap, HashSet};

use iceberg::spec::{DataFile, Struct};

use crate::error::{Error, Result};
use crate::scan::filter::Filter;

pub use position_delete_file::{FILE_PATH_FIELD_ID, POS_FIELD_ID};

/// The statement kind, which names the table properties that steer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOperation {
    Delete,
    Update,
    Merge,
    /// Compaction (`floe_rewrite_data_files`).
    Rewrite,
}

impl RowOperation {
    pub fn word(self) -> &'static str {
        match self {
            RowOperation::Delete => "delete",
            RowOperation::Update => "update",
            RowOperation::Merge => "merge",
            RowOperation::Rewrite => "rewrite",
        }
    }
}

/// `write.<operation>.mode`: how deleted rows leave a data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A position delete file names them; readers skip them.
    MergeOnRead,
    /// The data file is written again without them.
    CopyOnWrite,
}

/// `write.<operation>.isolation-level`: what a concurrent commit may do before this one lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isolation {
    /// Concurrent appends are fine; files this statement deleted from must be untouched.
    Snapshot,
    /// Also no concurrent append of rows the statement's condition could have matched.
    Serializable,
}

/// The rows one statement deletes, as DuckDB's scan identified them: positions by data file
/// (the real URL), in any order, possibly repeated (a join matching a row twice).
#[derive(Debug)]
pub struct StatementDeletes {
    pub operation: RowOperation,
    /// The filters DuckDB pushed into the statement's scan of the table: a row the statement
    /// could have deleted passes them. None: any row.
    pub filter: Option<Filter>,
    /// A row named twice is an error (MERGE: a target row matched by two source rows) rather than
    /// deleted once (DELETE ... USING).
    pub refuse_repeats: bool,
    pub positions: HashMap<String, Vec<i64>>,
}

/// A committed data file a statement deleted rows from, as its manifest entry described it.
#[derive(Debug, Clone)]
pub struct Touched {
    pub spec_id: i32,
    pub partition: Struct,
}

/// What the row-level statements of one transaction do to one table, committed in its snapshot.
#[derive(Debug, Default)]
pub struct RowDelta {
    /// Position delete files written, as manifest entries with their partition spec ids.
    pub delete_files: Vec<(i32, DataFile)>,
    /// Data files written again without deleted rows (copy-on-write), with their spec ids; the
    /// files they replace are in `removed`.
    pub rewritten: Vec<(i32, DataFile)>,
    /// Files of `rewritten` of an earlier statement whose every row this one deleted.
    pub removed_rewritten: HashSet<String>,
    /// Committed data files whose every row is deleted: removed from the table.
    pub removed: HashSet<String>,
    /// Committed data files deleted from (partly or whole), checked again after a lost race.
    pub touched: HashMap<String, Touched>,
    /// The conflict filters of the statements; one None means every row.
    pub filters: Vec<Option<Filter>>,
    /// The strictest isolation level of the statements.
    pub isolation: Option<Isolation>,
    /// The statement kinds, for messages.
    pub operations: Vec<RowOperation>,
    /// Every position deleted so far, by data file: a later statement's file-removal check
    /// counts them.
    pub deleted: HashMap<String, Vec<i64>>,
    /// The data sequence number `rewritten` files carry instead of the commit's: a compaction
    /// pins the one of the snapshot it read, so deletes committed after it still apply.
    pub data_sequence_number: Option<i64>,
}

impl RowDelta {
    pub fn is_empty(&self) -> bool {
        self.delete_files.is_empty() && self.removed.is_empty() && self.rewritten.is_empty()
    }

    /// Adds a later statement's delta of the same table.
    pub fn merge(&mut self, other: RowDelta) {
        // A delete file of an earlier statement for a data file now removed whole is moot.
        self.delete_files.retain(|(_, f)| !f.referenced_data_file().is_some_and(|d| other.removed.contains(&d)));
        self.delete_files.extend(other.delete_files);
        self.rewritten.retain(|(_, f)| !other.removed_rewritten.contains(f.file_path()));
        self.rewritten.extend(other.rewritten);
        self.removed.extend(other.removed);
        self.touched.extend(other.touched);
        self.filters.extend(other.filters);
        self.isolation = self.isolation.max(other.isolation);
        self.operations.extend(other.operations);
        self.data_sequence_number = self.data_sequence_number.or(other.data_sequence_number);
        for (path, positions) in other.deleted {
            let all = self.deleted.entry(path).or_default();
            all.extend(positions);
            all.sort_unstable();
            all.dedup();
        }
    }

    /// Pending delete files by the data file they apply to, for reads in the same transaction.
    pub fn delete_files_by_data_file(&self) -> HashMap<String, Vec<String>> {
        let mut result: HashMap<String, Vec<String>> = HashMap::new();
        for (_, file) in &self.delete_files {
            if let Some(data_file) = file.referenced_data_file() {
                result.entry(data_file).or_default().push(file.file_path().to_string());
            }
        }
        result
    }
}

/// How a table takes row-level changes of `operation`, from its properties: the mode and the
/// isolation level.
pub fn row_level_properties(
    properties: &HashMap<String, String>,
    operation: RowOperation,
    table: &str,
) -> Result<(Mode, Isolation)> {
    let word = operation.word();
    let mode_key = format!("write.{word}.mode");
    let mode = match properties.get(&mode_key).map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("merge-on-read") => Mode::MergeOnRead,
        Some("copy-on-write") => Mode::CopyOnWrite,
        Some(other) => {
            return Err(Error::invalid_input(format!(
                "Table '{table}' has {mode_key}='{other}', which is neither copy-on-write nor merge-on-read"
            ))
            .with_fix(format!("set the table property {mode_key} to merge-on-read or copy-on-write")))
        }
    };
    let key = format!("write.{word}.isolation-level");
    let isolation = match properties.get(&key).map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("serializable") => Isolation::Serializable,
        Some("snapshot") => Isolation::Snapshot,
        Some(other) => {
            return Err(Error::invalid_input(format!(
                "Table '{table}' has {key}='{other}', which is neither serializable nor snapshot"
            ))
            .with_fix(format!("set the table property {key} to serializable or snapshot")))
        }
    };
    Ok((mode, isolation))
}
