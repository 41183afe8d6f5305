//! `floe_expire_snapshots`: removes old snapshots from a table's metadata and deletes the files
//! only they referenced, as Iceberg Java's `ExpireSnapshots` decides them.
//!
//! What is kept: every branch and tag head; along each branch, its newest snapshots while fewer
//! than its minimum count are kept or they are younger than its maximum age (the branch's own
//! retention, else the procedure's arguments, else the table's `history.expire.*` properties);
//! snapshots on no branch younger than the maximum age. `snapshot_ids` names more to expire.
//! A branch or tag other than `main` whose head is older than its maximum ref age (its own
//! `max-ref-age-ms`, else the table's `history.expire.max-ref-age-ms`; none: kept forever) is
//! removed first, and its snapshots then expire as any other's.
//!
//! The removal is one commit (`remove-snapshot-ref`s, `remove-snapshots`) that requires the
//! table's uuid and every ref's snapshot: a concurrent commit makes it recompute and retry. Files
//! are deleted only after it succeeded, and only those no snapshot of the metadata loaded after it
//! reaches.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use iceberg::spec::{SnapshotReference, SnapshotRetention, TableMetadata};
use iceberg::{TableRequirement, TableUpdate};
use serde::{Deserialize, Serialize};

use super::progress::{Progress, Step};
use super::reachable::{files_of, ContentKind, Entries, Reachable};
use super::{load_fresh, now_ms, refs, require_gc_enabled};
use crate::commit::retry::RetryPolicy;
use crate::error::{Error, ErrorKind, Result};
use crate::rest::model::{TableChange, TableIdentifier};
use crate::rest::{Namespace, RestCatalog};
use crate::storage::DuckdbSecret;
use crate::table::LoadedTable;

const PROCEDURE: &str = "floe_expire_snapshots";
const MAX_SNAPSHOT_AGE_MS: &str = "history.expire.max-snapshot-age-ms";
const MIN_SNAPSHOTS_TO_KEEP: &str = "history.expire.min-snapshots-to-keep";
const MAX_REF_AGE_MS: &str = "history.expire.max-ref-age-ms";
const MAIN_BRANCH: &str = "main";
/// Iceberg Java's defaults for the two properties.
const DEFAULT_MAX_SNAPSHOT_AGE_MS: i64 = 5 * 24 * 60 * 60 * 1000;
const DEFAULT_MIN_SNAPSHOTS_TO_KEEP: i64 = 1;
/// Files deleted at once.
const DELETE_CONCURRENCY: usize = 16;
/// The shares of an expiry's progress: reading what the kept snapshots reach (their manifest
/// lists and manifests), reading what only the expired ones reach, deleting the files nothing
/// else reaches. Every item of each is one request to the store; the shares fit a table that
/// expires about as many snapshots as it keeps, whose kept ones reach the most manifests.
const SHARE_READ_KEPT: u64 = 40;
const SHARE_READ_EXPIRED: u64 = 20;
const SHARE_DELETE: u64 = 40;

/// The procedure's arguments, Spark's names.
#[derive(Debug, Default, Deserialize)]
pub struct ExpireRequest {
    /// Snapshots older than this (milliseconds since the epoch) may expire.
    #[serde(default)]
    pub older_than_ms: Option<i64>,
    /// Snapshots of each branch kept whatever their age.
    #[serde(default)]
    pub retain_last: Option<i64>,
    /// Snapshots to expire whatever their age.
    #[serde(default)]
    pub snapshot_ids: Vec<i64>,
    #[serde(default)]
    pub dry_run: bool,
}

/// What was deleted (or, with `dry_run`, would be): Spark's result columns.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ExpireResult {
    pub deleted_data_files_count: u64,
    pub deleted_position_delete_files_count: u64,
    pub deleted_equality_delete_files_count: u64,
    pub deleted_manifest_files_count: u64,
    pub deleted_manifest_lists_count: u64,
    pub deleted_statistics_files_count: u64,
}

impl ExpireResult {
    /// Every file deleted, of any kind.
    pub fn total(&self) -> u64 {
        self.deleted_data_files_count
            + self.deleted_position_delete_files_count
            + self.deleted_equality_delete_files_count
            + self.deleted_manifest_files_count
            + self.deleted_manifest_lists_count
            + self.deleted_statistics_files_count
    }
}

