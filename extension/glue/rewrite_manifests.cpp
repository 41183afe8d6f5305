#include "floe/rewrite_manifests.hpp"

#include "duckdb/function/table_function.hpp"
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
	bool done = false;
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

//! Recorded once, when the result is first asked for; the manifests are merged at COMMIT.
static void Run(ClientContext &context, TableFunctionInput &input, DataChunk &output) {
	auto &state = input.global_state->Cast<RewriteManifestsState>();
	if (state.done) {
		return;
	}
	state.done = true;
	auto &table = input.bind_data->Cast<RewriteManifestsBind>().table;
	auto &transaction = IcebergTransaction::Get(context, table.catalog);
	auto secret = S3SecretJson(context, table.Description().location);
	uint64_t rewritten = 0, added = 0;
	Check(floe_txn_rewrite_manifests(transaction.Writes(), table.Table()->Get(), secret.c_str(), &rewritten, &added));
	output.SetValue(0, 0, Value::BIGINT(static_cast<int64_t>(rewritten)));
	output.SetValue(1, 0, Value::BIGINT(static_cast<int64_t>(added)));
	output.SetCardinality(1);
}

void RegisterRewriteManifests(ExtensionLoader &loader) {
	loader.RegisterFunction(TableFunction(FUNCTION, {LogicalType::VARCHAR}, Run, Bind, Init));
}

} // namespace floe
