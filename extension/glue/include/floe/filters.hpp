//===----------------------------------------------------------------------===//
// floe: DuckDB's pushed-down table filters as the core's filter JSON (floe_core::scan::filter).
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/planner/table_filter.hpp"
#include "floe/columns.hpp"

namespace floe {

//! The filters of a scan as one AND, over the Iceberg field ids of `columns`; "" if none can be
//! expressed. `column_ids` maps the filter set's keys to table column indexes.
string FiltersToJson(const duckdb::TableFilterSet &filters, const vector<duckdb::column_t> &column_ids,
                     const vector<IcebergColumn> &columns);

} // namespace floe
