//! The commit protocol (docs/commit-protocol.md) driven through the real REST client against a
//! scripted catalog: lost races retried on the reloaded table, server errors reconciled instead
//! of resent, new tables created first where the catalog cannot stage them in a transaction,
//! dbt's rename swap committed as one replace, and the backoff between retries.

mod scripted_catalog;

use std::time::Duration;

use floe_core::commit::schema::DuckColumn;
use floe_core::commit::snapshot::{live_data_files, Engine};
use floe_core::commit::Transaction;
use floe_core::rest::model::TableIdentifier;
use floe_core::storage::{fixed_file_io, StorageProps, Store};
use floe_core::ErrorKind;
use iceberg::spec::TableMetadata;
use scripted_catalog::{exists, Answer, ScriptedCatalog};
use serde_json::Value;

fn engine() -> Engine {
    Engine { duckdb_version: "v1.5.5".into() }
}

fn id(namespace: &str, name: &str) -> TableIdentifier {
    TableIdentifier { namespace: vec![namespace.into()], name: name.into() }
}

/// Short waits, so that retries do not slow the tests down, and appends (retried until the
/// timeout) give up within seconds if a retry never succeeds.
const FAST_RETRIES: &[(&str, &str)] =
    &[("commit.retry.min-wait-ms", "1"), ("commit.retry.max-wait-ms", "5"), ("commit.retry.total-timeout-ms", "5000")];

/// The requirement of `kind` in a table change, e.g. "assert-ref-snapshot-id".
fn requirement<'a>(change: &'a Value, kind: &str) -> &'a Value {
    change["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {change}"))
}

/// The `add-snapshot` update of a table change.
fn added_snapshot(change: &Value) -> &Value {
    let updates = change["updates"].as_array().unwrap();
    &updates.iter().find(|u| u["action"] == "add-snapshot").unwrap_or_else(|| panic!("no add-snapshot in {change}"))
        ["snapshot"]
}

