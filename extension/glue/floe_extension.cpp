// The glue's entry: called by floe_duckdb_cpp_init (Rust) when DuckDB loads floe.
#include "duckdb/catalog/catalog_entry/table_function_catalog_entry.hpp"
#include "duckdb/main/extension/extension_loader.hpp"
#include "duckdb/main/extension_helper.hpp"
#include "duckdb/main/config.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/checkpoint.hpp"
#include "floe/commit_while_planning.hpp"
#include "floe/file_system.hpp"
#include "floe/maintenance.hpp"
#include "floe/metadata_functions.hpp"
#include "floe/multi_file_reader.hpp"
#include "floe/pending_attach.hpp"
#include "floe/rewrite_data_files.hpp"
#include "floe/rewrite_manifests.hpp"
#include "floe/secret.hpp"
#include "floe/storage_extension.hpp"

namespace floe {

using namespace duckdb;

//! DuckDB's own Parquet scan, reading through floe's multi-file reader.
static TableFunction IcebergScanFunction(ExtensionLoader &loader) {
	auto &parquet_scan = loader.GetTableFunction("parquet_scan");
	TableFunction function;
	for (auto &entry : parquet_scan.functions.functions) {
		auto &overload = compat::Overload(entry);
		auto arguments = compat::PositionalTypes(overload);
		if (arguments.size() == 1 && arguments[0] == LogicalType::VARCHAR) {
			function = overload;
		}
	}
	if (!function.bind) {
		throw IOException("floe: DuckDB's parquet_scan(VARCHAR) was not found");
	}
	function.name = "iceberg_scan";
	function.get_multi_file_reader = IcebergMultiFileReader::CreateInstance;
	// A table entry's scan is re-created from the catalog, never serialized.
	function.serialize = nullptr;
	function.deserialize = nullptr;
	// Per-file statistics would open every file at plan time; the snapshot summary estimates.
	function.statistics = nullptr;
	// The table entry declares the virtual columns (filename, file_row_number).
	function.get_virtual_columns = nullptr;
	compat::ExposeTableEntry<IcebergMultiFileReader::GetTableEntry>(function);
	return function;
}

static void Load(ExtensionLoader &loader) {
	auto &db = loader.GetDatabaseInstance();
	ExtensionHelper::AutoLoadExtension(db, "parquet");
	if (!db.ExtensionIsLoaded("parquet")) {
		throw MissingExtensionException("floe reads data files with DuckDB's parquet extension, which is not loaded. "
		                                "Fix: INSTALL parquet; LOAD parquet; then LOAD floe");
	}
	RegisterIcebergSecret(loader);
	RegisterStorageSecretsIfMissing(loader);
	db.GetFileSystem().RegisterSubSystem(make_uniq<FloeFileSystem>());
	DBConfig::GetConfig(db).AddExtensionOption(
	    "floe_table_properties",
	    "Iceberg table properties to set on tables floe writes: a JSON object "
	    "{\"catalog.schema.table\": {\"key\": \"value\"}} (the dbt plugin sets it from model meta)",
	    LogicalType::VARCHAR, Value(""));
	DBConfig::GetConfig(db).AddExtensionOption(
	    "floe_snapshot_properties",
	    "Properties added to the summary of every Iceberg snapshot floe commits: a JSON object {\"key\": "
	    "\"value\"} (the dbt plugin sets dbt.invocation-id)",
	    LogicalType::VARCHAR, Value(""));
	RegisterMetadataFunctions(loader);
	RegisterRewriteDataFiles(loader);
	RegisterRewriteManifests(loader);
	RegisterExpireSnapshots(loader);
	RegisterRemoveOrphanFiles(loader);
	RegisterCheckpoint(loader);
	StorageExtension::Register(DBConfig::GetConfig(db), "iceberg", CreateStorageExtension(IcebergScanFunction(loader)));
	OptimizerExtension connect_while_planning;
	connect_while_planning.pre_optimize_function = PendingAttaches::ConnectWhilePlanning;
	OptimizerExtension::Register(DBConfig::GetConfig(db), std::move(connect_while_planning));
	OptimizerExtension commit_while_planning;
	commit_while_planning.pre_optimize_function = CommitWhilePlanning;
	OptimizerExtension::Register(DBConfig::GetConfig(db), std::move(commit_while_planning));
}

} // namespace floe

extern "C" void floe_glue_load(void *loader) {
	floe::Load(*static_cast<duckdb::ExtensionLoader *>(loader));
}
