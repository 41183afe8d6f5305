//! A new snapshot of one table: the manifest of the files a statement wrote (written once) and,
//! for every commit attempt, a manifest list on top of the table state of that attempt.
//!
//! Appends commute, so after a lost race (409) the same manifest is put on top of the winner's
//! snapshot and only the manifest list is written again. Sequence numbers of added entries are
//! inherited from the manifest list, as the spec allows, so the manifest never changes.

use std::collections::{BTreeMap, HashMap, HashSet};

use iceberg::io::FileIO;
use iceberg::spec::{
    DataContentType, DataFile, FormatVersion, ManifestContentType, ManifestFile, ManifestList, ManifestListWriter,
    ManifestStatus, ManifestWriter, ManifestWriterBuilder, Operation, Snapshot, SnapshotReference, SnapshotRetention,
    Summary, TableMetadata,
};
use iceberg::{TableRequirement, TableUpdate};
use uuid::Uuid;

use super::manifest_merge::{has_live_files, MergePolicy, MergedManifests};
use crate::error::{Error, Result};
use crate::maintenance::progress::Progress;

/// Who wrote a snapshot, recorded in its summary.
#[derive(Debug, Clone)]
pub struct Engine {
    pub duckdb_version: String,
}

/// What the new snapshot does to the table's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Add files to what is there.
    Append,
    /// Replace everything there with the added files (CREATE OR REPLACE).
    ReplaceAll,
    /// The same files in fewer manifests (`floe_rewrite_manifests`).
    RewriteManifests,
}

pub struct NewSnapshot {
    pub snapshot_id: i64,
    action: Action,
    files: Vec<DataFile>,
    /// Position delete files added (row-level changes, merge-on-read), with their spec ids.
    delete_files: Vec<(i32, DataFile)>,
    /// Data files written again without deleted rows (copy-on-write), with their spec ids.
    rewritten: Vec<(i32, DataFile)>,
    /// Live data files removed (every row deleted), with the delete files that refer to them.
    removed: HashSet<String>,
    /// The data sequence number of `rewritten` files when pinned (compaction), else inherited.
    rewritten_sequence_number: Option<i64>,
    /// The manifest of the added files, written on first use.
    manifest: Option<ManifestFile>,
    /// The manifests of the added delete files, one per partition spec, written on first use.
    delete_manifests: Option<Vec<ManifestFile>>,
    /// Manifests merged on commit, across attempts.
    merged: MergedManifests,
    /// The manifests of the last attempt's manifest list.
    listed: HashSet<String>,
    /// Every metadata file written (manifests, manifest lists), for clean-up after a failure.
    pub written: Vec<String>,
    /// The manifest lists written, one per attempt; only the last can be committed.
    lists: Vec<String>,
    attempt: u32,
    /// Summary properties beyond floe's own (lineage, the session's); floe's keys win.
    annotations: BTreeMap<String, String>,
}

impl NewSnapshot {
    pub fn new(action: Action, files: Vec<DataFile>) -> Self {
        NewSnapshot {
            // Positive and unique, as Iceberg Java makes them.
            snapshot_id: (Uuid::new_v4().as_u128() as i64).abs(),
            action,
            files,
            delete_files: Vec::new(),
            rewritten: Vec::new(),
            removed: HashSet::new(),
            rewritten_sequence_number: None,
            manifest: None,
            delete_manifests: None,
            merged: MergedManifests::default(),
            listed: HashSet::new(),
            written: Vec::new(),
            lists: Vec::new(),
            attempt: 0,
            annotations: BTreeMap::new(),
        }
    }

    /// Summary properties beyond floe's own, for this and later attempts.
    pub fn annotate(&mut self, annotations: &BTreeMap<String, String>) {
        self.annotations.clone_from(annotations);
    }

    /// A row-level change on top of the added files: delete files and rewritten data files to
    /// add, data files to remove.
    pub fn with_row_delta(
        mut self,
        delete_files: Vec<(i32, DataFile)>,
        rewritten: Vec<(i32, DataFile)>,
        removed: HashSet<String>,
        rewritten_sequence_number: Option<i64>,
    ) -> Self {
        self.delete_files = delete_files;
        self.rewritten = rewritten;
        self.removed = removed;
        self.rewritten_sequence_number = rewritten_sequence_number;
        self
    }

