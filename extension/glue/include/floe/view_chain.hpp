//===----------------------------------------------------------------------===//
// floe: the Iceberg views the binder is inside, outermost first, so a table loaded while binding
// a view's query names them in the REST spec's `referenced-by` (the catalog may decide and audit
// by the chain). DuckDB binds a view's query on the statement's thread between the view entry's
// GetQuery and UpdateBinding (IcebergView marks both), so the chain is kept per thread; a view
// whose binding failed is forgotten when the next query begins.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/catalog/catalog_entry/view_catalog_entry.hpp"
#include "duckdb/main/client_context_state.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/ffi.hpp"

namespace floe {

struct ViewName {
	string schema;
	string name;
};

class ViewChain {
public:
	static void Enter(ViewName view);
	//! Leaves `view` and any view entered inside it.
	static void Leave(const ViewName &view);
	static const vector<ViewName> &Current();
	static duckdb::idx_t Depth();
	static void Truncate(duckdb::idx_t depth);
	//! Clears the chain when each query of `context` begins.
	static void ResetPerQuery(duckdb::ClientContext &context);
};

//! An Iceberg view of the catalog as DuckDB binds it, marking its binding in the view chain.
class IcebergView : public duckdb::ViewCatalogEntry {
public:
	IcebergView(duckdb::Catalog &catalog, duckdb::SchemaCatalogEntry &schema, duckdb::CreateViewInfo &info);

	const duckdb::SelectStatement &GetQuery() override;
	void UpdateBinding(const vector<duckdb::LogicalType> &types, const compat::Names &names) override;
	void BindView(duckdb::ClientContext &context,
	              duckdb::BindViewAction action = duckdb::BindViewAction::BIND_IF_UNBOUND) override;

private:
	ViewName Name() const;
};

} // namespace floe
