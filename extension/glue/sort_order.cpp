#include "floe/sort_order.hpp"

#include "duckdb/execution/operator/order/physical_order.hpp"
#include "duckdb/main/config.hpp"
#include "duckdb/planner/expression/bound_reference_expression.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/partitioning.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

vector<SortField> ParseSortOrder(yyjson_val *array) {
	vector<SortField> fields;
	size_t index, count;
	yyjson_val *field;
	yyjson_arr_foreach(array, index, count, field) {
		auto parameter = json::Get(field, "parameter");
		fields.push_back({NumericCast<int32_t>(json::Int(json::Get(field, "source_id"))),
		                  json::String(json::Get(field, "transform")),
		                  json::IsNull(parameter) ? 0 : NumericCast<int32_t>(json::Int(parameter)),
		                  json::Bool(json::Get(field, "descending")), json::Bool(json::Get(field, "nulls_first"))});
	}
	return fields;
}

void ResolveDefaultOrders(ClientContext &context, vector<OrderByNode> &orders) {
	auto &config = DBConfig::GetConfig(context);
	for (auto &order : orders) {
		order.type = config.ResolveOrder(context, order.type);
		order.null_order = config.ResolveNullOrder(context, order.type, order.null_order);
	}
}

JsonBuilder::Value SortKeysToJson(JsonBuilder &json, const vector<OrderByNode> &orders) {
	auto result = json.Array();
	for (auto &order : orders) {
		auto key = PartitionKeyToJson(json, *order.expression);
		json.Add(key, "descending", json.Bool(order.type == OrderType::DESCENDING));
		json.Add(key, "nulls_first", json.Bool(order.null_order == OrderByNullType::NULLS_FIRST));
		json.Append(result, key);
	}
	return result;
}

vector<BoundOrderByNode> FileSortKeys(ClientContext &context, const string &table, const vector<SortField> &order,
                                      const vector<IcebergColumn> &columns) {
	vector<BoundOrderByNode> keys;
	for (idx_t i = 0; i < order.size(); i++) {
		auto &field = order[i];
		if (field.transform == "void") {
			// Always NULL: it orders nothing.
			continue;
		}
		optional_idx index;
		for (idx_t c = 0; c < columns.size(); c++) {
			if (columns[c].field_id == field.source_id) {
				index = c;
			}
		}
		if (!index.IsValid() || field.transform == "unknown") {
			throw NotImplementedException(
			    "Cannot write to Iceberg table '%s': its sort order sorts by %s of field %d, which floe cannot compute "
			    "(a nested field or a transform it does not know). Fix: ALTER TABLE %s SET SORTED BY (...) over "
			    "top-level columns, or ALTER TABLE %s RESET SORTED BY",
			    table, field.transform, field.source_id, table, table);
		}
		auto &column = columns[index.GetIndex()];
		unique_ptr<Expression> value;
		auto last = i + 1 == order.size();
		if (field.transform == "identity" || (last && field.transform != "bucket")) {
			value = make_uniq<BoundReferenceExpression>(column.type, index.GetIndex());
		} else {
			value = PartitionValue(context, {field.source_id, column.name, field.transform, field.parameter}, columns);
		}
		keys.emplace_back(field.descending ? OrderType::DESCENDING : OrderType::ASCENDING,
		                  field.nulls_first ? OrderByNullType::NULLS_FIRST : OrderByNullType::NULLS_LAST,
		                  std::move(value));
	}
	return keys;
}

#if FLOE_DUCKDB_2
//! 2.0's partitioned COPY sorts each file itself (COPY's ORDER_BY): in parallel, every sorted run
//! of a partition starting a file of its own; with no partition columns the whole write is one
//! partition.
PhysicalCopyToFile &MakeCopyToFile(PhysicalPlanGenerator &planner, CopyFunction function,
                                   unique_ptr<FunctionData> bind_data, idx_t estimated_cardinality, bool sorted) {
	return planner
	    .Make<PhysicalCopyToFile>(GetCopyFunctionReturnLogicalTypes(CopyFunctionReturnType::WRITTEN_FILE_STATISTICS),
	                              std::move(function), std::move(bind_data), estimated_cardinality)
	    .Cast<PhysicalCopyToFile>();
}

