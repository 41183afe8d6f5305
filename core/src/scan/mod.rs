//! Reading a table: pushed-down filters, planning, delete files, and the values that cross to
//! DuckDB.

pub mod deletes;
pub mod deletion_vector;
pub mod filter;
pub mod matching;
pub mod plan;
pub mod promotion;
pub mod restricted;
pub mod server_plan;
pub mod value;

pub use plan::{PlannedFile, ScanPlan};
