//===----------------------------------------------------------------------===//
// floe: CHECKPOINT lake and CALL floe_checkpoint('lake'): every table of an attached catalog
// expired, compacted, its manifests merged and its orphan files removed, one table at a time
// (floe_core::maintenance::checkpoint), each step its own catalog commit.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/main/client_context.hpp"
#include "duckdb/main/extension/extension_loader.hpp"
#include "floe/ffi.hpp"

namespace floe {

class IcebergCatalog;

//! What the checkpoint did to one table: its name, Spark-style counts, a note on skipped steps
//! and the errors of failed steps (empty when none).
struct CheckpointedTable {
	string name;
	vector<int64_t> counts;
	string note;
	string error;
};

//! The tables of one catalog as listed when it starts, checkpointed one per call of Next.
class CatalogCheckpoint {
public:
	CatalogCheckpoint(duckdb::ClientContext &context, IcebergCatalog &catalog);

	//! Checkpoints the next table; false when every table is done.
	bool Next(duckdb::ClientContext &context, CheckpointedTable &result);
	//! Next in three parts, so the work can run on another thread: Begin reads what the next
	//! table's work needs from the context (false when every table is done), Work does it (a
	//! failure is the table's error) and End logs it and hands out its result.
	bool Begin(duckdb::ClientContext &context);
	void Work();
	CheckpointedTable End(duckdb::ClientContext &context);
	//! Tables done, in percent, for DuckDB's progress bar.
	double Progress() const;

	//! The result columns of floe_checkpoint after the table's name, in CheckpointedTable::counts order.
	static const vector<string> &CountColumns();

private:
	struct Table {
		string schema;
		string name;
		string location;
	};
	IcebergCatalog &catalog;
	vector<Table> tables;
	duckdb::idx_t next = 0;
	//! The table Begin started: its result so far, its storage secret and what the core answered.
	CheckpointedTable current;
	string secret;
	CoreString outcome;
};

void RegisterCheckpoint(duckdb::ExtensionLoader &loader);

} // namespace floe
