#include "floe/column_defaults.hpp"

#include "duckdb/execution/expression_executor.hpp"
#include "duckdb/planner/binder.hpp"
#include "duckdb/planner/expression/bound_cast_expression.hpp"
#include "duckdb/planner/expression/bound_function_expression.hpp"
#include "duckdb/planner/expression_binder/constant_binder.hpp"
#include "duckdb/planner/expression_iterator.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/values.hpp"

namespace floe {

using namespace duckdb;

//! Whether `expression` has one value whenever it runs. DuckDB folds current_date and now() too
//! (their value is fixed within a query), but as a column's default they mean the time of each
//! write, which no stored constant is.
static bool IsConstant(const Expression &expression) {
	if (expression.GetExpressionClass() == ExpressionClass::BOUND_FUNCTION &&
	    compat::Stability(expression.Cast<BoundFunctionExpression>()) != FunctionStability::CONSISTENT) {
		return false;
	}
	auto constant = expression.IsFoldable();
	ExpressionIterator::EnumerateChildren(expression,
	                                      [&](const Expression &child) { constant = constant && IsConstant(child); });
	return constant;
}

void AddDefault(JsonBuilder &json, JsonBuilder::Value edit, ClientContext &context,
                optional_ptr<const ParsedExpression> expression, const LogicalType &type) {
	Value constant(type);
	auto foldable = true;
	if (expression) {
		// Bound as DuckDB binds a column's DEFAULT (no column references), then cast to the
		// column's type, so `DATE '2026-01-01'`, `-1` or `'7'` for an INTEGER fold to the value
		// the column would hold.
		auto binder = Binder::CreateBinder(context);
		ConstantBinder constant_binder(*binder, context, "DEFAULT value");
		auto parsed = expression->Copy();
		auto bound = BoundCastExpression::AddCastToType(context, constant_binder.Bind(parsed), type);
		foldable = IsConstant(*bound);
		if (foldable) {
			constant = ExpressionExecutor::EvaluateScalar(context, *bound);
		}
	}
	auto has_default = !foldable || !constant.IsNull();
	json.Add(edit, "has_default", json.Bool(has_default));
	auto tagged = foldable && !constant.IsNull() ? ValueToJson(json, constant) : nullptr;
	if (tagged) {
		json.Add(edit, "default", tagged);
	}
}

} // namespace floe
