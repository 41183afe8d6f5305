#include "floe/filters.hpp"

#include "duckdb/planner/expression/bound_constant_expression.hpp"
#include "duckdb/planner/expression_iterator.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/values.hpp"

namespace floe {

using namespace duckdb;

const char *ComparisonName(ExpressionType type) {
	switch (type) {
	case ExpressionType::COMPARE_EQUAL:
		return "eq";
	case ExpressionType::COMPARE_NOTEQUAL:
		return "ne";
	case ExpressionType::COMPARE_LESSTHAN:
		return "lt";
	case ExpressionType::COMPARE_LESSTHANOREQUALTO:
		return "le";
	case ExpressionType::COMPARE_GREATERTHAN:
		return "gt";
	case ExpressionType::COMPARE_GREATERTHANOREQUALTO:
		return "ge";
	default:
		return nullptr;
	}
}

JsonBuilder::Value FilterJunction(JsonBuilder &json, const char *op, const vector<JsonBuilder::Value> &args) {
	auto array = json.Array();
	for (auto &arg : args) {
		json.Append(array, arg);
	}
	auto junction = json.Add(json.Object(), "op", json.String(op));
	return json.Add(junction, "args", array);
}

JsonBuilder::Value FilterOnField(JsonBuilder &json, const char *op, int32_t field_id) {
	auto filter = json.Add(json.Object(), "op", json.String(op));
	return json.Add(filter, "field_id", json.Int(field_id));
}

//! The filter's column itself (a pushed-down filter refers to its column as reference 0).
static bool IsColumn(const Expression &expression) {
	return expression.GetExpressionClass() == ExpressionClass::BOUND_REF;
}

static optional_ptr<const Value> Constant(const Expression &expression) {
	if (expression.GetExpressionClass() != ExpressionClass::BOUND_CONSTANT) {
		return nullptr;
	}
	return &compat::ConstantValue(expression.Cast<BoundConstantExpression>());
}

static vector<reference<const Expression>> Children(const Expression &expression) {
	vector<reference<const Expression>> children;
	ExpressionIterator::EnumerateChildren(expression, [&](const Expression &child) { children.push_back(child); });
	return children;
}

//! One filter on the column with `field_id`; nullptr if it has no Iceberg form. Inside an OR,
//! one inexpressible branch makes the whole OR inexpressible; inside an AND it is left out.
static JsonBuilder::Value FilterToJson(JsonBuilder &json, const Expression &filter, int32_t field_id) {
	ExpressionType type;
	optional_ptr<const Expression> left, right;
	if (compat::Comparison(filter, type, left, right)) {
		auto constant = Constant(*right);
		if (!IsColumn(*left) || !constant) {
			constant = Constant(*left);
			if (!IsColumn(*right) || !constant) {
				return nullptr;
			}
			type = FlipComparisonExpression(type);
		}
		auto cmp = ComparisonName(type);
		auto value = ValueToJson(json, *constant);
		if (!cmp || !value) {
			return nullptr;
		}
		auto comparison = FilterOnField(json, "cmp", field_id);
		json.Add(comparison, "cmp", json.String(cmp));
		return json.Add(comparison, "value", value);
	}
	// Optional for the reader, but still true of every row that matches: fine for pruning.
	auto optional = compat::OptionalFilterChild(filter);
	if (optional) {
		return FilterToJson(json, *optional, field_id);
	}
	auto children = Children(filter);
	switch (filter.GetExpressionType()) {
	case ExpressionType::OPERATOR_IS_NULL:
	case ExpressionType::OPERATOR_IS_NOT_NULL:
		if (children.size() != 1 || !IsColumn(children[0])) {
			return nullptr;
		}
		return FilterOnField(json,
		                     filter.GetExpressionType() == ExpressionType::OPERATOR_IS_NULL ? "is_null" : "not_null",
		                     field_id);
	case ExpressionType::COMPARE_IN: {
		if (children.empty() || !IsColumn(children[0])) {
			return nullptr;
		}
		auto values = json.Array();
		for (idx_t i = 1; i < children.size(); i++) {
			auto constant = Constant(children[i]);
			auto tagged = constant ? ValueToJson(json, *constant) : nullptr;
			if (!tagged) {
				return nullptr;
			}
			json.Append(values, tagged);
		}
		return json.Add(FilterOnField(json, "in", field_id), "values", values);
	}
	case ExpressionType::CONJUNCTION_AND: {
		vector<JsonBuilder::Value> args;
		for (auto &child : children) {
			auto expressed = FilterToJson(json, child, field_id);
			if (expressed) {
				args.push_back(expressed);
			}
		}
		return args.empty() ? nullptr : FilterJunction(json, "and", args);
	}
	case ExpressionType::CONJUNCTION_OR: {
		vector<JsonBuilder::Value> args;
		for (auto &child : children) {
			auto expressed = FilterToJson(json, child, field_id);
			if (!expressed) {
				return nullptr;
			}
			args.push_back(expressed);
		}
		return args.empty() ? nullptr : FilterJunction(json, "or", args);
	}
	default:
		// Dynamic (join) filters, bloom filters, struct fields, other expressions: DuckDB applies them.
		return nullptr;
	}
}

string FiltersToJson(const TableFilterSet &filters, const vector<column_t> &column_ids,
                     const vector<IcebergColumn> &columns) {
	JsonBuilder json;
	vector<JsonBuilder::Value> args;
	compat::ForEachFilter(filters, [&](idx_t index, const TableFilter &filter) {
		if (index >= column_ids.size()) {
			return;
		}
		auto column_index = column_ids[index];
		if (column_index >= columns.size()) {
			return; // a virtual column such as filename
		}
		auto &column = columns[column_index];
		auto expressed = FilterToJson(json, *compat::FilterExpression(filter, column.type), column.field_id);
		if (expressed) {
			args.push_back(expressed);
		}
	});
	return args.empty() ? "" : json.Write(FilterJunction(json, "and", args));
}

} // namespace floe
