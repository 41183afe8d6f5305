//===----------------------------------------------------------------------===//
// floe: the rows one statement deletes from one Iceberg table, by data file and position, as
// DuckDB's scan names them (the row-id columns `filename` and `file_row_number`). Shared by the
// threads of the statement; handed to the core once, at its end.
//===----------------------------------------------------------------------===//
#pragma once

#include <unordered_map>
#include <unordered_set>

#include "duckdb/common/types/data_chunk.hpp"
#include "duckdb/common/types/selection_vector.hpp"
#include "floe/table_entry.hpp"

namespace floe {

//! Deleted positions by data file (DuckDB's path of it).
using PositionsByFile = std::unordered_map<string, vector<int64_t>>;

class DeletedRows {
public:
	//! What a row named a second time means.
	enum class Repeats {
		//! None can come: the statement reads the table without a join (plain UPDATE), so nothing is tracked.
		NONE,
		//! Deleted once (DELETE ... USING with a join matching a row twice); the core dedups.
		KEEP,
		//! Only the first is kept: the caller drops the repeats (UPDATE ... FROM, as DuckDB's own tables).
		FIRST_ONLY,
		//! An error: MERGE may change a target row once.
		REFUSE
	};

	DeletedRows(IcebergTableEntry &table, string request_json, Repeats repeats);

	//! Adds one thread's positions (KEEP).
	void Add(PositionsByFile &&positions);
	//! Adds the rows of `chunk` selected by `sel` (`count` of them), whose data file and position are
	//! columns `file_column` and `row_column`; `first` gets the rows named for the first time.
	idx_t AddFirst(duckdb::DataChunk &chunk, idx_t file_column, idx_t row_column, const duckdb::SelectionVector &sel,
	               idx_t count, duckdb::SelectionVector &first);
	//! Hands the rows to the transaction (which writes their delete files); returns how many it deleted.
	uint64_t Commit(duckdb::ClientContext &context);

private:
	IcebergTableEntry &table;
	string request_json;
	Repeats repeats;
	duckdb::mutex lock;
	PositionsByFile positions;
	//! For FIRST_ONLY and REFUSE: every position seen, by data file.
	std::unordered_map<string, std::unordered_set<int64_t>> seen;
};

//! Refuses a row-level `statement` (DELETE, UPDATE, MERGE) floe cannot run on `table`: one with
//! RETURNING, or on a past version of the table.
void CheckRowLevelTarget(const IcebergTableEntry &table, const char *statement, bool returning);

//! Appends the positions of `chunk` (all its rows) to `positions`, looking each data file up once per run of rows.
void CollectPositions(duckdb::DataChunk &chunk, idx_t file_column, idx_t row_column, const string &table,
                      PositionsByFile &positions);

} // namespace floe
