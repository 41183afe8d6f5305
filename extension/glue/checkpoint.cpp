#include "floe/checkpoint.hpp"

#include "duckdb/catalog/catalog.hpp"
#include "duckdb/function/table_function.hpp"
#include "duckdb/logging/logger.hpp"
#include "floe/background_call.hpp"
#include "floe/catalog.hpp"
#include "floe/ffi.hpp"
#include "floe/json.hpp"
#include "floe/maintenance.hpp"
#include "floe/secret.hpp"
#include "floe/table_entry.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static constexpr const char *FUNCTION = "floe_checkpoint";

const vector<string> &CatalogCheckpoint::CountColumns() {
	static const vector<string> columns = {"expired_files_count",    "rewritten_data_files_count",
	                                       "added_data_files_count", "rewritten_manifests_count",
	                                       "added_manifests_count",  "orphan_files_count"};
	return columns;
}

CatalogCheckpoint::CatalogCheckpoint(ClientContext &context, IcebergCatalog &catalog) : catalog(catalog) {
	catalog.ScanSchemas(context, [&](SchemaCatalogEntry &schema) {
		schema.Scan(context, CatalogType::TABLE_ENTRY, [&](CatalogEntry &entry) {
			auto &table = entry.Cast<IcebergTableEntry>();
			tables.push_back({compat::Str(schema.name), compat::Str(table.name), table.Description().location});
		});
	});
}

bool CatalogCheckpoint::Next(ClientContext &context, CheckpointedTable &result) {
	if (!Begin(context)) {
		return false;
	}
	Work();
	result = End(context);
	return true;
}

bool CatalogCheckpoint::Begin(ClientContext &context) {
	if (next >= tables.size()) {
		return false;
	}
	auto &table = tables[next];
	current = CheckpointedTable();
	current.name = table.schema + "." + table.name;
	current.counts.assign(CountColumns().size(), 0);
	outcome.Out();
	secret.clear();
	if (ChangedInTransaction(context, catalog, table.schema, table.name)) {
		current.error = "this transaction has uncommitted changes to it; COMMIT (or ROLLBACK) first";
	} else {
		secret = StorageSecretJson(context, table.location);
	}
	return true;
}

void CatalogCheckpoint::Work() {
	if (!current.error.empty()) {
		return;
	}
	auto &table = tables[next];
	try {
		Check(floe_checkpoint_table(catalog.Handle(), DuckDB::LibraryVersion(), table.schema.c_str(),
		                            table.name.c_str(), secret.c_str(), outcome.Out()));
	} catch (std::exception &ex) {
		current.error = ErrorData(ex).Message();
		return;
	}
	Json doc(outcome);
	for (idx_t i = 0; i < CountColumns().size(); i++) {
		current.counts[i] = json::Int(json::Get(doc.Root(), CountColumns()[i].c_str()));
	}
	auto join = [&](const char *key) {
		vector<string> parts;
		size_t index, count;
		yyjson_val *part;
		yyjson_arr_foreach(json::Get(doc.Root(), key), index, count, part) {
			parts.push_back(json::String(part));
		}
		return StringUtil::Join(parts, "; ");
	};
	current.note = join("notes");
	current.error = join("errors");
}

CheckpointedTable CatalogCheckpoint::End(ClientContext &context) {
	next++;
	DUCKDB_LOG_INFO(context, "%s('%s'): %s (%llu of %llu): %s", FUNCTION, compat::Str(catalog.GetName()), current.name,
	                static_cast<unsigned long long>(next), static_cast<unsigned long long>(tables.size()),
	                current.error.empty() ? "done" : current.error);
	return std::move(current);
}

double CatalogCheckpoint::Progress() const {
	return tables.empty() ? 100.0 : 100.0 * static_cast<double>(next) / static_cast<double>(tables.size());
}

struct CheckpointBind : public TableFunctionData {
	explicit CheckpointBind(IcebergCatalog &catalog) : catalog(catalog) {
	}
	IcebergCatalog &catalog;
};

struct CheckpointState : public GlobalTableFunctionState {
	unique_ptr<CatalogCheckpoint> run;
	//! The current table's work, in the background where DuckDB allows, so the progress moves.
	unique_ptr<BackgroundCall> call;
};

static unique_ptr<FunctionData> Bind(ClientContext &context, TableFunctionBindInput &input,
                                     vector<LogicalType> &return_types, compat::Names &names) {
	if (input.inputs[0].IsNull()) {
		throw InvalidInputException("%s(NULL): name the attached Iceberg catalog, e.g. %s('lake')", FUNCTION, FUNCTION);
	}
	auto name = input.inputs[0].ToString();
	auto &catalog = Catalog::GetCatalog(context, compat::CatalogName(name));
	if (catalog.GetCatalogType() != "iceberg") {
		throw InvalidInputException("%s('%s'): '%s' is not an attached Iceberg catalog (ATTACH ... (TYPE ICEBERG))",
		                            FUNCTION, name, name);
	}
	names.emplace_back("table_name");
	return_types.push_back(LogicalType::VARCHAR);
	for (auto &column : CatalogCheckpoint::CountColumns()) {
		names.emplace_back(column);
		return_types.push_back(LogicalType::BIGINT);
	}
	names.emplace_back("note");
	return_types.push_back(LogicalType::VARCHAR);
	names.emplace_back("error");
	return_types.push_back(LogicalType::VARCHAR);
	return make_uniq<CheckpointBind>(catalog.Cast<IcebergCatalog>());
}

static unique_ptr<GlobalTableFunctionState> Init(ClientContext &context, TableFunctionInitInput &input) {
	auto state = make_uniq<CheckpointState>();
	state->run = make_uniq<CatalogCheckpoint>(context, input.bind_data->Cast<CheckpointBind>().catalog);
	return std::move(state);
}

//! One table per call, so its row is out as soon as it is done.
static void Run(ClientContext &context, TableFunctionInput &input, DataChunk &output) {
	auto &state = input.global_state->Cast<CheckpointState>();
	auto &run = *state.run;
	if (!state.call) {
		if (!run.Begin(context)) {
			return;
		}
		state.call = make_uniq<BackgroundCall>();
		if (state.call->Start(input, [&run]() { run.Work(); })) {
			return;
		}
	}
	if (!state.call->Done()) {
		return;
	}
	state.call.reset();
	auto table = run.End(context);
	idx_t column = 0;
	output.SetValue(column++, 0, Value(table.name));
	for (auto count : table.counts) {
		output.SetValue(column++, 0, Value::BIGINT(count));
	}
	output.SetValue(column++, 0, table.note.empty() ? Value() : Value(table.note));
	output.SetValue(column++, 0, table.error.empty() ? Value() : Value(table.error));
	output.SetCardinality(1);
}

static double Progress(ClientContext &, const FunctionData *, const GlobalTableFunctionState *state) {
	return state->Cast<CheckpointState>().run->Progress();
}

void RegisterCheckpoint(ExtensionLoader &loader) {
	TableFunction function(FUNCTION, {LogicalType::VARCHAR}, Run, Bind, Init);
	function.table_scan_progress = Progress;
	loader.RegisterFunction(function);
}

} // namespace floe