/// Expires the snapshots of table `namespace.name` that `request` selects and deletes the files
/// only they reached, advancing `progress`.
pub async fn expire_snapshots(
    catalog: &Arc<RestCatalog>,
    namespace: &Namespace,
    name: &str,
    request: &ExpireRequest,
    user_secret: Option<&DuckdbSecret>,
    progress: &Progress,
) -> Result<ExpireResult> {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let base = load_fresh(catalog, namespace, name).await?;
        require_gc_enabled(&base, PROCEDURE)?;
        let now = now_ms();
        let aged = aged_refs(&base, now)?;
        let expired = select_expired(&base, request, &aged, now)?;
        if expired.is_empty() && aged.is_empty() {
            return Ok(ExpireResult::default());
        }
        let file_io = base.file_io(user_secret);
        progress.start(SHARE_READ_KEPT + SHARE_READ_EXPIRED + SHARE_DELETE);
        if request.dry_run {
            let kept: HashSet<i64> =
                base.metadata.snapshots().map(|s| s.snapshot_id()).filter(|id| !expired.contains(id)).collect();
            let doomed = doomed_files(&file_io, &base.metadata, &kept, &base.metadata, &expired, progress).await?;
            // Nothing is deleted: the delete share is done.
            drop(Step::new(progress, SHARE_DELETE));
            return Ok(count(&doomed));
        }
        match catalog.commit_table(&removal(&base, &aged, &expired)?).await {
            Ok(_) => return delete_unreachable(catalog, &base, &expired, user_secret, progress).await,
            Err(err) if err.kind() == ErrorKind::CommitConflict => {
                attempt += 1;
                let policy = RetryPolicy::from_properties(base.metadata.properties());
                if !policy.allows(attempt, started.elapsed(), false) {
                    return Err(err.context(format!(
                        "{PROCEDURE} on '{}' lost {attempt} races with other commits",
                        base.qualified_name()
                    )));
                }
                tokio::time::sleep(policy.backoff(attempt)).await;
            }
            Err(err) if err.kind() == ErrorKind::CommitStateUnknown => {
                // Whether the snapshots are gone tells whether the commit was applied; files
                // are deleted only when it surely was.
                let now = load_fresh(catalog, namespace, name).await?;
                if now.metadata.snapshots().any(|s| expired.contains(&s.snapshot_id())) {
                    return Err(err.context(format!(
                        "{PROCEDURE} on '{}': the catalog did not say whether it removed the snapshots, and they are still there",
                        base.qualified_name()
                    )));
                }
                return delete_unreachable(catalog, &base, &expired, user_secret, progress).await;
            }
            Err(err) => return Err(err.context(format!("{PROCEDURE} on '{}'", base.qualified_name()))),
        }
    }
}

