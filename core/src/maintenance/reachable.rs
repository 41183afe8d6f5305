//! The files a set of snapshots reaches: their manifest lists, the manifests those list, the
//! data and delete files the manifests name, and the statistics files kept for the snapshots.

use std::collections::{HashMap, HashSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use iceberg::io::FileIO;
use iceberg::spec::{DataContentType, ManifestFile, TableMetadata};

use super::progress::Step;
use crate::commit::snapshot::load_manifest_list;
use crate::error::{Error, Result};

/// Manifests read at once.
const MANIFEST_CONCURRENCY: usize = 16;

/// What a data or delete file holds, as the procedures count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    Data,
    PositionDeletes,
    EqualityDeletes,
}

impl From<DataContentType> for ContentKind {
    fn from(content: DataContentType) -> Self {
        match content {
            DataContentType::Data => ContentKind::Data,
            DataContentType::PositionDeletes => ContentKind::PositionDeletes,
            DataContentType::EqualityDeletes => ContentKind::EqualityDeletes,
        }
    }
}

/// Which entries of a manifest count as reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entries {
    /// ADDED and EXISTING: the files the snapshot's rows are read from.
    Live,
    /// DELETED too: every file the manifest names.
    All,
}

#[derive(Debug, Default)]
pub struct Reachable {
    pub manifest_lists: HashSet<String>,
    pub manifests: HashSet<String>,
    pub content: HashMap<String, ContentKind>,
    pub statistics: HashSet<String>,
}

impl Reachable {
    /// Every path, whatever its kind.
    pub fn paths(&self) -> impl Iterator<Item = &String> {
        self.manifest_lists.iter().chain(&self.manifests).chain(self.content.keys()).chain(&self.statistics)
    }
}

/// The files the snapshots `ids` of `metadata` reach. Manifests in `known` are not read: the
/// caller has their entries already (they are reached by the snapshots it keeps). `step` counts
/// the manifest lists and manifests read.
pub async fn files_of(
    file_io: &FileIO,
    metadata: &TableMetadata,
    ids: &HashSet<i64>,
    known: &HashSet<String>,
    entries: Entries,
    step: &Step<'_>,
) -> Result<Reachable> {
    let mut reachable = Reachable::default();
    let mut manifests: HashMap<String, ManifestFile> = HashMap::new();
    let snapshots: Vec<_> = metadata.snapshots().filter(|s| ids.contains(&s.snapshot_id())).collect();
    step.expect(snapshots.len() as u64);
    for snapshot in snapshots {
        reachable.manifest_lists.insert(snapshot.manifest_list().to_string());
        let list = load_manifest_list(file_io, metadata, snapshot)
            .await
            .map_err(|e| e.context(format!("Cannot read the manifest list of snapshot {}", snapshot.snapshot_id())))?;
        for manifest in list.entries() {
            reachable.manifests.insert(manifest.manifest_path.clone());
            if !known.contains(&manifest.manifest_path) {
                manifests.entry(manifest.manifest_path.clone()).or_insert_with(|| manifest.clone());
            }
        }
        step.item_done();
    }
    step.expect(manifests.len() as u64);
    let files: Vec<Vec<(String, ContentKind)>> = stream::iter(manifests.into_values())
        .map(|manifest| async move {
            let loaded = manifest
                .load_manifest(file_io)
                .await
                .map_err(|e| Error::from(e).context(format!("Cannot read manifest {}", manifest.manifest_path)))?;
            step.item_done();
            Ok::<_, Error>(
                loaded
                    .entries()
                    .iter()
                    .filter(|entry| entries == Entries::All || entry.is_alive())
                    .map(|entry| (entry.file_path().to_string(), entry.content_type().into()))
                    .collect(),
            )
        })
        .buffer_unordered(MANIFEST_CONCURRENCY)
        .try_collect()
        .await?;
    reachable.content.extend(files.into_iter().flatten());
    let statistics = metadata.statistics_iter().map(|s| (s.snapshot_id, &s.statistics_path));
    let partition_statistics = metadata.partition_statistics_iter().map(|s| (s.snapshot_id, &s.statistics_path));
    reachable.statistics.extend(
        statistics.chain(partition_statistics).filter(|(id, _)| ids.contains(id)).map(|(_, path)| path.clone()),
    );
    Ok(reachable)
}
