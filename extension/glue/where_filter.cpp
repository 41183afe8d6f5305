#include "floe/where_filter.hpp"

#include "duckdb/common/error_data.hpp"
#include "duckdb/parser/expression/between_expression.hpp"
#include "duckdb/parser/expression/columnref_expression.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/parsed_expression_iterator.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/filters.hpp"
#include "floe/values.hpp"

namespace floe {

using namespace duckdb;

namespace {

//! Walks the parsed predicate, NOT pushed down to the leaves (De Morgan, negated comparisons), as
//! the core's filter has no NOT: each leaf then selects files by its own bounds.
class WhereConverter {
public:
	WhereConverter(ClientContext &context, const string &call, const string &where,
	               const vector<IcebergColumn> &columns)
	    : context(context), call(call), where(where), columns(columns) {
	}

	string Convert() {
		vector<unique_ptr<ParsedExpression>> parsed;
		try {
			parsed = compat::BuiltinParser().ParseExpressionList(where);
		} catch (std::exception &e) {
			ErrorData error(e);
			Refuse("it is not an expression DuckDB can parse (" + error.RawMessage() + ")",
			       "write a SQL predicate on the table's columns, e.g. where => 'id < 100'");
		}
		if (parsed.size() != 1) {
			Refuse("it is not one expression", "join the conditions with AND or OR");
		}
		return json.Write(Filter(*parsed[0], false));
	}

private:
	ClientContext &context;
	const string &call;
	const string &where;
	const vector<IcebergColumn> &columns;
	JsonBuilder json;

	[[noreturn]] void Refuse(const string &what, const string &fix) const {
		throw InvalidInputException("%s: where => '%s' is refused: %s. Fix: %s", call, where, what, fix);
	}

	[[noreturn]] void RefuseExpression(const ParsedExpression &expression) const {
		Refuse(StringUtil::Format("%s is not a comparison of a column with a constant", expression.ToString()),
		       "use only comparisons of a column with a constant (=, <>, <, <=, >, >=, BETWEEN), IN lists and IS "
		       "[NOT] NULL, joined by AND, OR and NOT; functions and other columns cannot select files");
	}

	static vector<reference<const ParsedExpression>> Children(const ParsedExpression &expression) {
		vector<reference<const ParsedExpression>> children;
		ParsedExpressionIterator::EnumerateChildren(expression,
		                                            [&](const ParsedExpression &child) { children.push_back(child); });
		return children;
	}

	static bool IsColumn(const ParsedExpression &expression) {
		return expression.GetExpressionClass() == ExpressionClass::COLUMN_REF;
	}

	const IcebergColumn &Column(const ParsedExpression &expression) const {
		if (!IsColumn(expression)) {
			RefuseExpression(expression);
		}
		auto &ref = expression.Cast<ColumnRefExpression>();
		auto name = compat::Str(ref.GetColumnName());
		if (ref.IsQualified()) {
			Refuse(StringUtil::Format("%s names a table or a struct field", ref.ToString()),
			       "name a top-level column of the table without a qualifier");
		}
		for (auto &column : columns) {
			if (StringUtil::CIEquals(column.name, name)) {
				if (column.type.IsNested()) {
					Refuse(StringUtil::Format("column %s is a %s, which has no bounds to select files by", name,
					                          column.type.ToString()),
					       "compare a column of a primitive type");
				}
				return column;
			}
		}
		vector<string> names;
		for (auto &column : columns) {
			names.push_back(column.name);
		}
		Refuse(StringUtil::Format("the table has no column %s", name),
		       "name one of its columns: " + StringUtil::Join(names, ", "));
	}

	//! A typed literal (DATE '2026-01-01', '5'::INTEGER, CAST(...)) stands for its constant, which
	//! is then taken as a value of the compared column's type, as any constant is.
	static const ParsedExpression &Literal(const ParsedExpression &expression) {
		if (expression.GetExpressionClass() != ExpressionClass::CAST) {
			return expression;
		}
		for (auto &child : Children(expression)) {
			if (child.get().GetExpressionClass() == ExpressionClass::CONSTANT) {
				return child.get();
			}
		}
		return expression;
	}

