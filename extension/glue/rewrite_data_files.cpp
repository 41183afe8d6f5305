#include "floe/rewrite_data_files.hpp"

#include "duckdb/function/table_function.hpp"
#include "floe/background_call.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/json.hpp"
#include "floe/metadata_functions.hpp"
#include "floe/secret.hpp"
#include "floe/table_entry.hpp"
#include "floe/transaction.hpp"
#include "floe/where_filter.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static constexpr const char *FUNCTION = "floe_rewrite_data_files";

struct RewriteBind : public TableFunctionData {
	explicit RewriteBind(IcebergTableEntry &table) : table(table) {
	}
	IcebergTableEntry &table;
	string options_json;
};

struct RewriteState : public GlobalTableFunctionState {
	BackgroundCall call;
	//! Bytes of the files chosen for rewriting that are rewritten.
	ProgressHandle progress {floe_progress_new()};
	CoreString outcome;
	bool emitted = false;
};

static unique_ptr<FunctionData> Bind(ClientContext &context, TableFunctionBindInput &input,
                                     vector<LogicalType> &return_types, compat::Names &names) {
	auto &table = ResolveTable(context, FUNCTION, input.inputs[0]);
	auto named = [&](const char *name) {
		auto entry = input.named_parameters.find(name);
		return entry == input.named_parameters.end() ? Value() : entry->second;
	};
	auto strategy_value = named("strategy");
	auto strategy = strategy_value.IsNull() ? string("binpack") : StringUtil::Lower(strategy_value.ToString());
	if (strategy != "binpack" && strategy != "sort") {
		throw InvalidInputException("%s: strategy '%s' is not one of 'binpack', 'sort'", FUNCTION, strategy);
	}
	auto target_size = named("target_file_size_bytes");
	if (!target_size.IsNull() && target_size.GetValue<int64_t>() <= 0) {
		throw InvalidInputException("%s: target_file_size_bytes must be positive", FUNCTION);
	}
	auto min_input = named("min_input_files");
	if (!min_input.IsNull() && min_input.GetValue<int64_t>() < 1) {
		throw InvalidInputException("%s: min_input_files must be at least 1", FUNCTION);
	}
	auto where = named("where");
	auto filter = where.IsNull()
	                  ? string("null")
	                  : WhereToFilterJson(context, StringUtil::Format("%s('%s')", FUNCTION, input.inputs[0].ToString()),
	                                      where.ToString(), table.Description().columns);
	auto result = make_uniq<RewriteBind>(table);
	result->options_json =
	    StringUtil::Format(R"({"strategy":"%s","target_file_size_bytes":%s,"min_input_files":%s,"where":%s})", strategy,
	                       target_size.IsNull() ? "null" : std::to_string(target_size.GetValue<int64_t>()),
	                       min_input.IsNull() ? "null" : std::to_string(min_input.GetValue<int64_t>()), filter);
	names = {"rewritten_data_files_count", "added_data_files_count", "rewritten_bytes_count",
	         "failed_data_files_count"};
	return_types = {LogicalType::BIGINT, LogicalType::BIGINT, LogicalType::BIGINT, LogicalType::BIGINT};
	return std::move(result);
}

static unique_ptr<GlobalTableFunctionState> Init(ClientContext &, TableFunctionInitInput &) {
	return make_uniq<RewriteState>();
}

//! The rewrite runs once, when the result is first asked for, in the background where DuckDB
//! allows (so its progress shows), and commits with the transaction.
static void Run(ClientContext &context, TableFunctionInput &input, DataChunk &output) {
	auto &state = input.global_state->Cast<RewriteState>();
	if (state.emitted) {
		return;
	}
	if (!state.call.Started()) {
		auto &bind = input.bind_data->Cast<RewriteBind>();
		auto writes = IcebergTransaction::Get(context, bind.table.catalog).Writes();
		auto secret = StorageSecretJson(context, bind.table.Description().location);
		auto parked = state.call.Start(input, [&state, &bind, writes, secret]() {
			Check(floe_txn_rewrite_data_files(writes, bind.table.Table()->Get(), bind.options_json.c_str(),
			                                  secret.c_str(), state.progress.get(), state.outcome.Out()));
		});
		if (parked) {
			return;
		}
	}
	if (!state.call.Done()) {
		return;
	}
	state.emitted = true;
	Json doc(state.outcome);
	auto count = [&](const char *key) {
		return Value::BIGINT(json::Int(json::Get(doc.Root(), key)));
	};
	output.SetValue(0, 0, count("rewritten_data_files_count"));
	output.SetValue(1, 0, count("added_data_files_count"));
	output.SetValue(2, 0, count("rewritten_bytes_count"));
	output.SetValue(3, 0, Value::BIGINT(0));
	output.SetCardinality(1);
}

static double Progress(ClientContext &, const FunctionData *, const GlobalTableFunctionState *state) {
	return floe_progress_percent(state->Cast<RewriteState>().progress.get());
}

void RegisterRewriteDataFiles(ExtensionLoader &loader) {
	TableFunction function(FUNCTION, {LogicalType::VARCHAR}, Run, Bind, Init);
	function.table_scan_progress = Progress;
	compat::SetNamedParameters(function, {{"strategy", LogicalType::VARCHAR},
	                                      {"target_file_size_bytes", LogicalType::BIGINT},
	                                      {"min_input_files", LogicalType::BIGINT},
	                                      {"where", LogicalType::VARCHAR}});
	loader.RegisterFunction(function);
}

} // namespace floe
