#include "floe/merge.hpp"

#include "duckdb/execution/expression_executor.hpp"
#include "duckdb/planner/expression/bound_cast_expression.hpp"
#include "floe/delete.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/insert.hpp"

namespace floe {

using namespace duckdb;

static const char *ConditionText(MergeActionCondition condition) {
	switch (condition) {
	case MergeActionCondition::WHEN_MATCHED:
		return "WHEN MATCHED";
	case MergeActionCondition::WHEN_NOT_MATCHED_BY_SOURCE:
		return "WHEN NOT MATCHED BY SOURCE";
	default:
		return "WHEN NOT MATCHED BY TARGET";
	}
}

//! The values of an UPDATE or INSERT clause as one full new row in table order, cast to the column types.
static vector<unique_ptr<Expression>> NewRow(ClientContext &context, LogicalMergeInto &op, BoundMergeIntoAction &action,
                                             const string &table) {
	auto &columns = op.table.GetColumns();
	auto width = columns.PhysicalColumnCount();
	vector<unique_ptr<Expression>> row(width);
	auto value = [&](unique_ptr<Expression> expression, idx_t physical) {
		if (expression->GetExpressionClass() == ExpressionClass::BOUND_DEFAULT) {
			expression = op.bound_defaults[physical]->Copy();
		}
		auto &type = columns.GetColumn(PhysicalIndex(physical)).Type();
		return BoundCastExpression::AddCastToType(context, std::move(expression), type);
	};
	if (action.action_type == MergeActionType::MERGE_UPDATE) {
		if (action.columns.size() != width) {
			throw InternalException("MERGE UPDATE of Iceberg table '%s' did not project every column", table);
		}
		for (idx_t i = 0; i < width; i++) {
			row[action.columns[i].index] = value(std::move(action.expressions[i]), action.columns[i].index);
		}
	} else if (!action.column_index_map.empty()) {
		// An INSERT column list (DuckDB 1.5): the listed values, defaults for the rest.
		for (idx_t i = 0; i < width; i++) {
			auto mapped = action.column_index_map[PhysicalIndex(i)];
			row[i] = mapped == DConstants::INVALID_INDEX ? op.bound_defaults[i]->Copy()
			                                             : value(std::move(action.expressions[mapped]), i);
		}
	} else {
		for (idx_t i = 0; i < width; i++) {
			row[i] = value(std::move(action.expressions[i]), i);
		}
	}
	return row;
}

PhysicalOperator &IcebergMerge::Plan(ClientContext &context, PhysicalPlanGenerator &planner, LogicalMergeInto &op,
                                     PhysicalOperator &child) {
	auto &table = op.table.Cast<IcebergTableEntry>();
	CheckRowLevelTarget(table, "MERGE", op.return_chunk);
	auto name = compat::Str(table.name);
	vector<LogicalType> types;
	for (auto &column : table.Description().columns) {
		types.push_back(column.type);
	}
	auto &rows = planner.Make<IcebergMergeRows>(types, child.estimated_cardinality).Cast<IcebergMergeRows>();
	rows.table_name = name;
	rows.row_id_start = op.row_id_start;
	rows.source_marker = op.source_marker;
	for (auto &entry : op.actions) {
		for (auto &action : entry.second) {
			MergeClause clause;
			clause.type = action->action_type;
			clause.text = ConditionText(entry.first);
			if (action->condition) {
				clause.text += " AND " + action->condition->ToString();
				clause.condition = std::move(action->condition);
			}
			switch (action->action_type) {
			case MergeActionType::MERGE_UPDATE:
			case MergeActionType::MERGE_INSERT:
				clause.values = NewRow(context, op, *action, name);
				break;
			case MergeActionType::MERGE_ERROR:
				clause.values = std::move(action->expressions);
				break;
			default:
				break;
			}
			rows.clauses[static_cast<idx_t>(entry.first)].push_back(std::move(clause));
		}
	}
	rows.deleted_rows = make_shared_ptr<DeletedRows>(table, IcebergDelete::Request(table, child, "merge", true),
	                                                 DeletedRows::Repeats::REFUSE);
	rows.merged = make_shared_ptr<std::atomic<idx_t>>(0);
	rows.children.push_back(child);
	auto &insert = IcebergInsert::Plan(context, planner, table, rows).Cast<IcebergInsert>();
	insert.deleted_rows = rows.deleted_rows;
	insert.statement_rows = rows.merged;
	return insert;
}

IcebergMergeRows::IcebergMergeRows(PhysicalPlan &physical_plan, vector<LogicalType> types, idx_t estimated_cardinality)
    : PhysicalOperator(physical_plan, PhysicalOperatorType::EXTENSION, std::move(types), estimated_cardinality) {
}

//! One thread's evaluators of the clauses.
class MergeRowsState : public OperatorState {
public:
	MergeRowsState(ClientContext &context, const IcebergMergeRows &op) {
		for (auto &kind : op.clauses) {
			for (auto &clause : kind) {
				conditions.push_back(clause.condition ? make_uniq<ExpressionExecutor>(context, *clause.condition)
				                                      : nullptr);
				values.push_back(clause.values.empty() ? nullptr
				                                       : make_uniq<ExpressionExecutor>(context, clause.values));
			}
		}
		auto input_types = op.children[0].get().types;
		sliced.Initialize(context, input_types);
		row.Initialize(context, op.types);
	}

