//! floe's storage layer against a real S3 (SeaweedFS on loopback): ranged and split reads,
//! multipart uploads, listings and deletes, the errors users see (a missing bucket, refused keys,
//! a store that never answers), `floe://` paths through the registry, iceberg's FileIO over it,
//! and credentials renewed before they expire or after the store refused them.

mod common;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use floe_core::runtime::block_on;
use floe_core::storage::{self, CredentialSource, DuckdbSecret, Renew, StorageProps, Store, CHUNK_BYTES};
use floe_core::{ErrorKind, Result};

/// Properties reaching the test bed's S3 with `secret` as the secret key.
fn props(bed: &common::Seaweed, secret: &str, source: CredentialSource, extra: &[(&str, String)]) -> StorageProps {
    let mut props: HashMap<String, String> = [
        ("s3.endpoint", bed.s3.clone()),
        ("s3.region", "us-east-1".to_string()),
        ("s3.path-style-access", "true".to_string()),
        ("s3.access-key-id", bed.key.clone()),
        ("s3.secret-access-key", secret.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    StorageProps::new(props, source)
}

/// Deterministic bytes that differ at every offset a misplaced chunk could land on.
fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn unique_dir() -> String {
    format!("s3://raw/{}", uuid::Uuid::now_v7())
}

fn expires_in(seconds: i64) -> (&'static str, String) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    ("s3.session-token-expires-at-ms", (now + seconds * 1000).to_string())
}

#[test]
fn large_reads_and_multipart_uploads_round_trip() {
    let bed = common::Seaweed::start();
    let store = Store::new(props(&bed, &bed.secret, CredentialSource::Vended, &[]));
    // Three parts and a bit: the upload is multipart, the full read is split into four requests.
    let data = pattern(3 * CHUNK_BYTES + 12_345);
    let url = format!("{}/big.bin", unique_dir());
    block_on(async {
        let mut writer = store.writer(&url);
        for piece in data.chunks(1 << 20) {
            writer.write(piece).await.unwrap();
        }
        assert_eq!(writer.written(), data.len() as u64);
        assert_eq!(writer.close().await.unwrap(), data.len() as u64);

        let len = data.len() as u64;
        assert_eq!(store.size(&url).await.unwrap(), len);
        let all = store.read(&url, 0..len).await.unwrap();
        assert!(all == data[..], "the split read differs from the object's bytes");
        assert_eq!(store.read(&url, 5..17).await.unwrap(), data[5..17]);
        let tail = store.read(&url, len - 100..len).await.unwrap();
        assert_eq!(tail, data[data.len() - 100..]);
        let across_parts = CHUNK_BYTES as u64 - 10..2 * CHUNK_BYTES as u64 + 10;
        let expected = &data[across_parts.start as usize..across_parts.end as usize];
        assert!(store.read(&url, across_parts).await.unwrap() == expected);
        assert_eq!(store.read_all(&url).await.unwrap().len(), data.len());

        let past_the_end = store.read(&url, len - 10..len + 10).await.unwrap_err();
        assert!(past_the_end.to_string().contains(&url), "{past_the_end}");
    });
}

#[test]
fn objects_exist_are_listed_and_deleted() {
    let bed = common::Seaweed::start();
    let store = Store::new(props(&bed, &bed.secret, CredentialSource::Vended, &[]));
    let dir = unique_dir();
    block_on(async {
        for name in ["a.parquet", "sub/b.parquet", "sub/c.parquet"] {
            let mut writer = store.writer(&format!("{dir}/{name}"));
            writer.write(name.as_bytes()).await.unwrap();
            writer.close().await.unwrap();
        }
        // A prefix that merely starts like a directory is not part of it.
        let mut sibling = store.writer(&format!("{dir}/subway.parquet"));
        sibling.write(b"x").await.unwrap();
        sibling.close().await.unwrap();

        let b = format!("{dir}/sub/b.parquet");
        assert!(store.exists(&b).await.unwrap());
        assert!(!store.exists(&format!("{dir}/sub/none.parquet")).await.unwrap());
        let mut listed = store.list(&format!("{dir}/sub")).await.unwrap();
        listed.sort();
        assert_eq!(listed, [b.clone(), format!("{dir}/sub/c.parquet")]);
        assert_eq!(store.list(&dir).await.unwrap().len(), 4);

        store.delete(&b).await.unwrap();
        assert!(!store.exists(&b).await.unwrap());
        store.delete(&b).await.unwrap();
        assert_eq!(store.list(&format!("{dir}/sub/")).await.unwrap(), [format!("{dir}/sub/c.parquet")]);

        store.delete_prefix(&format!("{dir}/sub")).await.unwrap();
        assert_eq!(store.list(&dir).await.unwrap().len(), 2);
    });
}

#[test]
fn a_missing_bucket_is_named() {
    let bed = common::Seaweed::start();
    let store = Store::new(props(&bed, &bed.secret, CredentialSource::Vended, &[]));
    let url = "s3://no-such-bucket-floe/t/data/x.parquet";
    block_on(async {
        for err in [store.size(url).await.unwrap_err(), store.read(url, 0..10).await.unwrap_err()] {
            let text = err.to_string();
            assert_eq!(err.error().kind(), ErrorKind::NotFound, "{text}");
            assert!(text.contains("bucket 'no-such-bucket-floe' does not exist"), "{text}");
            assert!(text.contains(url), "{text}");
        }
    });
}

#[test]
fn refusals_name_the_credential_source_and_no_key() {
    let bed = common::Seaweed::start();
    let wrong = "wrong-secret-value-0123456789";
    let url = format!("{}/x.parquet", unique_dir());
    let platform = Store::new(props(&bed, wrong, CredentialSource::Platform, &[]));
    let user = Store::new(StorageProps::default().with_user_secret(Some(&DuckdbSecret {
        name: Some("lake_keys".into()),
        key_id: Some(bed.key.clone()),
        secret: Some(wrong.into()),
        endpoint: Some(bed.s3.clone()),
        url_style: Some("path".into()),
        ..Default::default()
    })));
    block_on(async {
        for (store, source) in
            [(&platform, "the platform file's storage settings"), (&user, "DuckDB secret 'lake_keys'")]
        {
            let err = store.read(&url, 0..10).await.unwrap_err();
            let text = err.to_string();
            assert_eq!(err.error().kind(), ErrorKind::Forbidden, "{text}");
            assert!(text.contains(&url), "{text}");
            assert!(text.contains(&format!("with {source}: the store does not accept these credentials")), "{text}");
            assert!(text.contains("Fix: "), "{text}");
            assert!(!text.contains(wrong) && !text.contains(&bed.secret), "{text}");
        }
    });
}

#[test]
fn floe_paths_reach_the_tables_storage_and_its_file_io() {
    let bed = common::Seaweed::start();
    let catalog = Arc::new("catalog instance");
    let dir = unique_dir();
    let entry = storage::register(
        &catalog,
        "gold.m",
        &dir,
        props(&bed, &bed.secret, CredentialSource::Vended, &[]),
        None,
        storage::Caches::off(),
    );
    let url = format!("{dir}/data/a.parquet");
    let path = entry.wrap(&url);
    assert_eq!(path, format!("floe://{}/{}", entry.id(), url.replacen("://", "/", 1)));
    let (found, real) = storage::unwrap(&path).unwrap();
    assert!(Arc::ptr_eq(&found, &entry));
    assert_eq!(real, url);
    assert_eq!(storage::real_path(&path), url);

    block_on(async {
        // iceberg's FileIO and the entry's own operations see the same objects.
        let file_io = entry.file_io();
        file_io.new_output(&url).unwrap().write(Bytes::from_static(b"PAR1 data PAR1")).await.unwrap();
        let real = real.as_str();
        let size = entry.with_store(|store| async move { store.size(real).await }).await.unwrap();
        assert_eq!(size, 14);
        assert_eq!(file_io.new_input(&url).unwrap().read().await.unwrap(), &b"PAR1 data PAR1"[..]);
        let reader = file_io.new_input(&url).unwrap().reader().await.unwrap();
        assert_eq!(reader.read(5..9).await.unwrap(), &b"data"[..]);

        // A failure through FileIO keeps floe's kind and message, naming the object.
        let missing = format!("{dir}/metadata/none.avro");
        let err = floe_core::Error::from(file_io.new_input(&missing).unwrap().read().await.unwrap_err());
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        assert!(err.to_string().contains(&missing), "{err}");

        let mut writer = entry.writer(&format!("{dir}/data/b.parquet"));
        writer.write(b"bytes").await.unwrap();
        writer.close().await.unwrap();
        let listed = entry.with_store(|store| {
            let dir = dir.clone();
            async move { store.list(&dir).await }
        });
        assert_eq!(listed.await.unwrap().len(), 2);
    });
}

/// A renewer that counts its calls and hands out the test bed's real keys after `delay`.
struct CountingRenewal {
    calls: AtomicUsize,
    props: StorageProps,
    delay: Duration,
}

#[async_trait]
impl Renew for CountingRenewal {
    async fn renew(&self) -> Result<StorageProps> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        Ok(self.props.clone())
    }
}

fn renewal(props: StorageProps, delay: Duration) -> Arc<CountingRenewal> {
    Arc::new(CountingRenewal { calls: AtomicUsize::new(0), props, delay })
}

#[test]
fn credentials_about_to_expire_are_renewed_once_before_use() {
    let bed = common::Seaweed::start();
    let dir = unique_dir();
    let url = format!("{dir}/x.bin");
    let good = Store::new(props(&bed, &bed.secret, CredentialSource::Vended, &[]));
    block_on(async {
        let mut writer = good.writer(&url);
        writer.write(&pattern(1000)).await.unwrap();
        writer.close().await.unwrap();
    });
    let renewed = props(&bed, &bed.secret, CredentialSource::Vended, &[expires_in(3600)]);
    let renewer = renewal(renewed, Duration::from_millis(300));
    // Keys the store refuses, expiring in 20 s: within the margin, so renewed before the first use.
    let stale = props(&bed, "stale-secret", CredentialSource::Vended, &[expires_in(20)]);
    let entry = storage::register(&Arc::new(()), "gold.r", &dir, stale, Some(renewer.clone()), storage::Caches::off());

    let sizes = block_on(futures::future::join_all((0..8).map(|_| {
        let entry = entry.clone();
        let url = url.clone();
        async move {
            entry
                .with_store(|store| {
                    let url = url.clone();
                    async move { store.size(&url).await }
                })
                .await
        }
    })));
    assert!(sizes.iter().all(|size| size.as_ref().is_ok_and(|s| *s == 1000)), "{sizes:?}");
    assert_eq!(renewer.calls.load(Ordering::SeqCst), 1, "one renewal for eight concurrent reads");
    block_on(entry.with_store(|store| {
        let url = url.clone();
        async move { store.size(&url).await }
    }))
    .unwrap();
    assert_eq!(renewer.calls.load(Ordering::SeqCst), 1, "renewed keys that last an hour are not renewed again");
}

#[test]
fn refused_credentials_that_expire_are_renewed_once_and_retried() {
    let bed = common::Seaweed::start();
    let dir = unique_dir();
    let url = format!("{dir}/x.bin");
    let good = props(&bed, &bed.secret, CredentialSource::Vended, &[expires_in(3600)]);
    block_on(async {
        let mut writer = Store::new(good.clone()).writer(&url);
        writer.write(b"0123456789").await.unwrap();
        writer.close().await.unwrap();
    });
    let read = |entry: &Arc<storage::Entry>| {
        let url = url.clone();
        block_on(entry.with_store(move |store| {
            let url = url.clone();
            async move { store.read(&url, 2..6).await }
        }))
    };

    // Revoked early (the store refuses them an hour before their expiry): renewed, then retried.
    let revoked = props(&bed, "revoked-secret", CredentialSource::Vended, &[expires_in(3600)]);
    let renewer = renewal(good.clone(), Duration::ZERO);
    let entry =
        storage::register(&Arc::new(()), "gold.a", &dir, revoked, Some(renewer.clone()), storage::Caches::off());
    assert_eq!(read(&entry).unwrap(), &b"2345"[..]);
    assert_eq!(renewer.calls.load(Ordering::SeqCst), 1);

    // A renewal that brings no better keys fails after one attempt, naming the table.
    let still_bad = props(&bed, "revoked-secret", CredentialSource::Vended, &[expires_in(3600)]);
    let renewer = renewal(still_bad.clone(), Duration::ZERO);
    let entry =
        storage::register(&Arc::new(()), "gold.b", &dir, still_bad, Some(renewer.clone()), storage::Caches::off());
    let err = read(&entry).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.to_string().starts_with("Table 'gold.b': Cannot read bytes 2..6 of"), "{err}");
    assert_eq!(renewer.calls.load(Ordering::SeqCst), 1);

    // Keys without an expiry (static ones) are not renewed: the refusal is reported.
    let fixed = props(&bed, "revoked-secret", CredentialSource::Platform, &[]);
    let renewer = renewal(good, Duration::ZERO);
    let entry = storage::register(&Arc::new(()), "gold.c", &dir, fixed, Some(renewer.clone()), storage::Caches::off());
    assert_eq!(read(&entry).unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(renewer.calls.load(Ordering::SeqCst), 0);
}

/// A store that accepts connections and never answers (frozen, or behind a stuck proxy) fails a
/// read well within a minute, naming the object and the endpoint.
#[test]
fn a_store_that_never_answers_fails_the_read_in_bounded_time() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        let mut connections = Vec::new();
        for stream in listener.incoming().take(3) {
            connections.push(stream);
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    let props = StorageProps::new(
        HashMap::from([
            ("s3.endpoint".to_string(), endpoint.clone()),
            ("s3.path-style-access".to_string(), "true".to_string()),
            ("s3.access-key-id".to_string(), "AKIAFROZEN".to_string()),
            ("s3.secret-access-key".to_string(), "frozen-secret".to_string()),
        ]),
        CredentialSource::Vended,
    );
    let url = "s3://lake/gold/m/data/a.parquet";
    let started = Instant::now();
    let err = block_on(Store::new(props).read(url, 0..1024)).unwrap_err();
    let elapsed = started.elapsed();
    let text = err.to_string();
    assert!(elapsed < Duration::from_secs(45), "took {elapsed:?}: {text}");
    assert_eq!(err.error().kind(), ErrorKind::Unavailable, "{text}");
    assert!(text.contains(url) && text.contains(&endpoint), "{text}");
    drop(held);
}
