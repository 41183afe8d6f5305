//===----------------------------------------------------------------------===//
// floe: the data files of one Iceberg scan, planned by the core when first needed — after
// DuckDB has pushed its filters down, so pruning can use them.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/common/multi_file/multi_file_list.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/file_name_filters.hpp"
#include "floe/scan_info.hpp"

namespace floe {

class IcebergMultiFileList : public compat::MultiFileListBase {
public:
	IcebergMultiFileList(shared_ptr<IcebergScanInfo> info, string filter_json,
	                     shared_ptr<const FileNameFilters> file_name_filters = nullptr);

	const IcebergScanInfo &Info() const {
		return *info;
	}
	//! This list with filters on the filename column that floe applies (nullptr: none).
	unique_ptr<duckdb::MultiFileList> WithFileNameFilters(shared_ptr<const FileNameFilters> filters) const;
	//! Whether the file DuckDB reads at `path` passes the filters on the filename column (by its URL;
	//! decoded only when there are such filters).
	bool FileNameMatches(duckdb::ClientContext &context, const string &path) const;

	unique_ptr<duckdb::MultiFileList> PushdownDynamicFilters(duckdb::ClientContext &context,
	                                                         const vector<duckdb::column_t> &column_ids,
	                                                         duckdb::TableFilterSet &filters) const override;
	vector<duckdb::OpenFileInfo> GetAllFiles() const override;
	duckdb::FileExpandResult GetExpandResult() const override;
	idx_t GetTotalFileCount() const override;
	unique_ptr<duckdb::NodeStatistics> GetCardinality(duckdb::ClientContext &context) const override;
	unique_ptr<duckdb::MultiFileList> Copy() const override;

	//! Sorted positions of the rows deleted from file `index`.
	vector<int64_t> DeletedPositions(idx_t index) const;
	//! Identity partition values of file `index`: (source field id, value JSON or null).
	vector<std::pair<int32_t, string>> IdentityPartition(idx_t index) const;
	//! Whether file `index` has delete files at all (most have none; then nothing is asked).
	bool HasDeletes(idx_t index) const;

protected:
	duckdb::OpenFileInfo GetFile(idx_t i) const override;

private:
	struct PlannedFile {
		duckdb::OpenFileInfo file;
		bool has_deletes;
		vector<std::pair<int32_t, string>> identity_partition;
	};

	void Plan() const;

	shared_ptr<IcebergScanInfo> info;
	string filter_json;
	shared_ptr<const FileNameFilters> file_name_filters;
	mutable duckdb::mutex lock;
	mutable bool planned = false;
	mutable ScanHandle scan;
	mutable vector<PlannedFile> files;
};

} // namespace floe
