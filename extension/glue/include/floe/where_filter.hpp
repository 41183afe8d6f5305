//===----------------------------------------------------------------------===//
// floe: a procedure's `where => '<SQL predicate>'` as the core's filter JSON
// (floe_core::scan::filter), the form scans push their filters down in.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/main/client_context.hpp"
#include "floe/columns.hpp"

namespace floe {

//! `where`, parsed by DuckDB, over the Iceberg field ids of `columns`. Comparisons of a column with
//! a constant (=, <>, <, <=, >, >=), IN lists and IS [NOT] NULL, joined by AND, OR and NOT, are
//! taken; anything else is refused, naming `call` (e.g. "floe_rewrite_data_files('lake.ns.t')").
string WhereToFilterJson(duckdb::ClientContext &context, const string &call, const string &where,
                         const vector<IcebergColumn> &columns);

} // namespace floe
