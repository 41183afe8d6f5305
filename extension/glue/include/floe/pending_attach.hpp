//===----------------------------------------------------------------------===//
// floe: catalogs connected while an ATTACH (TYPE ICEBERG) is planned, waiting for the ATTACH
// to run.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/main/client_context_state.hpp"
#include "duckdb/optimizer/optimizer_extension.hpp"
#include "floe/ffi.hpp"

namespace floe {

//! ATTACH runs as a pipeline task, which one of DuckDB's worker threads may take; DuckDB's client
//! thread then busy-waits for it (PendingQueryResult::ExecuteInternal and the Python client's
//! CompletePendingQuery loop on NO_TASKS_AVAILABLE without sleeping), burning a core for as long
//! as the catalog takes to answer. So the catalog is connected on the client thread while the
//! ATTACH is planned, and kept here, per connection and keyed by its attach request, until
//! IcebergCatalog::Attach takes it. Whatever the query did not take (DuckDB kept a database
//! attached already, or the ATTACH failed before it ran) is freed when the query ends.
class PendingAttaches : public duckdb::ClientContextState {
public:
	//! Pre-optimizer hook: connects the catalog of an ATTACH (TYPE ICEBERG), unless it is
	//! IF NOT EXISTS of a name attached already.
	static void ConnectWhilePlanning(duckdb::OptimizerExtensionInput &input, unique_ptr<duckdb::LogicalOperator> &plan);
	//! The catalog connected for `request` while this connection planned it, if there is one.
	static CatalogHandle Take(duckdb::ClientContext &context, const string &request);

	void QueryEnd(duckdb::ClientContext &context, duckdb::optional_ptr<duckdb::ErrorData> error) override;

private:
	duckdb::mutex lock;
	duckdb::unordered_map<string, CatalogHandle> connected;
};

} // namespace floe
