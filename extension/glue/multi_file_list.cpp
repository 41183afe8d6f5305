#include "floe/multi_file_list.hpp"

#include "duckdb/storage/statistics/node_statistics.hpp"
#include "floe/file_system.hpp"
#include "floe/filters.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

IcebergMultiFileList::IcebergMultiFileList(shared_ptr<IcebergScanInfo> info_p, string filter_json_p,
                                           shared_ptr<const FileNameFilters> file_name_filters_p)
    : info(std::move(info_p)), filter_json(std::move(filter_json_p)),
      file_name_filters(std::move(file_name_filters_p)) {
}

unique_ptr<MultiFileList> IcebergMultiFileList::WithFileNameFilters(shared_ptr<const FileNameFilters> filters) const {
	return make_uniq<IcebergMultiFileList>(info, filter_json, std::move(filters));
}

bool IcebergMultiFileList::FileNameMatches(ClientContext &context, const string &path) const {
	return !file_name_filters || file_name_filters->Match(context, FloeFileSystem::RealPath(path));
}

void IcebergMultiFileList::Plan() const {
	lock_guard<mutex> guard(lock);
	if (planned) {
		return;
	}
	JsonBuilder json;
	auto request = json.Object();
	json.Add(request, "selector", info->selector.ToJson(json));
	json.Add(request, "filter", filter_json.empty() ? json.Null() : json.Raw(filter_json));
	json.Add(request, "storage_secret", json.Raw(info->storage_secret));
	Check(floe_scan_plan(info->table->Get(), info->writes, json.Write(request).c_str(), Out(scan)));
	auto count = floe_scan_file_count(scan.get());
	files.reserve(count);
	for (idx_t i = 0; i < count; i++) {
		CoreString text;
		Check(floe_scan_file(scan.get(), i, text.Out()));
		Json doc(text);
		auto root = doc.Root();
		PlannedFile planned_file;
		planned_file.file = OpenFileInfo(json::String(json::Get(root, "path")));
		auto extended = make_shared_ptr<ExtendedOpenFileInfo>();
		// Iceberg data files never change once written: the size from the manifest saves a HEAD
		// request per file, and cached footers never need revalidation.
		extended->options["file_size"] = Value::UBIGINT(NumericCast<uint64_t>(json::Int(json::Get(root, "file_size"))));
		extended->options["etag"] = Value("");
		extended->options["last_modified"] = Value::TIMESTAMP(timestamp_t(0));
		extended->options["validate_external_file_cache"] = Value::BOOLEAN(false);
		planned_file.file.extended_info = extended;
		planned_file.has_deletes = yyjson_arr_size(json::Get(root, "deletes")) > 0;
		size_t index, max;
		yyjson_val *pair;
		yyjson_arr_foreach(json::Get(root, "identity_partition"), index, max, pair) {
			auto field_id = NumericCast<int32_t>(json::Int(yyjson_arr_get(pair, 0)));
			planned_file.identity_partition.emplace_back(field_id, json::Write(yyjson_arr_get(pair, 1)));
		}
		files.push_back(std::move(planned_file));
	}
	planned = true;
}

unique_ptr<MultiFileList> IcebergMultiFileList::PushdownDynamicFilters(ClientContext &context,
                                                                       const vector<column_t> &column_ids,
                                                                       TableFilterSet &filters) const {
	auto json = FiltersToJson(filters, column_ids, info->columns);
	if (json.empty() || json == filter_json) {
		return nullptr;
	}
	return make_uniq<IcebergMultiFileList>(info, json, file_name_filters);
}

vector<OpenFileInfo> IcebergMultiFileList::GetAllFiles() const {
	Plan();
	vector<OpenFileInfo> result;
	for (auto &file : files) {
		result.push_back(file.file);
	}
	return result;
}

FileExpandResult IcebergMultiFileList::GetExpandResult() const {
	// Never plans: DuckDB asks the unfiltered list of the bind too, which is never scanned. And
	// always "multiple" for a non-empty scan: Parquet's reader then uses every thread on the row
	// groups of even a single file (for one file it would trust a row group count only a file
	// opened at bind provides; floe binds from the metadata).
	lock_guard<mutex> guard(lock);
	return planned && files.empty() ? FileExpandResult::NO_FILES : FileExpandResult::MULTIPLE_FILES;
}

idx_t IcebergMultiFileList::GetTotalFileCount() const {
	Plan();
	return files.size();
}

OpenFileInfo IcebergMultiFileList::GetFile(idx_t i) const {
	Plan();
	return i < files.size() ? files[i].file : OpenFileInfo();
}

unique_ptr<NodeStatistics> IcebergMultiFileList::GetCardinality(ClientContext &context) const {
	// The snapshot summary's record count: an estimate without planning (deletes not subtracted).
	if (!info->total_records.IsValid()) {
		return nullptr;
	}
	auto records = info->total_records.GetIndex();
	return make_uniq<NodeStatistics>(records, records);
}

unique_ptr<MultiFileList> IcebergMultiFileList::Copy() const {
	return make_uniq<IcebergMultiFileList>(info, filter_json, file_name_filters);
}

bool IcebergMultiFileList::HasDeletes(idx_t index) const {
	Plan();
	return files.at(index).has_deletes;
}

vector<int64_t> IcebergMultiFileList::DeletedPositions(idx_t index) const {
	Plan();
	CorePositions positions;
	Check(floe_scan_deleted_positions(scan.get(), index, positions.Data(), positions.Size()));
	return positions.ToVector();
}

vector<std::pair<int32_t, string>> IcebergMultiFileList::IdentityPartition(idx_t index) const {
	Plan();
	return files.at(index).identity_partition;
}

} // namespace floe