    /// What was written and the last attempt's manifest list does not hold: manifest lists and
    /// rewritten manifests of earlier attempts, manifests merged into others. No snapshot refers
    /// to them once the last attempt committed.
    pub fn stale_files(&self) -> impl Iterator<Item = &String> {
        let list = self.lists.last();
        self.written.iter().filter(move |path| Some(*path) != list && !self.listed.contains(*path))
    }

    /// The updates and requirements that put this snapshot on top of `base`'s `main` branch;
    /// writes the manifest list for `base`.
    pub async fn change_on(
        &mut self,
        file_io: &FileIO,
        base: &TableMetadata,
        engine: &Engine,
    ) -> Result<(Vec<TableRequirement>, Vec<TableUpdate>)> {
        let snapshot = self.snapshot_on(file_io, base, engine).await?;
        let requirements = vec![
            TableRequirement::UuidMatch { uuid: base.uuid() },
            TableRequirement::RefSnapshotIdMatch { r#ref: "main".into(), snapshot_id: base.current_snapshot_id() },
        ];
        Ok((requirements, snapshot_updates(snapshot)))
    }

    /// The snapshot on top of `base`, with its manifest list written.
    pub async fn snapshot_on(&mut self, file_io: &FileIO, base: &TableMetadata, engine: &Engine) -> Result<Snapshot> {
        let metadata_dir = metadata_dir(base);
        if self.manifest.is_none() && !self.files.is_empty() {
            self.manifest = Some(self.write_manifest(file_io, base, &metadata_dir).await?);
        }
        if self.delete_manifests.is_none() {
            let written = self.write_delete_manifests(file_io, base, &metadata_dir).await?;
            self.delete_manifests = Some(written);
        }
        let parent = base.current_snapshot();
        let mut manifests: Vec<ManifestFile> = self.manifest.iter().cloned().collect();
        manifests.extend(self.delete_manifests.iter().flatten().cloned());
        let mut removed = Totals::default();
        let mut existing_paths = HashSet::new();
        if let Some(parent) = parent {
            let existing = load_manifest_list(file_io, base, parent).await?;
            existing_paths = existing.entries().iter().map(|m| m.manifest_path.clone()).collect();
            match self.action {
                Action::Append | Action::RewriteManifests if self.removed.is_empty() => {
                    manifests.extend(existing.entries().iter().cloned())
                }
                Action::Append | Action::RewriteManifests => {
                    removed = self
                        .rewrite_for_removals(file_io, base, existing.entries(), &metadata_dir, &mut manifests)
                        .await?
                }
                Action::ReplaceAll => {
                    removed =
                        self.write_removals(file_io, base, existing.entries(), &metadata_dir, &mut manifests).await?
                }
            }
        }

        let snapshot_id = self.snapshot_id;
        manifests.retain(|m| m.added_snapshot_id == snapshot_id || has_live_files(m));
        // What is left to merge at commit (merge-on-append) is short, and no one watches it.
        let manifests = self.merge(file_io, base, &metadata_dir, manifests, &Progress::default()).await?;
        let kept = manifests.iter().filter(|m| existing_paths.contains(&m.manifest_path)).count();
        let counts = ManifestCounts { created: manifests.len() - kept, kept, replaced: existing_paths.len() - kept };
        self.listed = manifests.iter().map(|m| m.manifest_path.clone()).collect();

        let sequence_number = base.next_sequence_number();
        self.attempt += 1;
        let list_path = format!("{metadata_dir}/snap-{}-{}-{}.avro", self.snapshot_id, self.attempt, Uuid::new_v4());
        let output = file_io.new_output(&list_path)?;
        self.written.push(list_path.clone());
        self.lists.push(list_path.clone());
        let parent_id = parent.map(|p| p.snapshot_id());
        let mut writer = match base.format_version() {
            FormatVersion::V1 => ManifestListWriter::v1(output.writer().await?, self.snapshot_id, parent_id),
            FormatVersion::V2 => ManifestListWriter::v2(output.writer().await?, self.snapshot_id, parent_id, sequence_number),
            FormatVersion::V3 => {
                return Err(Error::unsupported(
                    "writing to Iceberg format version 3 tables is not supported yet; create the table with format-version 2",
                ))
            }
        };
        writer.add_manifests(manifests.into_iter())?;
        writer.close().await?;

        let summary = self.summary(parent, removed, counts, engine);
        Ok(Snapshot::builder()
            .with_snapshot_id(self.snapshot_id)
            .with_parent_snapshot_id(parent_id)
            .with_sequence_number(sequence_number)
            .with_timestamp_ms(chrono::Utc::now().timestamp_millis())
            .with_manifest_list(list_path)
            .with_summary(summary)
            .with_schema_id(base.current_schema_id())
            .build())
    }

    /// Merges `current`, the manifests of `base`'s current snapshot, now, advancing `progress`,
    /// so the commit on top of an unchanged `base` finds them merged and only writes its manifest
    /// list (`floe_rewrite_manifests`, whose work then runs while the procedure is watched).
    pub async fn merge_ahead(
        &mut self,
        file_io: &FileIO,
        base: &TableMetadata,
        current: &[ManifestFile],
        progress: &Progress,
    ) -> Result<()> {
        // The manifests the commit merges: those `snapshot_on` carries over from the parent.
        let manifests = current.iter().filter(|m| has_live_files(m)).cloned().collect();
        self.merge(file_io, base, &metadata_dir(base), manifests, progress).await?;
        Ok(())
    }

    /// `manifests` with small ones merged as the table's `commit.manifest*` properties say.
    async fn merge(
        &mut self,
        file_io: &FileIO,
        base: &TableMetadata,
        metadata_dir: &str,
        manifests: Vec<ManifestFile>,
        progress: &Progress,
    ) -> Result<Vec<ManifestFile>> {
        let mut policy = MergePolicy::from_properties(base.properties());
        if self.action == Action::RewriteManifests {
            policy = MergePolicy::rewrite_all(policy.target_size);
        }
        let snapshot_id = self.snapshot_id;
        // Taken out while the merge opens manifests through `self`.
        let mut merged = std::mem::take(&mut self.merged);
        let result = merged
            .merge(
                manifests,
                policy,
                snapshot_id,
                file_io,
                &mut |spec_id, content| self.new_manifest(file_io, base, metadata_dir, spec_id, content, "g"),
                progress,
            )
            .await;
        self.merged = merged;
        result
    }

    async fn write_manifest(
        &mut self,
        file_io: &FileIO,
        base: &TableMetadata,
        metadata_dir: &str,
    ) -> Result<ManifestFile> {
        let spec_id = base.default_partition_spec_id();
        let mut writer = self.new_manifest(file_io, base, metadata_dir, spec_id, ManifestContentType::Data, "m")?;
        for file in &self.files {
            // A negative sequence number leaves it to be inherited from the manifest list.
            writer.add_file(file.clone(), -1)?;
        }
        Ok(writer.write_manifest_file().await?)
    }

    /// A writer of a new manifest of `content` for partition spec `spec_id` at a fresh path
    /// (`<uuid>-<tag><spec id>.avro`), recorded for clean-up.
    fn new_manifest(
        &mut self,
        file_io: &FileIO,
        base: &TableMetadata,
        metadata_dir: &str,
        spec_id: i32,
        content: ManifestContentType,
        tag: &str,
    ) -> Result<ManifestWriter> {
        let spec = base
            .partition_spec_by_id(spec_id)
            .ok_or_else(|| Error::internal(format!("table has no partition spec {spec_id}")))?;
        let path = format!("{metadata_dir}/{}-{tag}{spec_id}.avro", Uuid::new_v4());
        self.written.push(path.clone());
        let builder = ManifestWriterBuilder::new(
            file_io.new_output(&path)?,
            Some(self.snapshot_id),
            base.current_schema().clone(),
            spec.as_ref().clone(),
        );
        let writer = match (base.format_version(), content) {
            (FormatVersion::V1, _) => builder.build_v1(),
            (_, ManifestContentType::Data) => builder.build_v2_data(),
            (_, ManifestContentType::Deletes) => builder.build_v2_deletes(),
        };
        Ok(writer)
    }

    /// The manifests of the files a row-level change adds: one per partition spec and content,
    /// as each delete file carries the partition (and spec) of the data file it refers to, and a
    /// rewritten data file that of the file it replaces.
    async fn write_delete_manifests(
        &mut self,
        file_io: &FileIO,
        base: &TableMetadata,
        metadata_dir: &str,
    ) -> Result<Vec<ManifestFile>> {
        let mut groups: HashMap<(i32, bool), Vec<DataFile>> = HashMap::new();
        for (spec_id, file) in &self.delete_files {
            groups.entry((*spec_id, true)).or_default().push(file.clone());
        }
        for (spec_id, file) in &self.rewritten {
            groups.entry((*spec_id, false)).or_default().push(file.clone());
        }
        let rewritten_sequence_number = self.rewritten_sequence_number.unwrap_or(-1);
        let mut manifests = Vec::new();
        for ((spec_id, deletes), files) in groups {
            let (content, tag) =
                if deletes { (ManifestContentType::Deletes, "pd") } else { (ManifestContentType::Data, "cw") };
            let mut writer = self.new_manifest(file_io, base, metadata_dir, spec_id, content, tag)?;
            for file in files {
                writer.add_file(file, if deletes { -1 } else { rewritten_sequence_number })?;
            }
            manifests.push(writer.write_manifest_file().await?);
        }
        Ok(manifests)
    }

    /// `existing` with the removed data files, and the delete files that refer only to them,
    /// marked deleted: each manifest holding one is rewritten (the others kept as they are),
    /// its other entries kept as EXISTING with their snapshot ids and sequence numbers.
    async fn rewrite_for_removals(
        &mut self,
        file_io: &FileIO,
        base: &TableMetadata,
        existing: &[ManifestFile],
        metadata_dir: &str,
        out: &mut Vec<ManifestFile>,
    ) -> Result<Totals> {
        let mut removed = Totals::default();
        // Owned: new_manifest below borrows the snapshot mutably.
        let gone = self.removed.clone();
        for manifest in existing {
            let loaded = manifest.load_manifest(file_io).await?;
            let goes = |file: &DataFile| match file.content_type() {
                DataContentType::Data => gone.contains(file.file_path()),
                _ => file.referenced_data_file().is_some_and(|d| gone.contains(&d)),
            };
            if !loaded.entries().iter().any(|e| e.is_alive() && goes(e.data_file())) {
                out.push(manifest.clone());
                continue;
            }
            let mut writer =
                self.new_manifest(file_io, base, metadata_dir, manifest.partition_spec_id, manifest.content, "r")?;
            for entry in loaded.entries().iter().filter(|e| e.is_alive()) {
                let file = entry.data_file().clone();
                let sequence_number = entry.sequence_number().unwrap_or(0);
                if goes(&file) {
                    removed.add(&file);
                    writer.add_delete_file(file, sequence_number, entry.file_sequence_number)?;
                } else {
                    let snapshot_id = entry.snapshot_id().unwrap_or(manifest.added_snapshot_id);
                    writer.add_existing_file(file, snapshot_id, sequence_number, entry.file_sequence_number)?;
                }
            }
            out.push(writer.write_manifest_file().await?);
        }
        Ok(removed)
    }

    /// Manifests marking every live file of `existing` deleted, so readers and snapshot expiry
    /// see what a replace removed.
    async fn write_removals(
        &mut self,
        file_io: &FileIO,
        base: &TableMetadata,
        existing: &[ManifestFile],
        metadata_dir: &str,
        out: &mut Vec<ManifestFile>,
    ) -> Result<Totals> {
        let mut removed = Totals::default();
        for content in [ManifestContentType::Data, ManifestContentType::Deletes] {
            let mut entries = Vec::new();
            for manifest in existing.iter().filter(|m| m.content == content) {
                let loaded = manifest.load_manifest(file_io).await?;
                for entry in loaded.entries().iter().filter(|e| e.status() != ManifestStatus::Deleted) {
                    entries.push((manifest.partition_spec_id, entry.clone()));
                }
            }
            // One removal manifest per partition spec, as manifests hold a single spec.
            let mut by_spec: HashMap<i32, Vec<_>> = HashMap::new();
            for (spec_id, entry) in entries {
                by_spec.entry(spec_id).or_default().push(entry);
            }
            for (spec_id, entries) in by_spec {
                let mut writer = self.new_manifest(file_io, base, metadata_dir, spec_id, content, "d")?;
                for entry in entries {
                    let file = entry.data_file();
                    removed.add(file);
                    writer.add_delete_file(
                        file.clone(),
                        entry.sequence_number().unwrap_or(0),
                        entry.file_sequence_number,
                    )?;
                }
                out.push(writer.write_manifest_file().await?);
            }
        }
        Ok(removed)
    }

    fn summary(
        &self,
        parent: Option<&iceberg::spec::SnapshotRef>,
        removed: Totals,
        manifests: ManifestCounts,
        engine: &Engine,
    ) -> Summary {
        let mut added = Totals::default();
        for file in self.files.iter().chain(self.delete_files.iter().chain(&self.rewritten).map(|(_, f)| f)) {
            added.add(file);
        }
        let previous = match (self.action, parent) {
            (Action::Append | Action::RewriteManifests, Some(parent)) => {
                Totals::from_summary(&parent.summary().additional_properties)
            }
            _ => Totals::default(),
        };
        let mut properties = HashMap::new();
        let mut put = |key: &str, value: u64| {
            properties.insert(key.to_string(), value.to_string());
        };
        put("added-data-files", added.data_files);
        put("added-records", added.records);
        put("added-files-size", added.files_size);
        if added.delete_files > 0 {
            put("added-delete-files", added.delete_files);
            put("added-position-delete-files", added.delete_files);
            put("added-position-deletes", added.position_deletes);
        }
        let removes = self.action == Action::ReplaceAll || !self.removed.is_empty();
        if removes {
            put("deleted-data-files", removed.data_files);
            put("deleted-records", removed.records);
            put("removed-files-size", removed.files_size);
            put("removed-delete-files", removed.delete_files);
            put("removed-position-deletes", removed.position_deletes);
        }
        // Totals after the change; a replace starts from nothing (previous is zero then).
        let total = |previous: u64, added: u64, removed: u64| (previous + added).saturating_sub(removed);
        let (gone, gone_files) =
            if self.action == Action::ReplaceAll { (Totals::default(), 0) } else { (removed, removed.files_size) };
        put("total-data-files", total(previous.data_files, added.data_files, gone.data_files));
        put("total-records", total(previous.records, added.records, gone.records));
        put("total-files-size", total(previous.files_size, added.files_size, gone_files));
        put("total-delete-files", total(previous.delete_files, added.delete_files, gone.delete_files));
        put("total-position-deletes", total(previous.position_deletes, added.position_deletes, gone.position_deletes));
        put("total-equality-deletes", total(previous.equality_deletes, added.equality_deletes, gone.equality_deletes));
        // Java's names: manifests written by this commit, carried over and merged away.
        put("manifests-created", manifests.created as u64);
        put("manifests-kept", manifests.kept as u64);
        put("manifests-replaced", manifests.replaced as u64);
        // Which attempt committed: the number of lost races plus one.
        put("commit-attempt", u64::from(self.attempt));
        properties.insert("engine-name".into(), "floe".into());
        properties.insert("engine-version".into(), env!("CARGO_PKG_VERSION").into());
        properties.insert("duckdb-version".into(), engine.duckdb_version.clone());
        for (key, value) in &self.annotations {
            properties.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Summary {
            operation: match self.action {
                Action::Append if self.delete_files.is_empty() && self.removed.is_empty() => Operation::Append,
                // Rows moved to new files, none added or deleted: compaction.
                Action::Append
                    if self.rewritten_sequence_number.is_some()
                        && self.files.is_empty()
                        && self.delete_files.is_empty() =>
                {
                    Operation::Replace
                }
                // Rows deleted and none added: DELETE; rows deleted and added: UPDATE, MERGE.
                Action::Append if self.files.is_empty() && self.rewritten.is_empty() => Operation::Delete,
                Action::Append => Operation::Overwrite,
                // Every row removed and none added: TRUNCATE, or DELETE without a condition.
                Action::ReplaceAll if self.files.is_empty() => Operation::Delete,
                Action::ReplaceAll => Operation::Overwrite,
                Action::RewriteManifests => Operation::Replace,
            },
            additional_properties: properties,
        }
    }
}

pub async fn load_manifest_list(
    file_io: &FileIO,
    base: &TableMetadata,
    snapshot: &iceberg::spec::SnapshotRef,
) -> Result<ManifestList> {
    let bytes = file_io.new_input(snapshot.manifest_list())?.read().await?;
    Ok(ManifestList::parse_with_version(&bytes, base.format_version())?)
}

/// The live data files of `metadata`'s current snapshot, if they alone make up its rows: `None`
/// when delete files apply or files belong to an older partition spec.
pub async fn live_data_files(file_io: &FileIO, metadata: &TableMetadata) -> Result<Option<Vec<DataFile>>> {
    let Some(snapshot) = metadata.current_snapshot() else { return Ok(Some(Vec::new())) };
    let list = load_manifest_list(file_io, metadata, snapshot).await?;
    let mut files = Vec::new();
    for manifest in list.entries() {
        let loaded = manifest.load_manifest(file_io).await?;
        for entry in loaded.entries().iter().filter(|e| e.is_alive()) {
            if manifest.content == ManifestContentType::Deletes
                || manifest.partition_spec_id != metadata.default_partition_spec_id()
            {
                return Ok(None);
            }
            files.push(entry.data_file().clone());
        }
    }
    Ok(Some(files))
}

/// AddSnapshot + SetSnapshotRef(main).
pub fn snapshot_updates(snapshot: Snapshot) -> Vec<TableUpdate> {
    let snapshot_id = snapshot.snapshot_id();
    vec![
        TableUpdate::AddSnapshot { snapshot },
        TableUpdate::SetSnapshotRef {
            ref_name: "main".into(),
            reference: SnapshotReference { snapshot_id, retention: SnapshotRetention::branch(None, None, None) },
        },
    ]
}

/// Where metadata files go: `write.metadata.path`, else `<location>/metadata`.
pub fn metadata_dir(base: &TableMetadata) -> String {
    base.properties()
        .get("write.metadata.path")
        .cloned()
        .unwrap_or_else(|| format!("{}/metadata", base.location().trim_end_matches('/')))
}

#[derive(Debug, Clone, Copy)]
struct ManifestCounts {
    created: usize,
    kept: usize,
    replaced: usize,
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    data_files: u64,
    delete_files: u64,
    records: u64,
    files_size: u64,
    position_deletes: u64,
    equality_deletes: u64,
}

impl Totals {
    fn add(&mut self, file: &DataFile) {
        match file.content_type() {
            DataContentType::Data => {
                self.data_files += 1;
                self.records += file.record_count();
            }
            DataContentType::PositionDeletes => {
                self.delete_files += 1;
                self.position_deletes += file.record_count();
            }
            DataContentType::EqualityDeletes => {
                self.delete_files += 1;
                self.equality_deletes += file.record_count();
            }
        }
        self.files_size += file.file_size_in_bytes();
    }

    fn from_summary(summary: &HashMap<String, String>) -> Totals {
        let get = |key: &str| summary.get(key).and_then(|v| v.parse().ok()).unwrap_or(0);
        Totals {
            data_files: get("total-data-files"),
            delete_files: get("total-delete-files"),
            records: get("total-records"),
            files_size: get("total-files-size"),
            position_deletes: get("total-position-deletes"),
            equality_deletes: get("total-equality-deletes"),
        }
    }
}
