//===----------------------------------------------------------------------===//
// floe: a table the catalog restricts for this principal (`read-restrictions`), bound in its
// place as a secure view of itself: the core's SELECT applies the row filter to the raw values
// and the column masks to the rows it keeps (core/src/scan/restricted). The raw table is
// reachable only under a name carrying a random token of the attached catalog, which nothing
// lists or prints; DuckDB's secure-view boundary keeps the caller's predicates from being
// evaluated on rows the filter hides and keeps the view's inside out of EXPLAIN.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/catalog/catalog_entry/view_catalog_entry.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/ffi.hpp"

namespace floe {

class IcebergTableEntry;

class RestrictedView : public duckdb::ViewCatalogEntry {
public:
	//! The view of `table` for the core's `select` and `filter`; the raw table is named with `token`.
	static unique_ptr<RestrictedView> Create(duckdb::Catalog &catalog, duckdb::SchemaCatalogEntry &schema,
	                                         IcebergTableEntry &table, const string &select, const string &filter,
	                                         const string &token);

	RestrictedView(duckdb::Catalog &catalog, duckdb::SchemaCatalogEntry &schema, duckdb::CreateViewInfo &info,
	               IcebergTableEntry &table);

	//! The name the raw table of `table_name` is looked up by.
	static string RawName(const string &table_name, const string &token);
	//! The table a raw name stands for; empty if `name` is not one.
	static string TableOfRawName(const string &name, const string &token);

	//! Whether this DuckDB binds secure views (2.0 and later); on older ones a restricted table
	//! is refused.
	static bool Supported();

	IcebergTableEntry &Table() const {
		return table;
	}

private:
	IcebergTableEntry &table;
};

} // namespace floe
