//===----------------------------------------------------------------------===//
// floe: the catalog commit of an explicit transaction's COMMIT, made while DuckDB plans it.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/optimizer/optimizer_extension.hpp"

namespace floe {

//! COMMIT runs as a pipeline task (PhysicalTransaction), which one of DuckDB's worker threads may
//! take; DuckDB's client thread then busy-waits for it (PendingQueryResult::ExecuteInternal loops
//! on NO_TASKS_AVAILABLE without sleeping), burning a core for as long as the catalog takes to
//! answer the commit. So this pre-optimizer hook, which runs on the client thread, commits the
//! changes of every Iceberg catalog the transaction used while the COMMIT is planned. Each
//! IcebergTransaction keeps its outcome, which the COMMIT's execution then reports as before.
void CommitWhilePlanning(duckdb::OptimizerExtensionInput &input, duckdb::unique_ptr<duckdb::LogicalOperator> &plan);

} // namespace floe
