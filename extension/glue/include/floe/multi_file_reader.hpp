//===----------------------------------------------------------------------===//
// floe: plugs Iceberg into DuckDB's multi-file Parquet scan — the schema and field ids come
// from the table metadata, the files from the core's scan plan, and deleted rows are skipped
// by position in the reader itself.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/common/multi_file/multi_file_reader.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/scan_info.hpp"

namespace floe {

struct IcebergMultiFileReader : public duckdb::MultiFileReader {
public:
	explicit IcebergMultiFileReader(shared_ptr<duckdb::TableFunctionInfo> function_info);

	static unique_ptr<duckdb::MultiFileReader> CreateInstance(const compat::BoundTableFunction &function);
	//! Names the scanned table entry, so DuckDB binds its virtual columns (filename, ...).
	//! The table entry a scan reads (LogicalGet::GetTable).
	static duckdb::optional_ptr<duckdb::TableCatalogEntry> GetTableEntry(
	    duckdb::optional_ptr<const duckdb::FunctionData> bind_data);

	shared_ptr<duckdb::MultiFileList> CreateFileList(duckdb::ClientContext &context, const vector<string> &paths,
	                                                 const duckdb::FileGlobInput &glob_input) override;
	bool Bind(duckdb::MultiFileOptions &options, duckdb::MultiFileList &files,
	          vector<duckdb::LogicalType> &return_types, compat::Names &names,
	          duckdb::MultiFileReaderBindData &bind_data) override;
	void BindOptions(duckdb::MultiFileOptions &options, duckdb::MultiFileList &files,
	                 vector<duckdb::LogicalType> &return_types, compat::Names &names,
	                 duckdb::MultiFileReaderBindData &bind_data) override;
	//! Takes the filters on the filename column into the file list (file_name_filters.hpp).
	unique_ptr<duckdb::MultiFileList> ComplexFilterPushdown(duckdb::ClientContext &context,
	                                                        duckdb::MultiFileList &files,
	                                                        const duckdb::MultiFileOptions &options,
	                                                        duckdb::MultiFilePushdownInfo &info,
	                                                        vector<unique_ptr<duckdb::Expression>> &filters) override;
	duckdb::ReaderInitializeType InitializeReader(duckdb::MultiFileReaderData &reader_data,
	                                              const duckdb::MultiFileBindData &bind_data,
	                                              const vector<duckdb::MultiFileColumnDefinition> &global_columns,
	                                              const vector<duckdb::ColumnIndex> &global_column_ids,
	                                              duckdb::optional_ptr<duckdb::TableFilterSet> table_filters,
	                                              duckdb::ClientContext &context,
	                                              duckdb::MultiFileGlobalState &gstate) override;
	unique_ptr<duckdb::MultiFileReader> Copy() const override;

private:
	shared_ptr<duckdb::TableFunctionInfo> function_info;
};

} // namespace floe
