#include "floe/filters.hpp"

#include "duckdb/planner/filter/conjunction_filter.hpp"
#include "duckdb/planner/filter/constant_filter.hpp"
#include "duckdb/planner/filter/in_filter.hpp"
#include "duckdb/planner/filter/null_filter.hpp"
#include "duckdb/planner/filter/optional_filter.hpp"
#include "floe/values.hpp"

namespace floe {

using namespace duckdb;

static const char *Comparison(ExpressionType type) {
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

static JsonBuilder::Value Junction(JsonBuilder &json, const char *op, const vector<JsonBuilder::Value> &args) {
	auto array = json.Array();
	for (auto &arg : args) {
		json.Append(array, arg);
	}
	auto junction = json.Add(json.Object(), "op", json.String(op));
	return json.Add(junction, "args", array);
}

static JsonBuilder::Value OnField(JsonBuilder &json, const char *op, int32_t field_id) {
	auto filter = json.Add(json.Object(), "op", json.String(op));
	return json.Add(filter, "field_id", json.Int(field_id));
}

//! One filter on the column with `field_id`; nullptr if it has no Iceberg form. Inside an OR,
//! one inexpressible branch makes the whole OR inexpressible; inside an AND it is left out.
static JsonBuilder::Value FilterToJson(JsonBuilder &json, const TableFilter &filter, int32_t field_id) {
	switch (filter.filter_type) {
	case TableFilterType::CONSTANT_COMPARISON: {
		auto &constant = filter.Cast<ConstantFilter>();
		auto cmp = Comparison(constant.comparison_type);
		auto value = ValueToJson(json, constant.constant);
		if (!cmp || !value) {
			return nullptr;
		}
		auto comparison = OnField(json, "cmp", field_id);
		json.Add(comparison, "cmp", json.String(cmp));
		return json.Add(comparison, "value", value);
	}
	case TableFilterType::IS_NULL:
		return OnField(json, "is_null", field_id);
	case TableFilterType::IS_NOT_NULL:
		return OnField(json, "not_null", field_id);
	case TableFilterType::IN_FILTER: {
		auto values = json.Array();
		for (auto &value : filter.Cast<InFilter>().values) {
			auto tagged = ValueToJson(json, value);
			if (!tagged) {
				return nullptr;
			}
			json.Append(values, tagged);
		}
		return json.Add(OnField(json, "in", field_id), "values", values);
	}
	case TableFilterType::OPTIONAL_FILTER: {
		// Optional for the reader, but still true of every row that matches: fine for pruning.
		auto &child = filter.Cast<OptionalFilter>().child_filter;
		return child ? FilterToJson(json, *child, field_id) : nullptr;
	}
	case TableFilterType::CONJUNCTION_AND: {
		vector<JsonBuilder::Value> args;
		for (auto &child : filter.Cast<ConjunctionAndFilter>().child_filters) {
			auto expressed = FilterToJson(json, *child, field_id);
			if (expressed) {
				args.push_back(expressed);
			}
		}
		return args.empty() ? nullptr : Junction(json, "and", args);
	}
	case TableFilterType::CONJUNCTION_OR: {
		vector<JsonBuilder::Value> args;
		for (auto &child : filter.Cast<ConjunctionOrFilter>().child_filters) {
			auto expressed = FilterToJson(json, *child, field_id);
			if (!expressed) {
				return nullptr;
			}
			args.push_back(expressed);
		}
		return args.empty() ? nullptr : Junction(json, "or", args);
	}
	default:
		// Dynamic (join) filters, bloom filters, expressions, struct fields: DuckDB applies them.
		return nullptr;
	}
}

string FiltersToJson(const TableFilterSet &filters, const vector<column_t> &column_ids,
                     const vector<IcebergColumn> &columns) {
	JsonBuilder json;
	vector<JsonBuilder::Value> args;
	for (auto &entry : filters.filters) {
		if (entry.first >= column_ids.size()) {
			continue;
		}
		auto column_index = column_ids[entry.first];
		if (column_index >= columns.size()) {
			continue; // a virtual column such as filename
		}
		auto expressed = FilterToJson(json, *entry.second, columns[column_index].field_id);
		if (expressed) {
			args.push_back(expressed);
		}
	}
	return args.empty() ? "" : json.Write(Junction(json, "and", args));
}

} // namespace floe
