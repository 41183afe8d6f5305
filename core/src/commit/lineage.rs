//! Lineage kept by the catalog: every snapshot floe commits names, in its summary, the tables
//! read by the statements that changed its table (with the snapshot each was read at) and, for
//! statements dbt ran, the model's unique id, taken from the query comment dbt puts in front of
//! every statement (`/* {"app": "dbt", ..., "node_id": "model.shop.orders"} */`). Any engine
//! reads it back from the snapshot summary; nothing else has to be deployed.
//!
//! Only tables of the same catalog are seen: a statement's reads of other catalogs are not
//! recorded. A snapshot lists at most [`MAX_LISTED`] tables and counts the rest.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;
use serde_json::json;

/// Summary key: the tables read, a JSON array of `{"table": "ns.t", "snapshot-id": N|null}`.
pub const READ_TABLES: &str = "floe.read-tables";
/// Summary key: how many more tables were read than `floe.read-tables` lists.
pub const READ_TABLES_OMITTED: &str = "floe.read-tables-omitted";
/// Summary key: the dbt models whose statements made the snapshot, comma separated.
pub const DBT_NODE_ID: &str = "dbt.node-id";

/// A summary stays small enough for every catalog and every reader of the table's metadata.
pub const MAX_LISTED: usize = 20;

/// A table a statement read: `namespace.name`, and the snapshot read (none for an empty table).
pub type Read = (String, Option<i64>);

/// What one statement of the transaction read, as the engine reports it.
#[derive(Debug, Default, Deserialize)]
pub struct Statement {
    #[serde(default)]
    pub reads: Vec<StatementRead>,
    /// The statement's SQL text, where a dbt query comment names the model.
    #[serde(default)]
    pub query: String,
}

#[derive(Debug, Deserialize)]
pub struct StatementRead {
    pub table: String,
    pub snapshot_id: Option<i64>,
}

#[derive(Debug, Default, Clone)]
struct TableLineage {
    reads: BTreeSet<Read>,
    nodes: BTreeSet<String>,
}

/// The lineage of one transaction's writes, by the name the table had when written
/// (`namespace.name`): a table created and renamed in the transaction is committed with the
/// lineage of its first name.
#[derive(Debug, Default)]
pub struct Lineage {
    reads: BTreeSet<Read>,
    node: Option<String>,
    tables: HashMap<String, TableLineage>,
}

impl Lineage {
    /// The statement running now: what it read so far, and the dbt model it belongs to.
    pub fn statement(&mut self, statement: Statement) {
        self.reads = statement.reads.into_iter().map(|r| (r.table, r.snapshot_id)).collect();
        self.node = dbt_node_id(&statement.query);
    }

    /// The running statement changes `table`: its reads become part of the table's lineage.
    pub fn wrote(&mut self, table: &str) {
        let lineage = self.tables.entry(table.to_string()).or_default();
        // A table's own earlier state is its parent snapshot already.
        lineage.reads.extend(self.reads.iter().filter(|(read, _)| read != table).cloned());
        lineage.nodes.extend(self.node.clone());
    }

    /// The summary properties of a snapshot of `table`.
    pub fn summary(&self, table: &str) -> BTreeMap<String, String> {
        let mut properties = BTreeMap::new();
        let Some(lineage) = self.tables.get(table) else { return properties };
        if !lineage.reads.is_empty() {
            let listed: Vec<_> = lineage
                .reads
                .iter()
                .take(MAX_LISTED)
                .map(|(table, snapshot)| json!({"table": table, "snapshot-id": snapshot}))
                .collect();
            properties.insert(READ_TABLES.to_string(), serde_json::Value::Array(listed).to_string());
            let omitted = lineage.reads.len().saturating_sub(MAX_LISTED);
            if omitted > 0 {
                properties.insert(READ_TABLES_OMITTED.to_string(), omitted.to_string());
            }
        }
        if !lineage.nodes.is_empty() {
            properties.insert(DBT_NODE_ID.to_string(), lineage.nodes.iter().cloned().collect::<Vec<_>>().join(","));
        }
        properties
    }
}

/// The `node_id` of dbt's query comment at the start of `query`, if dbt sent it.
fn dbt_node_id(query: &str) -> Option<String> {
    let comment = query.trim_start().strip_prefix("/*")?;
    let body = &comment[..comment.find("*/")?];
    let header: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    if header.get("app")?.as_str()? != "dbt" {
        return None;
    }
    Some(header.get("node_id")?.as_str()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(reads: &[(&str, Option<i64>)], query: &str) -> Statement {
        Statement {
            reads: reads.iter().map(|(t, s)| StatementRead { table: t.to_string(), snapshot_id: *s }).collect(),
            query: query.to_string(),
        }
    }

    #[test]
    fn a_write_records_what_its_statement_read_but_not_its_own_table() {
        let mut lineage = Lineage::default();
        lineage.statement(statement(&[("raw.orders", Some(7)), ("gold.m", Some(3)), ("raw.empty", None)], "MERGE ..."));
        lineage.wrote("gold.m");
        let summary = lineage.summary("gold.m");
        let reads: serde_json::Value = serde_json::from_str(&summary[READ_TABLES]).unwrap();
        assert_eq!(
            reads,
            json!([{"table": "raw.empty", "snapshot-id": null}, {"table": "raw.orders", "snapshot-id": 7}])
        );
        assert!(!summary.contains_key(DBT_NODE_ID));
        assert!(lineage.summary("raw.orders").is_empty());
    }

    #[test]
    fn dbt_query_comments_name_the_model() {
        let mut lineage = Lineage::default();
        let ctas = "/* {\"app\": \"dbt\", \"dbt_version\": \"1.11.0\", \"node_id\": \"model.shop.m\"} */\n\
                    create table lake.gold.m__dbt_tmp as (select * from lake.raw.orders)";
        lineage.statement(statement(&[("raw.orders", Some(1))], ctas));
        lineage.wrote("gold.m__dbt_tmp");
        // A later statement of the transaction without dbt's comment adds nothing to it.
        lineage.statement(statement(&[], "alter table lake.gold.m__dbt_tmp rename to m"));
        let summary = lineage.summary("gold.m__dbt_tmp");
        assert_eq!(summary[DBT_NODE_ID], "model.shop.m");
        assert!(summary[READ_TABLES].contains("raw.orders"));
    }

    #[test]
    fn only_dbt_comments_count() {
        assert_eq!(dbt_node_id("/* {\"app\": \"other\", \"node_id\": \"x\"} */ select 1"), None);
        assert_eq!(dbt_node_id("/* not json */ select 1"), None);
        assert_eq!(dbt_node_id("select 1 /* {\"app\": \"dbt\", \"node_id\": \"x\"} */"), None);
        assert_eq!(dbt_node_id("  /*{\"app\":\"dbt\",\"node_id\":\"seed.p.s\"}*/ insert"), Some("seed.p.s".into()));
    }

    #[test]
    fn many_reads_are_bounded() {
        let mut lineage = Lineage::default();
        let tables: Vec<String> = (0..MAX_LISTED + 5).map(|i| format!("raw.t{i:03}")).collect();
        let reads: Vec<(&str, Option<i64>)> = tables.iter().map(|t| (t.as_str(), Some(1))).collect();
        lineage.statement(statement(&reads, "insert ..."));
        lineage.wrote("gold.m");
        let summary = lineage.summary("gold.m");
        let listed: Vec<serde_json::Value> = serde_json::from_str(&summary[READ_TABLES]).unwrap();
        assert_eq!(listed.len(), MAX_LISTED);
        assert_eq!(summary[READ_TABLES_OMITTED], "5");
    }
}