/// The paths of the data files of `metadata`'s current snapshot.
async fn live_paths(metadata: &TableMetadata) -> Vec<String> {
    let files = live_data_files(&fixed_file_io(Store::new(StorageProps::default())), metadata).await.unwrap().unwrap();
    let mut paths: Vec<String> = files.iter().map(|f| f.file_path().to_string()).collect();
    paths.sort();
    paths
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_race_is_retried_on_the_reloaded_table() {
    let scripted = ScriptedCatalog::start(true).await;
    scripted.create_table("e", "t", FAST_RETRIES);
    let catalog = scripted.connect().await;

    // Both writers load the empty table; the second commits first.
    let table = scripted.load(&catalog, "e", "t").await;
    let first = Transaction::new(catalog.clone(), engine());
    let first_file = scripted.data_file(&first, &table, 3);
    first.write(&table, vec![first_file.clone()], None).await.unwrap();
    let other = Transaction::new(catalog.clone(), engine());
    let other_file = scripted.data_file(&other, &table, 2);
    other.write(&scripted.load(&catalog, "e", "t").await, vec![other_file.clone()], None).await.unwrap();
    other.commit().await.unwrap();
    let winner = scripted.metadata("e", "t").unwrap().current_snapshot_id().unwrap();

    first.commit().await.unwrap();

    let commits = scripted.commits();
    assert_eq!(commits.iter().map(|c| c.status).collect::<Vec<_>>(), [204, 409, 204]);
    // The lost attempt was based on the empty table ...
    let lost = &commits[1].changes[0];
    assert_eq!(requirement(lost, "assert-ref-snapshot-id")["snapshot-id"], Value::Null);
    assert!(added_snapshot(lost).get("parent-snapshot-id").is_none_or(Value::is_null), "{lost}");
    // ... the retry on the reloaded table, with the winner's snapshot as parent.
    let retried = &commits[2].changes[0];
    assert_eq!(requirement(retried, "assert-ref-snapshot-id")["snapshot-id"], winner);
    assert_eq!(requirement(retried, "assert-table-uuid")["uuid"], table.metadata.uuid().to_string());
    assert_eq!(added_snapshot(retried)["parent-snapshot-id"], winner);
    assert_eq!(added_snapshot(retried)["summary"]["commit-attempt"], "2");
    assert_eq!(added_snapshot(retried)["summary"]["total-records"], "5");
    assert_eq!(
        added_snapshot(lost)["snapshot-id"],
        added_snapshot(retried)["snapshot-id"],
        "the same snapshot, re-applied"
    );

    // Both writers' rows are in the table; the lost attempt's manifest list is gone.
    let metadata = scripted.metadata("e", "t").unwrap();
    let mut expected = vec![first_file.path.clone(), other_file.path.clone()];
    expected.sort();
    assert_eq!(live_paths(&metadata).await, expected);
    assert!(!exists(added_snapshot(lost)["manifest-list"].as_str().unwrap()), "stale manifest list left behind");
    assert!(exists(added_snapshot(retried)["manifest-list"].as_str().unwrap()));
}

/// A server error on the commit of one append; returns the error, the file and the commits.
async fn append_answered(answer: Answer) -> (floe_core::Result<()>, ScriptedCatalog, String, Vec<String>) {
    append_answered_by(ScriptedCatalog::start(true).await, answer).await
}

async fn append_answered_by(
    scripted: ScriptedCatalog,
    answer: Answer,
) -> (floe_core::Result<()>, ScriptedCatalog, String, Vec<String>) {
    scripted.create_table("e", "t", FAST_RETRIES);
    let catalog = scripted.connect().await;
    let table = scripted.load(&catalog, "e", "t").await;
    let transaction = Transaction::new(catalog.clone(), engine());
    let file = scripted.data_file(&transaction, &table, 3);
    transaction.write(&table, vec![file.clone()], None).await.unwrap();
    scripted.answer_next_commits(&[answer]);
    let outcome = transaction.commit().await;
    let commits = scripted.commits();
    assert_eq!(commits.len(), 1, "a commit in an unknown state is never resent");
    let snapshot = added_snapshot(&commits[0].changes[0]);
    let manifest_list = snapshot["manifest-list"].as_str().unwrap().to_string();
    (outcome, scripted, file.path, vec![manifest_list])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_after_the_commit_landed_is_reported_as_success() {
    for status in [500, 502, 504] {
        let (outcome, scripted, data_file, metadata_files) = append_answered(Answer::ApplyThenFail(status)).await;
        outcome.unwrap_or_else(|e| panic!("{status}: {e}"));
        let metadata = scripted.metadata("e", "t").unwrap();
        assert_eq!(live_paths(&metadata).await, [data_file.as_str()], "{status}");
        assert!(exists(&data_file) && metadata_files.iter().all(|f| exists(f)), "{status}: committed files deleted");
        // The outcome was found by reloading the table.
        assert_eq!(scripted.calls().iter().filter(|c| c.starts_with("GET /v1/namespaces/e/tables/t")).count(), 2);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_before_the_commit_landed_is_reported_and_keeps_the_files() {
    for status in [500, 502, 504] {
        let (outcome, scripted, data_file, metadata_files) = append_answered(Answer::Fail(status)).await;
        let err = outcome.expect_err("the commit did not land");
        assert_eq!(err.kind(), ErrorKind::CommitStateUnknown, "{status}: {err}");
        let text = err.to_string();
        assert!(text.contains(&format!("catalog returned {status}")), "{text}");
        assert!(text.contains("the change is not visible (missing in e.t). No written file was deleted"), "{text}");
        assert!(text.contains("Fix: check the tables' history"), "{text}");
        assert!(scripted.metadata("e", "t").unwrap().current_snapshot().is_none(), "{status}: the table changed");
        // The catalog might still apply it: nothing it could refer to is deleted.
        assert!(exists(&data_file) && metadata_files.iter().all(|f| exists(f)), "{status}: files deleted");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_whose_outcome_cannot_be_checked_says_so_and_keeps_the_files() {
    let scripted = ScriptedCatalog::start(true).await;
    scripted.refuse_loads_after_commits();
    let (outcome, _scripted, data_file, metadata_files) = append_answered_by(scripted, Answer::Fail(502)).await;
    let err = outcome.expect_err("the outcome is not known");
    assert_eq!(err.kind(), ErrorKind::CommitStateUnknown, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("the change is unknown: the catalog could not be asked (not known for e.t (reloading failed:"),
        "{text}"
    );
    assert!(!text.contains("not visible"), "a reload that failed proves nothing: {text}");
    assert!(exists(&data_file) && metadata_files.iter().all(|f| exists(f)), "files deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn new_tables_are_created_first_where_the_catalog_cannot_stage_them_in_a_transaction() {
    let scripted = ScriptedCatalog::start(false).await;
    scripted.create_table("e", "t", FAST_RETRIES);
    let catalog = scripted.connect().await;
    let columns: Vec<DuckColumn> = serde_json::from_str(r#"[{"name":"x","type":{"id":"INTEGER"}}]"#).unwrap();

    // CREATE TABLE e.new AS ...; INSERT INTO e.t ...; COMMIT
    let transaction = Transaction::new(catalog.clone(), engine());
    let new = transaction.create_table(&vec!["e".into()], "new", &columns, &[], Default::default()).await.unwrap();
    let new_file = scripted.data_file(&transaction, &new, 4);
    transaction.write(&new, vec![new_file.clone()], None).await.unwrap();
    let table = scripted.load(&catalog, "e", "t").await;
    transaction.write(&table, vec![scripted.data_file(&transaction, &table, 1)], None).await.unwrap();
    transaction.commit().await.unwrap();
    let commits = scripted.commits();
    assert_eq!(commits.iter().map(|c| (c.status, c.changes.len())).collect::<Vec<_>>(), [(404, 2), (200, 1), (204, 1)]);
    assert!(commits[1].path.ends_with("/namespaces/e/tables/new"), "{}", commits[1].path);
    assert_eq!(live_paths(&scripted.metadata("e", "new").unwrap()).await, [new_file.path.as_str()]);
    assert!(scripted.metadata("e", "t").unwrap().current_snapshot().is_some());

    // The same again, with the second part refused: the table created first is dropped again
    // and every file the transaction wrote is removed.
    let transaction = Transaction::new(catalog.clone(), engine());
    let other = transaction.create_table(&vec!["e".into()], "other", &columns, &[], Default::default()).await.unwrap();
    let other_file = scripted.data_file(&transaction, &other, 4);
    transaction.write(&other, vec![other_file.clone()], None).await.unwrap();
    let table = scripted.load(&catalog, "e", "t").await;
    let refused_file = scripted.data_file(&transaction, &table, 1);
    transaction.write(&table, vec![refused_file.clone()], None).await.unwrap();
    let before = scripted.metadata("e", "t").unwrap();
    scripted.answer_next_commits(&[Answer::Apply, Answer::Fail(400)]);
    let err = transaction.commit().await.expect_err("the append is refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    // Staging refusal was learnt: no second try of the whole batch.
    assert_eq!(scripted.commits()[3..].iter().map(|c| c.status).collect::<Vec<_>>(), [200, 400]);
    assert!(
        scripted.calls().contains(&"DELETE /v1/namespaces/e/tables/other?purgeRequested=true".to_string()),
        "{:?}",
        scripted.calls()
    );
    assert!(scripted.metadata("e", "other").is_none(), "the table created first is still there");
    assert_eq!(scripted.metadata("e", "t").unwrap(), before);
    assert!(!exists(&other_file.path) && !exists(&refused_file.path), "written files left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn dbt_rename_swap_is_one_replace_of_the_same_table() {
    let scripted = ScriptedCatalog::start(true).await;
    scripted.create_table("e", "m", FAST_RETRIES);
    let catalog = scripted.connect().await;
    let m = scripted.load(&catalog, "e", "m").await;
    let first_build = Transaction::new(catalog.clone(), engine());
    let old_file = scripted.data_file(&first_build, &m, 5);
    first_build.write(&m, vec![old_file.clone()], None).await.unwrap();
    first_build.commit().await.unwrap();
    let before = scripted.metadata("e", "m").unwrap();
    let commits_before = scripted.commits().len();

    // CREATE TABLE m__dbt_tmp AS ...; ALTER TABLE m RENAME TO m__dbt_backup;
    // ALTER TABLE m__dbt_tmp RENAME TO m; COMMIT
    let columns: Vec<DuckColumn> =
        serde_json::from_str(r#"[{"name":"id","type":{"id":"INTEGER"}},{"name":"label","type":{"id":"VARCHAR"}}]"#)
            .unwrap();
    let rebuild = Transaction::new(catalog.clone(), engine());
    let tmp = rebuild.create_table(&vec!["e".into()], "m__dbt_tmp", &columns, &[], Default::default()).await.unwrap();
    let new_file = scripted.data_file(&rebuild, &tmp, 7);
    rebuild.write(&tmp, vec![new_file.clone()], None).await.unwrap();
    rebuild.rename_table(id("e", "m"), id("e", "m__dbt_backup"));
    rebuild.rename_table(id("e", "m__dbt_tmp"), id("e", "m"));
    rebuild.commit().await.unwrap();

    let commits = &scripted.commits()[commits_before..];
    assert_eq!(commits.len(), 1, "one atomic commit");
    assert!(commits[0].path.ends_with("/transactions/commit"));
    assert!(!scripted.calls().iter().any(|c| c.contains("/tables/rename")), "{:?}", scripted.calls());
    let (replace, backup) = (&commits[0].changes[0], &commits[0].changes[1]);
    assert_eq!(replace["identifier"]["name"], "m");
    assert_eq!(requirement(replace, "assert-table-uuid")["uuid"], before.uuid().to_string());
    assert_eq!(requirement(replace, "assert-ref-snapshot-id")["snapshot-id"], before.current_snapshot_id().unwrap());
    assert_eq!(added_snapshot(replace)["summary"]["operation"], "overwrite");
    assert_eq!(backup["identifier"]["name"], "m__dbt_backup");
    assert_eq!(backup["requirements"][0]["type"], "assert-create");

    // m keeps its identity and history, with the new schema and rows; the backup holds the old rows.
    let after = scripted.metadata("e", "m").unwrap();
    assert_eq!(after.uuid(), before.uuid());
    assert_eq!(after.snapshots().count(), 2);
    assert!(after.current_schema().field_by_name("label").is_some());
    assert_eq!(live_paths(&after).await, [new_file.path.as_str()]);
    assert_eq!(live_paths(&scripted.metadata("e", "m__dbt_backup").unwrap()).await, [old_file.path.as_str()]);
    assert!(scripted.metadata("e", "m__dbt_tmp").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicts_back_off_with_jitter_within_the_tables_bounds_then_give_up() {
    let scripted = ScriptedCatalog::start(true).await;
    let bounds =
        [("commit.retry.num-retries", "3"), ("commit.retry.min-wait-ms", "40"), ("commit.retry.max-wait-ms", "200")];
    scripted.create_table("e", "t", &bounds);
    let catalog = scripted.connect().await;
    // TRUNCATE is no append: its retries are counted.
    let transaction = Transaction::new(catalog.clone(), engine());
    transaction.truncate_table(scripted.load(&catalog, "e", "t").await).unwrap();
    scripted.answer_next_commits(&[Answer::Conflict; 4]);
    let err = transaction.commit().await.expect_err("every attempt loses");
    assert_eq!(err.kind(), ErrorKind::CommitConflict);
    assert!(err.to_string().contains("Commit to table 'e.t' failed after 4 attempt(s)"), "{err}");
    assert!(err.to_string().contains("commit.retry.num-retries"), "{err}");

    let commits = scripted.commits();
    assert_eq!(commits.len(), 4, "the first attempt and num-retries retries");
    // Retry n waits between min-wait-ms and min(2^n * min-wait-ms, max-wait-ms); the gap also
    // holds the reload and the new manifest list, hence the allowance above the ceiling.
    let allowance = Duration::from_millis(150);
    for (n, pair) in commits.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].at;
        let ceiling = Duration::from_millis((40u64 << (n + 1)).min(200));
        assert!(gap >= Duration::from_millis(40), "retry {} after {gap:?}", n + 1);
        assert!(gap <= ceiling + allowance, "retry {} after {gap:?}, ceiling {ceiling:?}", n + 1);
    }
}
