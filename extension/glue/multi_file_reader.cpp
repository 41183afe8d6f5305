#include "floe/multi_file_reader.hpp"

#include <algorithm>

#include "duckdb/common/multi_file/multi_file_states.hpp"
#include "floe/file_system.hpp"
#include "floe/multi_file_list.hpp"
#include "floe/values.hpp"

namespace floe {

using namespace duckdb;

//! Skips the rows of one data file that delete files removed, by position in the file.
class PositionDeleteFilter : public DeleteFilter {
public:
	explicit PositionDeleteFilter(vector<int64_t> positions_p) : positions(std::move(positions_p)) {
	}

	idx_t Filter(row_t start_row_index, idx_t count, SelectionVector &result_sel) override {
		// The reader hands over an empty selection; it is ours to allocate.
		result_sel.Initialize(STANDARD_VECTOR_SIZE);
		auto next = std::lower_bound(positions.begin(), positions.end(), start_row_index);
		idx_t kept = 0;
		for (idx_t i = 0; i < count; i++) {
			auto row = start_row_index + NumericCast<row_t>(i);
			if (next != positions.end() && *next == row) {
				++next;
				continue;
			}
			result_sel.set_index(kept++, i);
		}
		return kept;
	}

private:
	vector<int64_t> positions;
};

IcebergMultiFileReader::IcebergMultiFileReader(shared_ptr<TableFunctionInfo> function_info_p)
    : function_info(std::move(function_info_p)) {
}

unique_ptr<MultiFileReader> IcebergMultiFileReader::CreateInstance(const compat::BoundTableFunction &function) {
	return make_uniq<IcebergMultiFileReader>(function.function_info);
}

optional_ptr<TableCatalogEntry> IcebergMultiFileReader::GetTableEntry(optional_ptr<const FunctionData> bind_data) {
	auto &list = bind_data->Cast<MultiFileBindData>().file_list->Cast<IcebergMultiFileList>();
	return &list.Info().entry;
}

unique_ptr<MultiFileReader> IcebergMultiFileReader::Copy() const {
	auto copy = make_uniq<IcebergMultiFileReader>(function_info);
	copy->function_name = function_name;
	return std::move(copy);
}

shared_ptr<MultiFileList> IcebergMultiFileReader::CreateFileList(ClientContext &context, const vector<string> &paths,
                                                                 const FileGlobInput &glob_input) {
	auto info = shared_ptr_cast<TableFunctionInfo, IcebergScanInfo>(function_info);
	if (!info) {
		throw InvalidInputException("Iceberg tables are scanned through an attached catalog: ATTACH '<warehouse>' "
		                            "AS lake (TYPE ICEBERG, ...) and SELECT ... FROM lake.<namespace>.<table>");
	}
	return make_shared_ptr<IcebergMultiFileList>(std::move(info), "");
}

bool IcebergMultiFileReader::Bind(MultiFileOptions &options, MultiFileList &files, vector<LogicalType> &return_types,
                                  compat::Names &names, MultiFileReaderBindData &bind_data) {
	auto &info = files.Cast<IcebergMultiFileList>().Info();
	for (auto &column : info.columns) {
		return_types.push_back(column.type);
		names.push_back(Identifier(column.name));
		bind_data.schema.push_back(column.ToMultiFileColumn());
	}
	// Iceberg identifies columns by field id: renamed columns keep theirs, re-added ones get new.
	bind_data.mapping = MultiFileColumnMappingMode::BY_FIELD_ID;
	return true;
}

void IcebergMultiFileReader::BindOptions(MultiFileOptions &options, MultiFileList &files,
                                         vector<LogicalType> &return_types, compat::Names &names,
                                         MultiFileReaderBindData &bind_data) {
	// The table's layout comes from its metadata, never from file paths or file schemas.
	options.auto_detect_hive_partitioning = false;
	options.hive_partitioning = false;
	options.union_by_name = false;
	MultiFileReader::BindOptions(options, files, return_types, names, bind_data);
}

//! Files of tables migrated from Hive may lack identity partition columns; their value is the
//! file's partition value.
static void ApplyIdentityPartition(const IcebergMultiFileList &list, idx_t file_index, MultiFileReaderData &reader_data,
                                   const vector<MultiFileColumnDefinition> &global_columns,
                                   const vector<ColumnIndex> &global_column_ids) {
	auto partition = list.IdentityPartition(file_index);
	if (partition.empty()) {
		return;
	}
	unordered_set<int32_t> in_file;
	for (auto &column : reader_data.reader->columns) {
		if (!column.identifier.IsNull()) {
			in_file.insert(column.identifier.GetValue<int32_t>());
		}
	}
	for (idx_t i = 0; i < global_column_ids.size(); i++) {
		auto &id = global_column_ids[i];
		if (id.IsVirtualColumn()) {
			continue;
		}
		auto &column = global_columns[id.GetPrimaryIndex()];
		auto field_id = column.identifier.GetValue<int32_t>();
		if (in_file.count(field_id)) {
			continue;
		}
		for (auto &entry : partition) {
			if (entry.first == field_id) {
				Json value(entry.second);
				reader_data.constant_map.Add(MultiFileGlobalIndex(i), ValueFromJson(value.Root(), column.type));
			}
		}
	}
}

//! The filename column shows a data file's own URL, not the floe:// path DuckDB reads it through.
static void ShowRealFileName(MultiFileReaderData &reader_data, const vector<ColumnIndex> &global_column_ids) {
	for (auto &entry : reader_data.constant_map) {
		auto &id = global_column_ids[entry.column_idx.GetIndex()];
		if (id.GetPrimaryIndex() == MultiFileReader::COLUMN_IDENTIFIER_FILENAME && !entry.value.IsNull()) {
			entry.value = Value(FloeFileSystem::RealPath(StringValue::Get(entry.value)));
		}
	}
}

unique_ptr<MultiFileList> IcebergMultiFileReader::ComplexFilterPushdown(ClientContext &context, MultiFileList &files,
                                                                        const MultiFileOptions &options,
                                                                        MultiFilePushdownInfo &info,
                                                                        vector<unique_ptr<Expression>> &filters) {
	auto file_name_filters = FileNameFilters::Extract(info, filters);
	if (!file_name_filters) {
		return nullptr;
	}
	return files.Cast<IcebergMultiFileList>().WithFileNameFilters(std::move(file_name_filters));
}

ReaderInitializeType IcebergMultiFileReader::InitializeReader(MultiFileReaderData &reader_data,
                                                              const MultiFileBindData &bind_data,
                                                              const vector<MultiFileColumnDefinition> &global_columns,
                                                              const vector<ColumnIndex> &global_column_ids,
                                                              optional_ptr<TableFilterSet> table_filters,
                                                              ClientContext &context, MultiFileGlobalState &gstate) {
	FinalizeBind(reader_data, bind_data.file_options, bind_data.reader_bind, global_columns, global_column_ids, context,
	             gstate.multi_file_reader_state.get());
	ShowRealFileName(reader_data, global_column_ids);
	auto &list = gstate.file_list.Cast<IcebergMultiFileList>();
	auto &reader = *reader_data.reader;
	if (!list.FileNameMatches(context, reader.GetFileName())) {
		return ReaderInitializeType::SKIP_READING_FILE;
	}
	auto file_index = reader.file_list_idx.GetIndex();
	if (list.HasDeletes(file_index)) {
		auto positions = list.DeletedPositions(file_index);
		if (!positions.empty()) {
			reader.deletion_filter = make_uniq<PositionDeleteFilter>(std::move(positions));
		}
	}
	ApplyIdentityPartition(list, file_index, reader_data, global_columns, global_column_ids);
	return CreateMapping(context, reader_data, global_columns, global_column_ids, table_filters, gstate.file_list,
	                     bind_data.reader_bind, bind_data.virtual_columns);
}

} // namespace floe
