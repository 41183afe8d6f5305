// CALL floe_remove_orphan_files('cat.ns.table', older_than => .., dry_run => ..): Spark's
// procedure, run by the core (floe_core::maintenance::orphans) when the call executes; one
// row per file deleted, or that would be with dry_run.
#include "floe/ffi.hpp"
#include "floe/json.hpp"
#include "floe/maintenance.hpp"
#include "floe/secret.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static const char *const FUNCTION = "floe_remove_orphan_files";

static unique_ptr<FunctionData> OrphansBind(ClientContext &context, TableFunctionBindInput &input,
                                            vector<LogicalType> &return_types, compat::Names &names) {
	auto call = ResolveProcedureCall(context, FUNCTION, input.inputs[0]);
	JsonBuilder json;
	auto request = json.Object();
	for (auto &argument : input.named_parameters) {
		auto &key = compat::Str(argument.first);
		auto &value = argument.second;
		if (value.IsNull()) {
			continue;
		}
		if (key == "older_than") {
			json.Add(request, "older_than_ms", json.Int(EpochMs(value)));
		} else if (key == "dry_run") {
			json.Add(request, "dry_run", json.Bool(value.GetValue<bool>()));
		}
	}
	json.Add(request, "s3_secret", S3Secret(json, context, call->location));
	call->request = json.Write(request);
	names.emplace_back("orphan_file_location");
	return_types.push_back(LogicalType::VARCHAR);
	return std::move(call);
}

static unique_ptr<GlobalTableFunctionState> OrphansRun(ClientContext &context, TableFunctionInitInput &input) {
	auto &call = input.bind_data->Cast<ProcedureCall>();
	CoreString text;
	Check(floe_remove_orphan_files(call.catalog, call.schema.c_str(), call.table.c_str(), call.request.c_str(),
	                               text.Out()));
	Json doc(text);
	auto state = make_uniq<ProcedureRows>();
	size_t index, count;
	yyjson_val *path;
	yyjson_arr_foreach(doc.Root(), index, count, path) {
		state->rows.push_back({Value(json::String(path))});
	}
	return std::move(state);
}

void RegisterRemoveOrphanFiles(ExtensionLoader &loader) {
	TableFunction function(FUNCTION, {LogicalType::VARCHAR}, ProcedureScan, OrphansBind, OrphansRun);
	compat::SetNamedParameters(function,
	                           {{"older_than", LogicalType::TIMESTAMP_TZ}, {"dry_run", LogicalType::BOOLEAN}});
	loader.RegisterFunction(function);
}

} // namespace floe
