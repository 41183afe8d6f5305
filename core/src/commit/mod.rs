//! Writing through the catalog: DuckDB types as Iceberg schemas, written Parquet files as data
//! files, new snapshots, and the transaction that commits them at DuckDB COMMIT.

pub mod data_file;
pub mod evolution;
pub mod fixed_columns;
pub mod lineage;
pub mod manifest_merge;
pub mod nested_annotations;
pub mod not_null;
pub mod parquet_footer;
pub mod partitioning;
pub mod retry;
pub mod row_level;
pub mod schema;
pub mod snapshot;
pub mod sort_order;
pub mod transaction;

pub use transaction::Transaction;