	vector<unique_ptr<ExpressionExecutor>> conditions;
	vector<unique_ptr<ExpressionExecutor>> values;
	DataChunk sliced;
	DataChunk row;
};

unique_ptr<OperatorState> IcebergMergeRows::GetOperatorState(ExecutionContext &context) const {
	return make_uniq<MergeRowsState>(context.client, *this);
}

OperatorResultType IcebergMergeRows::Execute(ExecutionContext &context, DataChunk &input, DataChunk &chunk,
                                             GlobalOperatorState &gstate, OperatorState &state_p) const {
	auto &state = state_p.Cast<MergeRowsState>();
	// Which rows have a target row, and which a source row.
	UnifiedVectorFormat target;
	input.data[row_id_start].ToUnifiedFormat(input.size(), target);
	UnifiedVectorFormat source;
	if (source_marker.IsValid()) {
		input.data[source_marker.GetIndex()].ToUnifiedFormat(input.size(), source);
	}
	SelectionVector kinds[3] = {SelectionVector(input.size()), SelectionVector(input.size()),
	                            SelectionVector(input.size())};
	idx_t counts[3] = {0, 0, 0};
	for (idx_t i = 0; i < input.size(); i++) {
		auto has_source = !source_marker.IsValid() || source.validity.RowIsValid(source.sel->get_index(i));
		auto has_target = target.validity.RowIsValid(target.sel->get_index(i));
		auto kind = !has_source  ? MergeActionCondition::WHEN_NOT_MATCHED_BY_SOURCE
		            : has_target ? MergeActionCondition::WHEN_MATCHED
		                         : MergeActionCondition::WHEN_NOT_MATCHED_BY_TARGET;
		auto k = static_cast<idx_t>(kind);
		kinds[k].set_index(counts[k]++, i);
	}

	SelectionVector selected(input.size());
	SelectionVector remaining(input.size());
	SelectionVector first(input.size());
	idx_t clause_index = 0;
	for (idx_t k = 0; k < 3; k++) {
		SelectionVector current(input.size());
		for (idx_t i = 0; i < counts[k]; i++) {
			current.set_index(i, kinds[k].get_index(i));
		}
		auto left = counts[k];
		for (auto &clause : clauses[k]) {
			auto index = clause_index++;
			if (left == 0) {
				continue;
			}
			idx_t count;
			if (clause.condition) {
				count = state.conditions[index]->SelectExpression(input, &selected, &remaining, &current, left);
				for (idx_t i = 0; i < left - count; i++) {
					current.set_index(i, remaining.get_index(i));
				}
				left -= count;
			} else {
				for (idx_t i = 0; i < left; i++) {
					selected.set_index(i, current.get_index(i));
				}
				count = left;
				left = 0;
			}
			if (count == 0) {
				continue;
			}
			switch (clause.type) {
			case MergeActionType::MERGE_DO_NOTHING:
				continue;
			case MergeActionType::MERGE_ERROR: {
				string message;
				if (!clause.values.empty()) {
					state.sliced.Reset();
					state.sliced.Slice(input, selected, count);
					DataChunk text;
					text.Initialize(context.client, {compat::ReturnType(*clause.values[0])});
					state.values[index]->Execute(state.sliced, text);
					message = ": " + text.GetValue(0, 0).ToString();
				}
				throw ConstraintException("MERGE into Iceberg table '%s' reached %s THEN ERROR%s", table_name,
				                          clause.text, message);
			}
			case MergeActionType::MERGE_DELETE:
			case MergeActionType::MERGE_UPDATE:
				// Refuses a target row matched a second time (in this chunk or another).
				deleted_rows->AddFirst(input, row_id_start, row_id_start + 1, selected, count, first);
				break;
			default:
				break;
			}
			*merged += count;
			if (clause.values.empty()) {
				continue;
			}
			state.sliced.Reset();
			state.sliced.Slice(input, selected, count);
			state.row.Reset();
			state.values[index]->Execute(state.sliced, state.row);
			chunk.Append(state.row);
		}
	}
	return OperatorResultType::NEED_MORE_INPUT;
}

} // namespace floe