	//! The constant as a tagged value of `column`'s type.
	JsonBuilder::Value Constant(const ParsedExpression &written, const IcebergColumn &column) {
		auto &expression = Literal(written);
		if (expression.GetExpressionClass() != ExpressionClass::CONSTANT) {
			Refuse(StringUtil::Format("column %s is compared with %s, which is not a constant", column.name,
			                          expression.ToString()),
			       "compare each column with a plain constant, taken as a value of the column's type (e.g. "
			       "'2026-01-01' for a date)");
		}
		auto value = compat::ConstantValue(expression.Cast<ConstantExpression>());
		if (value.IsNull()) {
			Refuse(StringUtil::Format("column %s is compared with NULL, which no row matches", column.name),
			       StringUtil::Format("write %s IS NULL", column.name));
		}
		Value typed;
		try {
			typed = value.CastAs(context, column.type, true);
		} catch (std::exception &) {
			typed = Value();
		}
		// A number that is not exactly one of the column (1.5 for a BIGINT) would select by another.
		if (typed.IsNull() ||
		    (value.type().IsNumeric() && !Value::NotDistinctFrom(typed.CastAs(context, value.type()), value))) {
			Refuse(StringUtil::Format("%s is not a value of column %s (%s)", value.ToSQLString(), column.name,
			                          column.type.ToString()),
			       "compare the column with a constant of its type");
		}
		auto tagged = ValueToJson(json, typed);
		if (!tagged) {
			Refuse(StringUtil::Format("column %s (%s) has no bounds floe compares %s with", column.name,
			                          column.type.ToString(), value.ToSQLString()),
			       "select by another column");
		}
		return tagged;
	}

	JsonBuilder::Value Comparison(ExpressionType type, const IcebergColumn &column, JsonBuilder::Value value,
	                              bool negated) {
		auto cmp = ComparisonName(negated ? NegateComparisonExpression(type) : type);
		auto comparison = FilterOnField(json, "cmp", column.field_id);
		json.Add(comparison, "cmp", json.String(cmp));
		return json.Add(comparison, "value", value);
	}

	JsonBuilder::Value Filter(const ParsedExpression &expression, bool negated) {
		auto type = expression.GetExpressionType();
		auto children = Children(expression);
		switch (expression.GetExpressionClass()) {
		case ExpressionClass::CONJUNCTION: {
			vector<JsonBuilder::Value> args;
			for (auto &child : children) {
				args.push_back(Filter(child, negated));
			}
			bool is_and = (type == ExpressionType::CONJUNCTION_AND) != negated;
			return FilterJunction(json, is_and ? "and" : "or", args);
		}
		case ExpressionClass::COMPARISON: {
			if (!ComparisonName(type) || children.size() != 2 || (!IsColumn(children[0]) && !IsColumn(children[1]))) {
				RefuseExpression(expression);
			}
			if (IsColumn(children[0])) {
				auto &column = Column(children[0]);
				return Comparison(type, column, Constant(children[1], column), negated);
			}
			auto &column = Column(children[1]);
			return Comparison(FlipComparisonExpression(type), column, Constant(children[0], column), negated);
		}
		case ExpressionClass::BETWEEN: {
			// x BETWEEN a AND b is x >= a AND x <= b; negated, x < a OR x > b.
			auto &between = expression.Cast<BetweenExpression>();
			auto &column = Column(compat::BetweenInput(between));
			vector<JsonBuilder::Value> args {Comparison(ExpressionType::COMPARE_GREATERTHANOREQUALTO, column,
			                                            Constant(compat::BetweenLower(between), column), negated),
			                                 Comparison(ExpressionType::COMPARE_LESSTHANOREQUALTO, column,
			                                            Constant(compat::BetweenUpper(between), column), negated)};
			return FilterJunction(json, negated ? "or" : "and", args);
		}
		case ExpressionClass::OPERATOR:
			break;
		default:
			RefuseExpression(expression);
		}
		switch (type) {
		case ExpressionType::OPERATOR_NOT:
			return Filter(children[0], !negated);
		case ExpressionType::OPERATOR_IS_NULL:
		case ExpressionType::OPERATOR_IS_NOT_NULL: {
			bool is_null = (type == ExpressionType::OPERATOR_IS_NULL) != negated;
			return FilterOnField(json, is_null ? "is_null" : "not_null", Column(children[0]).field_id);
		}
		case ExpressionType::COMPARE_IN:
		case ExpressionType::COMPARE_NOT_IN: {
			auto &column = Column(children[0]);
			vector<JsonBuilder::Value> values;
			for (idx_t i = 1; i < children.size(); i++) {
				values.push_back(Constant(children[i], column));
			}
			if ((type == ExpressionType::COMPARE_NOT_IN) != negated) {
				// NOT IN: different from each value.
				vector<JsonBuilder::Value> args;
				for (auto &value : values) {
					args.push_back(Comparison(ExpressionType::COMPARE_NOTEQUAL, column, value, false));
				}
				return FilterJunction(json, "and", args);
			}
			auto list = json.Array();
			for (auto &value : values) {
				json.Append(list, value);
			}
			return json.Add(FilterOnField(json, "in", column.field_id), "values", list);
		}
		default:
			RefuseExpression(expression);
		}
	}
};

} // namespace

string WhereToFilterJson(ClientContext &context, const string &call, const string &where,
                         const vector<IcebergColumn> &columns) {
	return WhereConverter(context, call, where, columns).Convert();
}

} // namespace floe
