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

static string Join(const char *op, const vector<string> &args) {
	string joined;
	for (auto &arg : args) {
		joined += (joined.empty() ? "" : ",") + arg;
	}
	return StringUtil::Format("{\"op\":\"%s\",\"args\":[%s]}", op, joined);
}

//! One filter on the column with `field_id`; "" if it has no Iceberg form. Inside an OR, one
//! inexpressible branch makes the whole OR inexpressible; inside an AND it is left out.
static string FilterToJson(const TableFilter &filter, int32_t field_id) {
	switch (filter.filter_type) {
	case TableFilterType::CONSTANT_COMPARISON: {
		auto &constant = filter.Cast<ConstantFilter>();
		auto cmp = Comparison(constant.comparison_type);
		auto value = ValueToJson(constant.constant);
		if (!cmp || value.empty()) {
			return "";
		}
		return StringUtil::Format("{\"op\":\"cmp\",\"cmp\":\"%s\",\"field_id\":%d,\"value\":%s}", cmp, field_id,
		                          value);
	}
	case TableFilterType::IS_NULL:
		return StringUtil::Format("{\"op\":\"is_null\",\"field_id\":%d}", field_id);
	case TableFilterType::IS_NOT_NULL:
		return StringUtil::Format("{\"op\":\"not_null\",\"field_id\":%d}", field_id);
	case TableFilterType::IN_FILTER: {
		string values;
		for (auto &value : filter.Cast<InFilter>().values) {
			auto json = ValueToJson(value);
			if (json.empty()) {
				return "";
			}
			values += (values.empty() ? "" : ",") + json;
		}
		return StringUtil::Format("{\"op\":\"in\",\"field_id\":%d,\"values\":[%s]}", field_id, values);
	}
	case TableFilterType::OPTIONAL_FILTER: {
		// Optional for the reader, but still true of every row that matches: fine for pruning.
		auto &child = filter.Cast<OptionalFilter>().child_filter;
		return child ? FilterToJson(*child, field_id) : "";
	}
	case TableFilterType::CONJUNCTION_AND: {
		vector<string> args;
		for (auto &child : filter.Cast<ConjunctionAndFilter>().child_filters) {
			auto json = FilterToJson(*child, field_id);
			if (!json.empty()) {
				args.push_back(json);
			}
		}
		return args.empty() ? "" : Join("and", args);
	}
	case TableFilterType::CONJUNCTION_OR: {
		vector<string> args;
		for (auto &child : filter.Cast<ConjunctionOrFilter>().child_filters) {
			auto json = FilterToJson(*child, field_id);
			if (json.empty()) {
				return "";
			}
			args.push_back(json);
		}
		return args.empty() ? "" : Join("or", args);
	}
	default:
		// Dynamic (join) filters, bloom filters, expressions, struct fields: DuckDB applies them.
		return "";
	}
}

string FiltersToJson(const TableFilterSet &filters, const vector<column_t> &column_ids,
                     const vector<IcebergColumn> &columns) {
	vector<string> args;
	for (auto &entry : filters.filters) {
		if (entry.first >= column_ids.size()) {
			continue;
		}
		auto column_index = column_ids[entry.first];
		if (column_index >= columns.size()) {
			continue; // a virtual column such as filename
		}
		auto json = FilterToJson(*entry.second, columns[column_index].field_id);
		if (!json.empty()) {
			args.push_back(json);
		}
	}
	return args.empty() ? "" : Join("and", args);
}

} // namespace floe
