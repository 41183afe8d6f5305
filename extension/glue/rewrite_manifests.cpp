#include "floe/rewrite_manifests.hpp"

#include "duckdb/function/table_function.hpp"
#include "floe/background_call.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/metadata_functions.hpp"
#include "floe/secret.hpp"
#include "floe/table_entry.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

static constexpr const char *FUNCTION = "floe_rewrite_manifests";

struct RewriteManifestsBind : public TableFunctionData {
	explicit RewriteManifestsBind(IcebergTableEntry &table) : table(table) {
	}
	IcebergTableEntry &table;
};

struct RewriteManifestsState : public GlobalTableFunctionState {
	BackgroundCall call;
	//! Bytes of the manifests to merge that are merged.
	ProgressHandle progress {floe_progress_new()};
	uint64_t rewritten = 0;
	uint64_t added = 0;
	bool emitted = false;
};

static unique_ptr<FunctionData> Bind(ClientContext &context, TableFunctionBindInput &input,
                                     vector<LogicalType> &return_types, compat::Names &names) {
	auto &table = ResolveTable(context, FUNCTION, input.inputs[0]);
	names = {"rewritten_manifests_count", "added_manifests_count"};
	return_types = {LogicalType::BIGINT, LogicalType::BIGINT};
	return make_uniq<RewriteManifestsBind>(table);
}

static unique_ptr<GlobalTableFunctionState> Init(ClientContext &, TableFunctionInitInput &) {
	return make_uniq<RewriteManifestsState>();
}

//! The manifests are merged once, when the result is first asked for, in the background where
//! DuckDB allows (so its progress shows); the merge commits with the transaction.
static void Run(ClientContext &context, TableFunctionInput &input, DataChunk &output) {
	auto &state = input.global_state->Cast<RewriteManifestsState>();
	if (state.emitted) {
		return;
	}
	if (!state.call.Started()) {
		auto &table = input.bind_data->Cast<RewriteManifestsBind>().table;
		auto writes = IcebergTransaction::Get(context, table.catalog).Writes();
		auto secret = StorageSecretJson(context, table.Description().location);
		auto parked = state.call.Start(input, [&state, &table, writes, secret]() {
			Check(floe_txn_rewrite_manifests(writes, table.Table()->Get(), secret.c_str(), state.progress.get(),
			                                 &state.rewritten, &state.added));
		});
		if (parked) {
			return;
		}
	}
	if (!state.call.Done()) {
		return;
	}
	state.emitted = true;
	output.SetValue(0, 0, Value::BIGINT(static_cast<int64_t>(state.rewritten)));
	output.SetValue(1, 0, Value::BIGINT(static_cast<int64_t>(state.added)));
	output.SetCardinality(1);
}

static double Progress(ClientContext &, const FunctionData *, const GlobalTableFunctionState *state) {
	return floe_progress_percent(state->Cast<RewriteManifestsState>().progress.get());
}

void RegisterRewriteManifests(ExtensionLoader &loader) {
	TableFunction function(FUNCTION, {LogicalType::VARCHAR}, Run, Bind, Init);
	function.table_scan_progress = Progress;
	loader.RegisterFunction(function);
}

} // namespace floe