/// The commit that removes refs `aged` and snapshots `expired`, valid only while the table and
/// its refs are as in `base`.
fn removal(base: &LoadedTable, aged: &[String], expired: &HashSet<i64>) -> Result<TableChange> {
    let mut requirements = vec![TableRequirement::UuidMatch { uuid: base.metadata.uuid() }];
    let mut refs: Vec<(String, SnapshotReference)> = refs(&base.metadata)?.into_iter().collect();
    refs.sort_by(|a, b| a.0.cmp(&b.0));
    requirements.extend(
        refs.into_iter()
            .map(|(name, r)| TableRequirement::RefSnapshotIdMatch { r#ref: name, snapshot_id: Some(r.snapshot_id) }),
    );
    let mut snapshot_ids: Vec<i64> = expired.iter().copied().collect();
    snapshot_ids.sort_unstable();
    let mut updates: Vec<TableUpdate> =
        aged.iter().map(|name| TableUpdate::RemoveSnapshotRef { ref_name: name.clone() }).collect();
    if !snapshot_ids.is_empty() {
        updates.push(TableUpdate::RemoveSnapshots { snapshot_ids });
    }
    Ok(TableChange {
        identifier: TableIdentifier { namespace: base.namespace.clone(), name: base.name.clone() },
        requirements,
        updates,
    })
}

/// After the commit: deletes what `expired` (snapshots of `base`) reached and no snapshot of
/// the table as it is now reaches, advancing `progress` (started with the shares above).
async fn delete_unreachable(
    catalog: &Arc<RestCatalog>,
    base: &LoadedTable,
    expired: &HashSet<i64>,
    user_secret: Option<&DuckdbSecret>,
    progress: &Progress,
) -> Result<ExpireResult> {
    let now = load_fresh(catalog, &base.namespace, &base.name).await?;
    let file_io = now.file_io(user_secret);
    let kept: HashSet<i64> = now.metadata.snapshots().map(|s| s.snapshot_id()).collect();
    let doomed = doomed_files(&file_io, &now.metadata, &kept, &base.metadata, expired, progress).await?;
    let paths: Vec<&String> = doomed.paths().collect();
    let deleting = Step::new(progress, SHARE_DELETE);
    deleting.expect(paths.len() as u64);
    let failures: Vec<(String, Error)> = stream::iter(paths)
        .map(|path| {
            let (file_io, deleting) = (&file_io, &deleting);
            async move {
                let failure = file_io.delete(path).await.err().map(|e| (path.clone(), Error::from(e)));
                deleting.item_done();
                failure
            }
        })
        .buffer_unordered(DELETE_CONCURRENCY)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    if let Some((path, err)) = failures.first() {
        return Err(Error::new(
            err.kind(),
            format!(
                "{PROCEDURE} expired {} snapshots of '{}' but could not delete {} of their {} files, {path} first: {}",
                expired.len(),
                base.qualified_name(),
                failures.len(),
                doomed.paths().count(),
                err.message()
            ),
        )
        .with_fix("the table is consistent; floe_remove_orphan_files deletes the files left once they are older than its threshold"));
    }
    Ok(count(&doomed))
}

/// The files the snapshots `expired` of `base` reach that the snapshots `kept` of `current` do
/// not: the two reading shares of `progress`.
async fn doomed_files(
    file_io: &iceberg::io::FileIO,
    current: &TableMetadata,
    kept: &HashSet<i64>,
    base: &TableMetadata,
    expired: &HashSet<i64>,
    progress: &Progress,
) -> Result<Reachable> {
    let reading_kept = Step::new(progress, SHARE_READ_KEPT);
    let retained = files_of(file_io, current, kept, &HashSet::new(), Entries::Live, &reading_kept).await?;
    drop(reading_kept);
    let reading_expired = Step::new(progress, SHARE_READ_EXPIRED);
    let mut reached = files_of(file_io, base, expired, &retained.manifests, Entries::All, &reading_expired).await?;
    reached.manifest_lists.retain(|path| !retained.manifest_lists.contains(path));
    reached.manifests.retain(|path| !retained.manifests.contains(path));
    reached.content.retain(|path, _| !retained.content.contains_key(path));
    reached.statistics.retain(|path| !retained.statistics.contains(path));
    Ok(reached)
}

fn count(doomed: &Reachable) -> ExpireResult {
    let of_kind = |kind: ContentKind| doomed.content.values().filter(|k| **k == kind).count() as u64;
    ExpireResult {
        deleted_data_files_count: of_kind(ContentKind::Data),
        deleted_position_delete_files_count: of_kind(ContentKind::PositionDeletes),
        deleted_equality_delete_files_count: of_kind(ContentKind::EqualityDeletes),
        deleted_manifest_files_count: doomed.manifests.len() as u64,
        deleted_manifest_lists_count: doomed.manifest_lists.len() as u64,
        deleted_statistics_files_count: doomed.statistics.len() as u64,
    }
}

/// A non-negative integer table property, or its default; a malformed one is the user's error.
fn property(table: &LoadedTable, key: &str, default: i64) -> Result<i64> {
    match table.metadata.properties().get(key) {
        None => Ok(default),
        Some(value) => value.trim().parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            Error::invalid_input(format!(
                "Table '{}' has property {key} = '{value}', which is not a non-negative integer",
                table.qualified_name()
            ))
            .with_fix(format!("ALTER TABLE {} SET ({key} = '<integer>')", table.qualified_name()))
        }),
    }
}

