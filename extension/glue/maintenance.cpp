#include "floe/maintenance.hpp"

#include "floe/background_call.hpp"
#include "floe/catalog.hpp"
#include "floe/ffi.hpp"
#include "floe/json.hpp"
#include "floe/metadata_functions.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

bool ChangedInTransaction(ClientContext &context, IcebergCatalog &catalog, const string &schema, const string &table) {
	auto pending = IcebergTransaction::Get(context, catalog).PendingWrites();
	bool changed = false;
	if (pending) {
		Check(floe_txn_changes_table(pending, schema.c_str(), table.c_str(), &changed));
	}
	return changed;
}

unique_ptr<ProcedureCall> ResolveProcedureCall(ClientContext &context, const string &function, const Value &argument) {
	auto &table = ResolveTable(context, function, argument);
	auto &catalog = table.ParentCatalog().Cast<IcebergCatalog>();
	auto call = make_uniq<ProcedureCall>();
	call->catalog = catalog.Handle();
	call->schema = compat::Str(table.schema.name);
	call->table = compat::Str(table.name);
	call->location = table.Description().location;
	if (ChangedInTransaction(context, catalog, call->schema, call->table)) {
		throw InvalidInputException(
		    "%s('%s'): this transaction has uncommitted changes to %s.%s.%s, and the procedure commits on its own, "
		    "outside the transaction. Fix: COMMIT (or ROLLBACK) first, then CALL it",
		    function, argument.ToString(), compat::Str(catalog.GetName()), call->schema, call->table);
	}
	return call;
}

int64_t EpochMs(const Value &timestamp) {
	auto micros = timestamp.DefaultCastAs(LogicalType::TIMESTAMP_TZ).GetValue<timestamp_tz_t>().value;
	return micros / Interval::MICROS_PER_MSEC;
}

//! A procedure's run: its core call, then its rows.
struct ProcedureRun : public GlobalTableFunctionState {
	BackgroundCall call;
	ProgressHandle progress {floe_progress_new()};
	CoreString result;
	bool listed = false;
	vector<vector<Value>> rows;
	idx_t next = 0;
};

static unique_ptr<GlobalTableFunctionState> ProcedureInit(ClientContext &, TableFunctionInitInput &) {
	return make_uniq<ProcedureRun>();
}

static void ProcedureScan(ClientContext &, TableFunctionInput &input, DataChunk &output) {
	auto &state = input.global_state->Cast<ProcedureRun>();
	auto &call = input.bind_data->Cast<ProcedureCall>();
	if (!state.call.Started()) {
		auto parked = state.call.Start(input, [&state, &call]() {
			Check(call.core(call.catalog, call.schema.c_str(), call.table.c_str(), call.request.c_str(),
			                state.progress.get(), state.result.Out()));
		});
		if (parked) {
			return;
		}
	}
	if (!state.call.Done()) {
		return;
	}
	if (!state.listed) {
		Json doc(state.result);
		call.rows_of(doc.Root(), state.rows);
		state.listed = true;
	}
	idx_t count = 0;
	while (state.next < state.rows.size() && count < STANDARD_VECTOR_SIZE) {
		auto &row = state.rows[state.next++];
		for (idx_t column = 0; column < row.size(); column++) {
			output.SetValue(column, count, row[column]);
		}
		count++;
	}
	output.SetCardinality(count);
}

static double ProcedureProgress(ClientContext &, const FunctionData *, const GlobalTableFunctionState *state) {
	return floe_progress_percent(state->Cast<ProcedureRun>().progress.get());
}

TableFunction ProcedureFunction(const char *name, table_function_bind_t bind) {
	TableFunction function(name, {LogicalType::VARCHAR}, ProcedureScan, bind, ProcedureInit);
	function.table_scan_progress = ProcedureProgress;
	return function;
}

} // namespace floe
