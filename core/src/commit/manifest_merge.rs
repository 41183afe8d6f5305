//! Merging manifests on commit, as Iceberg Java's `MergeAppend` does, so a table's manifest count
//! stays bounded instead of growing by one with every commit.
//!
//! Manifests are grouped by content (data, deletes) and partition spec, packed from the oldest end
//! into bins of `commit.manifest.target-size-bytes`, and each bin of two or more is written as one
//! manifest — except the bin holding the group's newest manifest, which waits until it holds
//! `commit.manifest.min-count-to-merge` of them, so small commits do not rewrite it every time.
//! Packing from the oldest end keeps older bins the same from commit to commit: a retried commit
//! finds them merged already and reuses them.
//!
//! `iceberg` 0.10 has no merge-append (its `FastAppend` only adds), hence this module.

use std::collections::HashMap;

use iceberg::io::FileIO;
use iceberg::spec::{ManifestContentType, ManifestFile, ManifestStatus, ManifestWriter};

use crate::error::Result;
use crate::maintenance::progress::Progress;

/// The table's `commit.manifest*` properties, with Java's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergePolicy {
    pub enabled: bool,
    pub min_count: usize,
    pub target_size: u64,
}

impl Default for MergePolicy {
    fn default() -> Self {
        MergePolicy { enabled: true, min_count: 100, target_size: 8 * 1024 * 1024 }
    }
}

impl MergePolicy {
    pub fn from_properties(properties: &HashMap<String, String>) -> Self {
        let defaults = MergePolicy::default();
        let get = |key: &str| properties.get(key).map(|v| v.trim());
        MergePolicy {
            enabled: get("commit.manifest-merge.enabled").and_then(|v| v.parse().ok()).unwrap_or(defaults.enabled),
            min_count: get("commit.manifest.min-count-to-merge")
                .and_then(|v| v.parse().ok())
                .unwrap_or(defaults.min_count),
            target_size: get("commit.manifest.target-size-bytes")
                .and_then(|v| v.parse().ok())
                .filter(|&size| size > 0)
                .unwrap_or(defaults.target_size),
        }
    }

    /// Every bin of two or more merged, however few: what `floe_rewrite_manifests` asks for.
    pub fn rewrite_all(target_size: u64) -> Self {
        MergePolicy { enabled: true, min_count: 0, target_size }
    }
}

/// Merged manifests by the paths they merged, across the attempts of one commit.
#[derive(Default)]
pub struct MergedManifests {
    by_inputs: HashMap<Vec<String>, ManifestFile>,
}

impl MergedManifests {
    /// `manifests` (newest first, as manifest lists hold them) with bins merged per `policy`, in
    /// the same order. `snapshot_id` is the snapshot being committed: its own entries stay ADDED
    /// (or DELETED), everyone else's become EXISTING with their snapshot ids and sequence numbers,
    /// and earlier snapshots' DELETED entries are dropped. `new_manifest` opens a manifest of a
    /// spec and content for the snapshot (and records its path for clean-up). `progress` is
    /// started with the bytes of the manifests to merge and advanced as they are.
    pub async fn merge(
        &mut self,
        manifests: Vec<ManifestFile>,
        policy: MergePolicy,
        snapshot_id: i64,
        file_io: &FileIO,
        new_manifest: &mut impl FnMut(i32, ManifestContentType) -> Result<ManifestWriter>,
        progress: &Progress,
    ) -> Result<Vec<ManifestFile>> {
        if !policy.enabled {
            return Ok(manifests);
        }
        // Every bin first, so the progress knows the bytes ahead.
        let mut bins = Vec::new();
        for ((content, spec_id), group) in groups(manifests) {
            let newest = group[0].manifest_path.clone();
            for bin in pack_from_end(group, policy.target_size) {
                let holds_newest = bin.iter().any(|m| m.manifest_path == newest);
                let merges = !(bin.len() == 1 || (holds_newest && bin.len() < policy.min_count));
                bins.push((content, spec_id, bin, merges));
            }
        }
        progress.start(bins.iter().filter(|b| b.3).flat_map(|b| &b.2).map(length).sum());
        let mut out = Vec::new();
        for (content, spec_id, bin, merges) in bins {
            if !merges {
                out.extend(bin);
                continue;
            }
            let inputs: Vec<String> = bin.iter().map(|m| m.manifest_path.clone()).collect();
            let merged = match self.by_inputs.get(&inputs) {
                Some(merged) => {
                    progress.advance(bin.iter().map(length).sum());
                    merged.clone()
                }
                None => {
                    let writer = new_manifest(spec_id, content)?;
                    let merged = write_merged(&bin, writer, snapshot_id, file_io, progress).await?;
                    self.by_inputs.insert(inputs, merged.clone());
                    merged
                }
            };
            out.push(merged);
        }
        Ok(out)
    }
}

/// What `floe_rewrite_manifests` would do to `manifests` with `target_size`: how many manifests
/// it merges, into how many.
pub fn rewrite_counts(manifests: Vec<ManifestFile>, target_size: u64) -> (usize, usize) {
    let (live, empty): (Vec<_>, Vec<_>) = manifests.into_iter().partition(has_live_files);
    let (mut rewritten, mut added) = (empty.len(), 0);
    for (_, group) in groups(live) {
        for bin in pack_from_end(group, target_size).into_iter().filter(|bin| bin.len() > 1) {
            rewritten += bin.len();
            added += 1;
        }
    }
    (rewritten, added)
}