/// The branches and tags of `table` (never `main`) whose head is older at `now` than their
/// maximum ref age, sorted.
fn aged_refs(table: &LoadedTable, now: i64) -> Result<Vec<String>> {
    let default_age = property(table, MAX_REF_AGE_MS, i64::MAX)?;
    let mut aged: Vec<String> = refs(&table.metadata)?
        .into_iter()
        .filter(|(name, reference)| {
            let max_age = match &reference.retention {
                SnapshotRetention::Branch { max_ref_age_ms, .. } | SnapshotRetention::Tag { max_ref_age_ms } => {
                    max_ref_age_ms.unwrap_or(default_age)
                }
            };
            let head = table.metadata.snapshot_by_id(reference.snapshot_id);
            name != MAIN_BRANCH && head.is_some_and(|head| now.saturating_sub(head.timestamp_ms()) > max_age)
        })
        .map(|(name, _)| name)
        .collect();
    aged.sort();
    Ok(aged)
}

/// The snapshots of `table` that `request` expires at `now` (milliseconds since the epoch), once
/// refs `aged` are removed.
fn select_expired(table: &LoadedTable, request: &ExpireRequest, aged: &[String], now: i64) -> Result<HashSet<i64>> {
    let metadata = &table.metadata;
    let older_than = match request.older_than_ms {
        Some(ms) => ms,
        None => now - property(table, MAX_SNAPSHOT_AGE_MS, DEFAULT_MAX_SNAPSHOT_AGE_MS)?,
    };
    let retain_last = match request.retain_last {
        Some(n) if n < 1 => {
            return Err(Error::invalid_input(format!(
                "{PROCEDURE}('{}', retain_last => {n}): retain_last must be at least 1",
                table.qualified_name()
            ))
            .with_fix("pass retain_last => 1 or more: a branch always keeps its head"));
        }
        Some(n) => n,
        None => property(table, MIN_SNAPSHOTS_TO_KEEP, DEFAULT_MIN_SNAPSHOTS_TO_KEEP)?.max(1),
    };
    let mut refs: HashMap<String, SnapshotReference> = refs(metadata)?;
    refs.retain(|name, _| !aged.contains(name));
    let mut retained: HashSet<i64> = HashSet::new();
    let mut on_refs: HashSet<i64> = HashSet::new();
    for reference in refs.values() {
        retained.insert(reference.snapshot_id);
        on_refs.insert(reference.snapshot_id);
        let SnapshotRetention::Branch { min_snapshots_to_keep, max_snapshot_age_ms, .. } = &reference.retention else {
            continue;
        };
        let keep = min_snapshots_to_keep.map_or(retain_last, i64::from);
        let cutoff = max_snapshot_age_ms.map_or(older_than, |age| now - age);
        let mut kept = 0;
        let mut next = Some(reference.snapshot_id);
        while let Some(snapshot) = next.and_then(|id| metadata.snapshot_by_id(id)) {
            on_refs.insert(snapshot.snapshot_id());
            if kept < keep || snapshot.timestamp_ms() >= cutoff {
                retained.insert(snapshot.snapshot_id());
                kept += 1;
            } else {
                // Older ancestors are on this branch too, not unreferenced.
                let mut older = snapshot.parent_snapshot_id();
                while let Some(ancestor) = older.and_then(|id| metadata.snapshot_by_id(id)) {
                    on_refs.insert(ancestor.snapshot_id());
                    older = ancestor.parent_snapshot_id();
                }
                break;
            }
            next = snapshot.parent_snapshot_id();
        }
    }
    for snapshot in metadata.snapshots() {
        if !on_refs.contains(&snapshot.snapshot_id()) && snapshot.timestamp_ms() >= older_than {
            retained.insert(snapshot.snapshot_id());
        }
    }
    let mut expired: HashSet<i64> =
        metadata.snapshots().map(|s| s.snapshot_id()).filter(|id| !retained.contains(id)).collect();
    for id in &request.snapshot_ids {
        if metadata.snapshot_by_id(*id).is_none() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("{PROCEDURE}('{}'): the table has no snapshot {id}", table.qualified_name()),
            )
            .with_fix(format!("SELECT snapshot_id FROM iceberg_snapshots('{}') lists them", table.qualified_name())));
        }
        let mut holders: Vec<&String> = refs.iter().filter(|(_, r)| r.snapshot_id == *id).map(|(n, _)| n).collect();
        if !holders.is_empty() {
            holders.sort();
            return Err(Error::invalid_input(format!(
                "{PROCEDURE}('{}'): snapshot {id} is the head of {}, which keeps it",
                table.qualified_name(),
                holders.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
            ))
            .with_fix("leave it out of snapshot_ids, or drop the branch or tag first"));
        }
        expired.insert(*id);
    }
    Ok(expired)
}
