#include "floe/delete.hpp"

#include "duckdb/common/multi_file/multi_file_reader.hpp"
#include "duckdb/execution/operator/scan/physical_table_scan.hpp"
#include "duckdb/planner/expression/bound_reference_expression.hpp"
#include "floe/deleted_rows.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/filters.hpp"
#include "floe/json.hpp"
#include "floe/scan_info.hpp"

namespace floe {

using namespace duckdb;

IcebergDelete::IcebergDelete(PhysicalPlan &physical_plan, IcebergTableEntry &table, idx_t file_column, idx_t row_column,
                             string request_json)
    : PhysicalOperator(physical_plan, PhysicalOperatorType::EXTENSION, {LogicalType::BIGINT}, 1), table(table),
      file_column(file_column), row_column(row_column), request_json(std::move(request_json)) {
}

//! The scan of `table` in `plan` that produces its row-id columns: the one whose rows are deleted
//! (a self-join scans the table twice).
static optional_ptr<PhysicalTableScan> RowIdScan(IcebergTableEntry &table, PhysicalOperator &plan) {
	if (plan.type == PhysicalOperatorType::TABLE_SCAN) {
		auto &scan = plan.Cast<PhysicalTableScan>();
		auto info =
		    scan.function.function_info ? dynamic_cast<IcebergScanInfo *>(scan.function.function_info.get()) : nullptr;
		bool file = false;
		bool row = false;
		for (auto &column : scan.column_ids) {
			file |= column.GetPrimaryIndex() == MultiFileReader::COLUMN_IDENTIFIER_FILENAME;
			row |= column.GetPrimaryIndex() == MultiFileReader::COLUMN_IDENTIFIER_FILE_ROW_NUMBER;
		}
		if (info && &info->entry == &table && file && row) {
			return scan;
		}
	}
	for (auto &child : plan.children) {
		auto found = RowIdScan(table, child.get());
		if (found) {
			return found;
		}
	}
	return nullptr;
}

string IcebergDelete::Request(IcebergTableEntry &table, PhysicalOperator &child, const char *operation,
                              bool refuse_repeats) {
	JsonBuilder json;
	auto request = json.Add(json.Object(), "operation", json.String(operation));
	json.Add(request, "refuse_repeats", json.Bool(refuse_repeats));
	auto scan = RowIdScan(table, child);
	string filter;
	if (scan && scan->table_filters) {
		vector<column_t> column_ids;
		for (auto &column : scan->column_ids) {
			column_ids.push_back(column.GetPrimaryIndex());
		}
		filter = FiltersToJson(*scan->table_filters, column_ids, table.Description().columns);
	}
	// Without the scan's filters every concurrently added row counts as one the statement could match.
	json.Add(request, "filter", filter.empty() ? json.Null() : json.Raw(filter));
	return json.Write(request);
}

PhysicalOperator &IcebergDelete::Plan(ClientContext &context, PhysicalPlanGenerator &planner, LogicalDelete &op,
                                      PhysicalOperator &child) {
	auto &table = op.table.Cast<IcebergTableEntry>();
	if (op.expressions.size() != 2) {
		throw InternalException("DELETE on Iceberg table '%s' expects 2 row-id columns, got %d",
		                        compat::Str(table.name), op.expressions.size());
	}
	auto file_column = compat::ReferenceIndex(op.expressions[0]->Cast<BoundReferenceExpression>());
	auto row_column = compat::ReferenceIndex(op.expressions[1]->Cast<BoundReferenceExpression>());
	auto &result = planner.Make<IcebergDelete>(table, file_column, row_column, Request(table, child, "delete", false))
	                   .Cast<IcebergDelete>();
	result.children.push_back(child);
	return result;
}

class IcebergDeleteLocalState : public LocalSinkState {
public:
	PositionsByFile positions;
};

class IcebergDeleteGlobalState : public GlobalSinkState {
public:
	explicit IcebergDeleteGlobalState(DeletedRows::Repeats repeats, IcebergTableEntry &table, const string &request)
	    : rows(table, request, repeats) {
	}
	DeletedRows rows;
	uint64_t deleted = 0;
};

unique_ptr<GlobalSinkState> IcebergDelete::GetGlobalSinkState(ClientContext &context) const {
	return make_uniq<IcebergDeleteGlobalState>(DeletedRows::Repeats::KEEP, table, request_json);
}

unique_ptr<LocalSinkState> IcebergDelete::GetLocalSinkState(ExecutionContext &context) const {
	return make_uniq<IcebergDeleteLocalState>();
}

SinkResultType IcebergDelete::Sink(ExecutionContext &context, DataChunk &chunk, OperatorSinkInput &input) const {
	auto &local = input.local_state.Cast<IcebergDeleteLocalState>();
	CollectPositions(chunk, file_column, row_column, compat::Str(table.name), local.positions);
	return SinkResultType::NEED_MORE_INPUT;
}

SinkCombineResultType IcebergDelete::Combine(ExecutionContext &context, OperatorSinkCombineInput &input) const {
	auto &local = input.local_state.Cast<IcebergDeleteLocalState>();
	input.global_state.Cast<IcebergDeleteGlobalState>().rows.Add(std::move(local.positions));
	return SinkCombineResultType::FINISHED;
}

SinkFinalizeType IcebergDelete::Finalize(Pipeline &pipeline, Event &event, ClientContext &context,
                                         OperatorSinkFinalizeInput &input) const {
	auto &global = input.global_state.Cast<IcebergDeleteGlobalState>();
	global.deleted = global.rows.Commit(context);
	return SinkFinalizeType::READY;
}

SourceResultType IcebergDelete::GetDataInternal(ExecutionContext &context, DataChunk &chunk,
                                                OperatorSourceInput &input) const {
	auto &global = sink_state->Cast<IcebergDeleteGlobalState>();
	chunk.SetCardinality(1);
	chunk.SetValue(0, 0, Value::BIGINT(NumericCast<int64_t>(global.deleted)));
	return SourceResultType::FINISHED;
}

} // namespace floe