PhysicalOperator &SortEachFile(PhysicalPlanGenerator &planner, PhysicalCopyToFile &copy, PhysicalOperator &source,
                               vector<BoundOrderByNode> keys) {
	if (!keys.empty()) {
		copy.partition_output = true;
		// As DuckDB's COPY binder sets it for an ordered write.
		copy.write_empty_file = true;
		copy.order_columns = std::move(keys);
	}
	return source;
}
#else
//! 1.5's COPY cannot sort. The rows are sorted below it and written by one thread, in the order
//! they come: its partitioned writer otherwise sinks on every thread, and a file would hold the
//! rows of several threads one after the other.
class SequentialCopyToFile : public PhysicalCopyToFile {
public:
	using PhysicalCopyToFile::PhysicalCopyToFile;

	bool ParallelSink() const override {
		return false;
	}
};

PhysicalCopyToFile &MakeCopyToFile(PhysicalPlanGenerator &planner, CopyFunction function,
                                   unique_ptr<FunctionData> bind_data, idx_t estimated_cardinality, bool sorted) {
	auto types = GetCopyFunctionReturnLogicalTypes(CopyFunctionReturnType::WRITTEN_FILE_STATISTICS);
	if (sorted) {
		return planner
		    .Make<SequentialCopyToFile>(std::move(types), std::move(function), std::move(bind_data),
		                                estimated_cardinality)
		    .Cast<PhysicalCopyToFile>();
	}
	return planner
	    .Make<PhysicalCopyToFile>(std::move(types), std::move(function), std::move(bind_data), estimated_cardinality)
	    .Cast<PhysicalCopyToFile>();
}

//! Cuts rows sorted by partition into one chunk per run of a partition. 1.5's partitioned writer
//! buffers a chunk's rows per partition but appends a chunk of a single partition directly,
//! ahead of that partition's buffered rows; when every chunk holds one partition, none is
//! buffered and each partition's rows keep their order.
class PartitionRuns : public PhysicalOperator {
public:
	PartitionRuns(PhysicalPlan &physical_plan, vector<LogicalType> types, vector<idx_t> partition_columns,
	              idx_t estimated_cardinality)
	    : PhysicalOperator(physical_plan, PhysicalOperatorType::EXTENSION, std::move(types), estimated_cardinality),
	      partition_columns(std::move(partition_columns)) {
	}

	vector<idx_t> partition_columns;

	class RunState : public OperatorState {
	public:
		//! Where the next run starts in the input chunk.
		idx_t start = 0;
	};

	unique_ptr<OperatorState> GetOperatorState(ExecutionContext &context) const override {
		return make_uniq<RunState>();
	}

	OperatorResultType Execute(ExecutionContext &context, DataChunk &input, DataChunk &chunk,
	                           GlobalOperatorState &gstate, OperatorState &state_p) const override {
		auto &state = state_p.Cast<RunState>();
		auto end = state.start + 1;
		while (end < input.size() && SamePartition(input, end - 1, end)) {
			end++;
		}
		SelectionVector run(state.start, end - state.start);
		chunk.Slice(input, run, end - state.start);
		if (end < input.size()) {
			state.start = end;
			return OperatorResultType::HAVE_MORE_OUTPUT;
		}
		state.start = 0;
		return OperatorResultType::NEED_MORE_INPUT;
	}

	string GetName() const override {
		return "ICEBERG_PARTITION_RUNS";
	}

private:
	bool SamePartition(DataChunk &rows, idx_t a, idx_t b) const {
		for (auto column : partition_columns) {
			if (!Value::NotDistinctFrom(rows.GetValue(column, a), rows.GetValue(column, b))) {
				return false;
			}
		}
		return true;
	}
};

PhysicalOperator &SortEachFile(PhysicalPlanGenerator &planner, PhysicalCopyToFile &copy, PhysicalOperator &source,
                               vector<BoundOrderByNode> keys) {
	if (keys.empty()) {
		return source;
	}
	vector<BoundOrderByNode> orders;
	for (auto column : copy.partition_columns) {
		orders.emplace_back(OrderType::ASCENDING, OrderByNullType::NULLS_LAST,
		                    make_uniq<BoundReferenceExpression>(source.types[column], column));
	}
	for (auto &key : keys) {
		orders.push_back(std::move(key));
	}
	vector<idx_t> projections;
	for (idx_t i = 0; i < source.types.size(); i++) {
		projections.push_back(i);
	}
	auto &order = planner.Make<PhysicalOrder>(source.types, std::move(orders), std::move(projections),
	                                          source.estimated_cardinality);
	order.children.push_back(source);
	if (copy.partition_columns.empty()) {
		return order;
	}
	auto &runs = planner.Make<PartitionRuns>(source.types, copy.partition_columns, source.estimated_cardinality);
	runs.children.push_back(order);
	return runs;
}
#endif

} // namespace floe
