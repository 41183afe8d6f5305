//! `floe_remove_orphan_files`: deletes the files under a table's location that nothing of its
//! metadata references (left by failed writes or by engines that crashed before their commit).
//!
//! Kept: every file any snapshot reaches (deleted manifest entries included), the statistics
//! files, the current metadata file and every one in its log. Of the rest only files older
//! than the threshold are deleted: a younger one may belong to a commit in flight. The
//! threshold is never less than a day, and a file whose age the store does not tell is kept.
//! A listed path that names the same key as a referenced one under another bucket or scheme
//! stops the procedure: string mismatches of that kind have deleted live data elsewhere.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Deserialize;

use super::progress::{Progress, Step};
use super::reachable::{files_of, Entries};
use super::{load_fresh, now_ms, require_gc_enabled};
use crate::error::{Error, Result};
use crate::rest::{Namespace, RestCatalog};
use crate::storage::location::{ObjectUrl, Service};
use crate::storage::DuckdbSecret;
use crate::table::LoadedTable;

const PROCEDURE: &str = "floe_remove_orphan_files";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Spark's default threshold.
const DEFAULT_OLDER_THAN_MS: i64 = 3 * DAY_MS;
/// The youngest threshold allowed: a commit in flight never takes that long.
const MIN_OLDER_THAN_MS: i64 = DAY_MS;
/// Files deleted at once.
const DELETE_CONCURRENCY: usize = 16;
/// The shares of the procedure's progress: reading every manifest list and manifest of the
/// table (one request to the store each), listing its location (a request per thousand files),
/// deleting the orphans (one request each, fewer than the files read on a healthy table).
const SHARE_READ: u64 = 50;
const SHARE_LIST: u64 = 10;
const SHARE_DELETE: u64 = 40;

#[derive(Debug, Default, Deserialize)]
pub struct OrphanRequest {
    /// Only files last modified before this (milliseconds since the epoch) are deleted.
    #[serde(default)]
    pub older_than_ms: Option<i64>,
    #[serde(default)]
    pub dry_run: bool,
}

/// Where an object lives, with s3/s3a/s3n as one scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Place {
    service: Service,
    bucket: String,
    account: Option<String>,
}

impl Place {
    fn describe(&self) -> String {
        format!("the {} {} '{}'", self.service.name(), self.service.bucket_word(), self.bucket)
    }
}

fn split(url: &str) -> Result<(Place, String)> {
    let object = ObjectUrl::parse(url)?;
    let place = Place {
        service: object.service,
        bucket: object.bucket.to_string(),
        account: object.account.map(str::to_string),
    };
    Ok((place, object.key.trim_start_matches('/').to_string()))
}

/// Deletes (unless `dry_run`) the orphan files of table `namespace.name` older than the
/// request's threshold, advancing `progress`; returns their URLs.
pub async fn remove_orphan_files(
    catalog: &Arc<RestCatalog>,
    namespace: &Namespace,
    name: &str,
    request: &OrphanRequest,
    user_secret: Option<&DuckdbSecret>,
    progress: &Progress,
) -> Result<Vec<String>> {
    let now = now_ms();
    let qualified = format!("{}.{name}", crate::rest::catalog::display_namespace(namespace));
    let older_than = request.older_than_ms.unwrap_or(now - DEFAULT_OLDER_THAN_MS);
    if older_than > now - MIN_OLDER_THAN_MS {
        return Err(Error::invalid_input(format!(
            "{PROCEDURE}('{qualified}'): older_than must be at least one day ago: files younger than a day may belong to a commit in progress, which they would break"
        ))
        .with_fix("pass older_than => now() - INTERVAL 1 DAY or earlier (the default is 3 days)"));
    }
    let table = load_fresh(catalog, namespace, name).await?;
    require_gc_enabled(&table, PROCEDURE)?;
    progress.start(SHARE_READ + SHARE_LIST + SHARE_DELETE);
    let live = live_files(&table, user_secret, &Step::new(progress, SHARE_READ)).await?;
    let location = table.metadata.location().to_string();
    let (home, _) = split(&location)?;
    let listing = Step::new(progress, SHARE_LIST);
    let listed = table.storage.with_store(|store| {
        let location = location.clone();
        async move { store.list_modified(&location).await }
    });
    let listed = listed.await?;
    drop(listing);
    let cutoff = UNIX_EPOCH + Duration::from_millis(older_than.max(0) as u64);
    let mut orphans = Vec::new();
    for (url, modified) in listed {
        let (place, key) = split(&url)?;
        if place != home {
            return Err(mismatch(&qualified, &url, &home.describe()));
        }
        match live.get(&key) {
            Some(places) if places.contains(&place) => continue,
            Some(places) => {
                let referenced = places.iter().map(Place::describe).collect::<Vec<_>>().join(", ");
                return Err(mismatch(&qualified, &url, &referenced));
            }
            None => {}
        }
        if modified.is_some_and(|time: SystemTime| time < cutoff) {
            orphans.push(url);
        }
    }
    orphans.sort();
    let deleting = Step::new(progress, SHARE_DELETE);
    if !request.dry_run {
        deleting.expect(orphans.len() as u64);
        let file_io = table.file_io(user_secret);
        stream::iter(&orphans)
            .map(|url| {
                let (file_io, qualified, deleting) = (&file_io, &qualified, &deleting);
                async move {
                    file_io.delete(url).await.map_err(|e| {
                        Error::from(e).context(format!("{PROCEDURE}('{qualified}') could not delete orphan file {url}"))
                    })?;
                    deleting.item_done();
                    Ok::<_, Error>(())
                }
            })
            .buffer_unordered(DELETE_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
    }
    Ok(orphans)
}

/// Every file the table's metadata references, by key, with the places it is referenced at.
async fn live_files(
    table: &LoadedTable,
    user_secret: Option<&DuckdbSecret>,
    reading: &Step<'_>,
) -> Result<HashMap<String, HashSet<Place>>> {
    let metadata = &table.metadata;
    let file_io = table.file_io(user_secret);
    let all: HashSet<i64> = metadata.snapshots().map(|s| s.snapshot_id()).collect();
    let reachable = files_of(&file_io, metadata, &all, &HashSet::new(), Entries::All, reading).await?;
    let mut paths: Vec<String> = reachable.paths().cloned().collect();
    paths.extend(table.metadata_location.iter().cloned());
    paths.extend(metadata.metadata_log().iter().map(|log| log.metadata_file.clone()));
    // Hadoop-style catalogs point at the current metadata file with this one.
    paths.push(format!("{}/metadata/version-hint.text", metadata.location().trim_end_matches('/')));
    let mut live: HashMap<String, HashSet<Place>> = HashMap::new();
    for path in paths {
        let (place, key) = split(&path)?;
        live.entry(key).or_default().insert(place);
    }
    Ok(live)
}

fn mismatch(table: &str, listed: &str, expected: &str) -> Error {
    Error::invalid_input(format!(
        "{PROCEDURE}('{table}') stopped: the listing returned {listed}, which is not in {expected} the table's metadata names for it; deleting by such mismatched paths has removed live data"
    ))
    .with_fix("check the table's location and the paths its metadata holds (scheme, bucket); nothing was deleted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_schemes_are_one_place_and_buckets_are_not() {
        let (a, key_a) = split("s3a://lake/ns/t/data/x.parquet").unwrap();
        let (b, key_b) = split("s3://lake/ns/t/data/x.parquet").unwrap();
        let (c, _) = split("s3://other/ns/t/data/x.parquet").unwrap();
        assert_eq!((a.clone(), key_a), (b, key_b));
        assert_ne!(a, c);
    }
}
