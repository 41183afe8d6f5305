//! Table maintenance: the procedures that keep a table fast as it ages.

pub mod rewrite_data_files;
