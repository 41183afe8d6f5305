//===----------------------------------------------------------------------===//
// floe: filters on a scan's `filename` column, applied by floe to each data file's own URL.
//
// DuckDB reads floe's files through floe:// paths, and the filename column shows each file's
// URL instead (multi_file_reader.cpp). DuckDB 2.0 also evaluates filename filters against the
// path before opening a file, which would skip every file of `WHERE filename = '<url>'`; so
// such filters are taken out of DuckDB's hands when they are pushed down, and floe skips the
// files whose URL fails them.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/common/multi_file/multi_file_list.hpp"
#include "duckdb/planner/expression.hpp"

namespace floe {

using duckdb::string;
using duckdb::unique_ptr;
using duckdb::vector;

class FileNameFilters {
public:
	//! Moves the filters that read the filename column and no other out of `filters`; nullptr
	//! when there are none.
	static duckdb::shared_ptr<const FileNameFilters> Extract(const duckdb::MultiFilePushdownInfo &info,
	                                                         vector<unique_ptr<duckdb::Expression>> &filters);

	//! Whether a file with this URL passes every filter (NULL fails, as in WHERE).
	bool Match(duckdb::ClientContext &context, const string &url) const;

private:
	vector<unique_ptr<duckdb::Expression>> filters;
};

} // namespace floe
