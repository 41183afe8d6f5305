#include "floe/file_name_filters.hpp"

#include "duckdb/common/multi_file/multi_file_reader.hpp"
#include "duckdb/execution/expression_executor.hpp"
#include "duckdb/planner/expression/bound_columnref_expression.hpp"
#include "duckdb/planner/expression/bound_constant_expression.hpp"
#include "duckdb/planner/expression_iterator.hpp"
#include "floe/duckdb_compat.hpp"

namespace floe {

using namespace duckdb;

//! Whether `filter` reads the scan's filename column and no other column.
static bool OnFileNameOnly(const Expression &filter, const MultiFilePushdownInfo &info) {
	bool file_name = false;
	bool other = false;
	ExpressionIterator::VisitExpression<BoundColumnRefExpression>(filter, [&](const BoundColumnRefExpression &column) {
		auto &binding = compat::Binding(column);
		auto index = static_cast<idx_t>(binding.column_index);
		bool is_file_name = binding.table_index == info.table_index && index < info.column_ids.size() &&
		                    info.column_ids[index] == MultiFileReader::COLUMN_IDENTIFIER_FILENAME;
		(is_file_name ? file_name : other) = true;
	});
	return file_name && !other;
}

shared_ptr<const FileNameFilters> FileNameFilters::Extract(const MultiFilePushdownInfo &info,
                                                           vector<unique_ptr<Expression>> &filters) {
	auto result = make_shared_ptr<FileNameFilters>();
	for (idx_t i = 0; i < filters.size(); i++) {
		if (OnFileNameOnly(*filters[i], info)) {
			result->filters.push_back(std::move(filters[i]));
			filters.erase(filters.begin() + NumericCast<int64_t>(i));
			i--;
		}
	}
	return result->filters.empty() ? nullptr : std::move(result);
}

bool FileNameFilters::Match(ClientContext &context, const string &url) const {
	for (auto &filter : filters) {
		auto bound = filter->Copy();
		ExpressionIterator::VisitExpressionMutable<BoundColumnRefExpression>(
		    bound, [&](BoundColumnRefExpression &, unique_ptr<Expression> &column) {
			    column = make_uniq<BoundConstantExpression>(Value(url));
		    });
		// A filter that fails to evaluate fails the query, as it would on the column.
		auto result = ExpressionExecutor::EvaluateScalar(context, *bound, true);
		if (result.IsNull() || !result.GetValue<bool>()) {
			return false;
		}
	}
	return true;
}

} // namespace floe