/// Whether `manifest` holds ADDED or EXISTING entries (or may: counts are optional in v1). One
/// holding only DELETED entries matters to the snapshot that wrote it alone, so a later snapshot
/// does not carry it, as Iceberg Java's manifest filter does not.
pub fn has_live_files(manifest: &ManifestFile) -> bool {
    !(manifest.added_files_count == Some(0) && manifest.existing_files_count == Some(0))
}

/// `manifests` by content and partition spec, each group in the order given.
fn groups(manifests: Vec<ManifestFile>) -> Vec<((ManifestContentType, i32), Vec<ManifestFile>)> {
    let mut groups: Vec<((ManifestContentType, i32), Vec<ManifestFile>)> = Vec::new();
    for manifest in manifests {
        let key = (manifest.content, manifest.partition_spec_id);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(manifest),
            None => groups.push((key, vec![manifest])),
        }
    }
    groups
}

/// Bins of at most `target_size` bytes (a larger manifest alone), packed from the end of
/// `manifests` with a look-back of one so the order is kept; returned in the original order.
fn pack_from_end(manifests: Vec<ManifestFile>, target_size: u64) -> Vec<Vec<ManifestFile>> {
    let mut bins: Vec<Vec<ManifestFile>> = Vec::new();
    let mut weight = 0u64;
    for manifest in manifests.into_iter().rev() {
        let length = length(&manifest);
        match bins.last_mut() {
            Some(bin) if weight + length <= target_size => {
                weight += length;
                bin.push(manifest);
            }
            _ => {
                weight = length;
                bins.push(vec![manifest]);
            }
        }
    }
    bins.reverse();
    for bin in &mut bins {
        bin.reverse();
    }
    bins
}

/// A manifest's size in bytes.
fn length(manifest: &ManifestFile) -> u64 {
    manifest.manifest_length.max(0) as u64
}

async fn write_merged(
    bin: &[ManifestFile],
    mut writer: ManifestWriter,
    snapshot_id: i64,
    file_io: &FileIO,
    progress: &Progress,
) -> Result<ManifestFile> {
    for manifest in bin {
        let loaded = manifest.load_manifest(file_io).await?;
        for entry in loaded.entries() {
            let ours = entry.snapshot_id() == Some(snapshot_id);
            let file = entry.data_file().clone();
            let sequence_number = entry.sequence_number().unwrap_or(0);
            match entry.status() {
                ManifestStatus::Deleted if ours => {
                    writer.add_delete_file(file, sequence_number, entry.file_sequence_number)?
                }
                ManifestStatus::Deleted => {}
                // Unset (negative) stays unset, inherited from the manifest list like the manifest
                // it came from; a pinned one (a compaction's) is kept.
                ManifestStatus::Added if ours => writer.add_file(file, entry.sequence_number().unwrap_or(-1))?,
                _ => writer.add_existing_file(
                    file,
                    entry.snapshot_id().unwrap_or(manifest.added_snapshot_id),
                    sequence_number,
                    entry.file_sequence_number,
                )?,
            }
        }
        progress.advance(length(manifest));
    }
    Ok(writer.write_manifest_file().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(name: &str, length: i64) -> ManifestFile {
        ManifestFile {
            manifest_path: name.into(),
            manifest_length: length,
            partition_spec_id: 0,
            content: ManifestContentType::Data,
            sequence_number: 1,
            min_sequence_number: 1,
            added_snapshot_id: 1,
            added_files_count: Some(1),
            existing_files_count: Some(0),
            deleted_files_count: Some(0),
            added_rows_count: Some(1),
            existing_rows_count: Some(0),
            deleted_rows_count: Some(0),
            partitions: None,
            key_metadata: None,
            first_row_id: None,
        }
    }

    fn names(bins: &[Vec<ManifestFile>]) -> Vec<Vec<&str>> {
        bins.iter().map(|bin| bin.iter().map(|m| m.manifest_path.as_str()).collect()).collect()
    }

    #[test]
    fn packs_from_the_oldest_end_leaving_the_newest_bin_underfilled() {
        let manifests = ["e", "d", "c", "b", "a"].map(|n| manifest(n, 40)).to_vec();
        assert_eq!(names(&pack_from_end(manifests, 100)), vec![vec!["e"], vec!["d", "c"], vec!["b", "a"]]);
    }

    #[test]
    fn a_manifest_larger_than_the_target_gets_a_bin_of_its_own() {
        let manifests = vec![manifest("new", 10), manifest("big", 500), manifest("old", 10)];
        assert_eq!(names(&pack_from_end(manifests, 100)), vec![vec!["new"], vec!["big"], vec!["old"]]);
    }

    #[test]
    fn properties_override_the_defaults() {
        let properties = HashMap::from([
            ("commit.manifest-merge.enabled".to_string(), "false".to_string()),
            ("commit.manifest.min-count-to-merge".to_string(), "5".to_string()),
            ("commit.manifest.target-size-bytes".to_string(), "1024".to_string()),
        ]);
        assert_eq!(
            MergePolicy::from_properties(&properties),
            MergePolicy { enabled: false, min_count: 5, target_size: 1024 }
        );
        assert_eq!(MergePolicy::from_properties(&HashMap::new()), MergePolicy::default());
    }
}
