//===----------------------------------------------------------------------===//
// floe: the few DuckDB APIs whose 1.5 and 2.0 spellings cannot be one.
// The glue is written in DuckDB 2.0's spellings; 1.5.6 backports most of them (Identifier,
// QualifiedName accessors, CreateInfo setters). FLOE_DUCKDB_VERSION_{MAJOR,MINOR,PATCH} are
// set by extension/build.rs from the version the extension is built for.
//===----------------------------------------------------------------------===//
#pragma once

#if !defined(FLOE_DUCKDB_VERSION_MAJOR) || !defined(FLOE_DUCKDB_VERSION_MINOR) || !defined(FLOE_DUCKDB_VERSION_PATCH)
#error "FLOE_DUCKDB_VERSION_* are set by extension/build.rs: build with make"
#endif
#define FLOE_DUCKDB_2 (FLOE_DUCKDB_VERSION_MAJOR >= 2)

#include "duckdb/catalog/catalog.hpp"
#include "duckdb/catalog/catalog_entry/table_catalog_entry.hpp"
#include "duckdb/parser/parsed_data/create_table_info.hpp"
#include "duckdb/common/identifier.hpp"
#include "duckdb/common/types/date.hpp"
#include "duckdb/common/types/timestamp.hpp"
#include "duckdb/common/types/value.hpp"
#include "duckdb/common/multi_file/multi_file_list.hpp"
#include "duckdb/common/multi_file/multi_file_reader.hpp"
#include "duckdb/execution/operator/persistent/physical_copy_to_file.hpp"
#include "duckdb/function/table_function.hpp"
#include "duckdb/parallel/interrupt.hpp"
#include "duckdb/parser/expression/between_expression.hpp"
#include "duckdb/parser/expression/cast_expression.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/function/cast/default_casts.hpp"
#include "duckdb/parser/expression/function_expression.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/parsed_data/create_view_info.hpp"
#include "duckdb/planner/expression/bound_cast_expression.hpp"
#include "duckdb/planner/expression/bound_columnref_expression.hpp"
#include "duckdb/planner/expression/bound_comparison_expression.hpp"
#include "duckdb/planner/expression/bound_constant_expression.hpp"
#include "duckdb/planner/expression/bound_function_expression.hpp"
#include "duckdb/planner/expression/bound_operator_expression.hpp"
#include "duckdb/planner/expression/bound_reference_expression.hpp"
#include "duckdb/parser/parsed_data/alter_table_info.hpp"
#include "duckdb/parser/parsed_data/attach_info.hpp"
#include "duckdb/parser/parsed_data/transaction_info.hpp"
#include "duckdb/planner/operator/logical_get.hpp"
#include "duckdb/planner/operator/logical_projection.hpp"
#include "duckdb/planner/operator/logical_update.hpp"
#include "duckdb/planner/table_filter.hpp"
#if FLOE_DUCKDB_2
#include "duckdb/planner/filter/expression_filter.hpp"
#include "duckdb/planner/operator/logical_attach.hpp"
#include "duckdb/planner/operator/logical_transaction.hpp"
#include "duckdb/planner/table_filter_set.hpp"
#else
#include "duckdb/planner/operator/logical_simple.hpp"
#endif
#include "duckdb/planner/expression.hpp"

namespace floe {
namespace compat {

//! A DuckDB name as text: CatalogEntry::name, column and struct field names are `string` in 1.5
//! and `Identifier` in 2.0.
inline const std::string &Str(const duckdb::Identifier &name) {
	return name.GetIdentifierName();
}
inline const std::string &Str(const std::string &name) {
	return name;
}

#if FLOE_DUCKDB_2
//! Result column names of binds (table functions, COPY, multi-file readers).
using Names = duckdb::vector<duckdb::Identifier>;
using NamedArguments = duckdb::named_argument_map_t;
//! What a table function is bound as (2.0 splits the definition from the bound call).
using BoundTableFunction = duckdb::BoundTableFunction;
//! Catalog::GetDefaultSchema: nullopt means "no default schema" in 2.0.
using DefaultSchema = duckdb::optional<duckdb::Identifier>;
inline DefaultSchema MakeDefaultSchema(const std::string &name) {
	return duckdb::Identifier(name);
}
//! Catalog::CheckAmbiguousCatalogOrSchema's schema argument.
using SchemaArgument = duckdb::Identifier;
#else
using Names = duckdb::vector<std::string>;
using NamedArguments = duckdb::named_parameter_map_t;
using BoundTableFunction = duckdb::TableFunction;
using DefaultSchema = std::string;
inline DefaultSchema MakeDefaultSchema(const std::string &name) {
	return name;
}
using SchemaArgument = std::string;
#endif

//! How to wake a table function that parks (returns BLOCKED without tasks), or none where it
//! may not. 1.5 has no way to wake one.
inline duckdb::shared_ptr<duckdb::InterruptState> ParkingCallback(const duckdb::TableFunctionInput &input) {
#if FLOE_DUCKDB_2
	if (input.results_execution_mode == duckdb::AsyncResultsExecutionMode::TASK_EXECUTOR && input.interrupt_state) {
		return duckdb::make_shared_ptr<duckdb::InterruptState>(*input.interrupt_state);
	}
#endif
	return nullptr;
}

//! A catalog's name as Catalog::GetCatalog takes it.
inline SchemaArgument CatalogName(const std::string &name) {
	return SchemaArgument(name);
}

//! Value::DefaultTryCastAs: 2.0 returns optional<Value>, 1.5 writes an out parameter.
inline bool TryCast(const duckdb::Value &value, const duckdb::LogicalType &type, duckdb::Value &result,
                    std::string *error) {
#if FLOE_DUCKDB_2
	auto cast = value.DefaultTryCastAs(type, error, true);
	if (!cast) {
		return false;
	}
	result = std::move(*cast);
	return true;
#else
	return value.DefaultTryCastAs(type, result, error, true);
#endif
}

//! Date/Timestamp::IsFinite moved onto the value types in 2.0.
inline bool IsFinite(duckdb::date_t date) {
#if FLOE_DUCKDB_2
	return date.IsFinite();
#else
	return duckdb::Date::IsFinite(date);
#endif
}
inline bool IsFinite(duckdb::timestamp_t ts) {
#if FLOE_DUCKDB_2
	return ts.IsFinite();
#else
	return duckdb::Timestamp::IsFinite(ts);
#endif
}

//! A parser without a client context (2.0 has no default ParserOptions).
inline duckdb::Parser BuiltinParser() {
#if FLOE_DUCKDB_2
	return duckdb::Parser::GetBuiltinParser();
#else
	return duckdb::Parser();
#endif
}

//! The parts of `x BETWEEN lower AND upper` (2.0 made them private behind accessors).
inline const duckdb::ParsedExpression &BetweenInput(const duckdb::BetweenExpression &between) {
#if FLOE_DUCKDB_2
	return between.Input();
#else
	return *between.input;
#endif
}
inline const duckdb::ParsedExpression &BetweenLower(const duckdb::BetweenExpression &between) {
#if FLOE_DUCKDB_2
	return between.LowerBound();
#else
	return *between.lower;
#endif
}
inline const duckdb::ParsedExpression &BetweenUpper(const duckdb::BetweenExpression &between) {
#if FLOE_DUCKDB_2
	return between.UpperBound();
#else
	return *between.upper;
#endif
}

//! The table or view `name` names (they share one namespace); throws if there is none.
inline duckdb::CatalogEntry &GetTableOrView(duckdb::ClientContext &context, const duckdb::QualifiedName &name) {
#if FLOE_DUCKDB_2
	return duckdb::Catalog::GetEntry(context, duckdb::CatalogType::TABLE_ENTRY, name);
#else
	return duckdb::Catalog::GetEntry(context, duckdb::CatalogType::TABLE_ENTRY, name.Catalog(), name.Schema(),
	                                 name.Name());
#endif
}

//! Marks a view secure: DuckDB 2.0 keeps the caller's predicates from being evaluated inside it
//! on rows it does not emit, and its inside out of EXPLAIN. 1.5 has no secure views; floe refuses
//! what would need one there (restricted_view.hpp).
inline void MakeSecure(duckdb::CreateViewInfo &info) {
#if FLOE_DUCKDB_2
	info.security_type = duckdb::ViewSecurityType::SECURE_VIEW;
#endif
}

//! A parsed constant for a value (2.0's ConstantExpression holds a literal, not a Value).
inline duckdb::unique_ptr<duckdb::ParsedExpression> ConstantFromValue(const duckdb::Value &value) {
#if FLOE_DUCKDB_2
	return duckdb::ConstantExpression::FromValue(value);
#else
	return duckdb::make_uniq<duckdb::ConstantExpression>(value);
#endif
}
//! The value a parsed constant stands for.
inline duckdb::Value ConstantValue(const duckdb::ConstantExpression &constant) {
#if FLOE_DUCKDB_2
	return constant.GetLiteral().ToValue();
#else
	return constant.value;
#endif
}

#if FLOE_DUCKDB_2
//! A table entry that keeps its own columns: 2.0's TableCatalogEntry::GetColumns is pure virtual.
class TableEntryBase : public duckdb::TableCatalogEntry {
public:
	TableEntryBase(duckdb::Catalog &catalog, duckdb::SchemaCatalogEntry &schema, duckdb::CreateTableInfo &info)
	    : TableCatalogEntry(catalog, schema, info), columns(std::move(info.columns)) {
	}
	const duckdb::ColumnList &GetColumns() const override {
		return columns;
	}

private:
	duckdb::ColumnList columns;
};
#else
using TableEntryBase = duckdb::TableCatalogEntry;
#endif

//! Bound expressions: 2.0 hides the members behind accessors, which 1.5 lacks.
inline const duckdb::LogicalType &ReturnType(const duckdb::Expression &expression) {
#if FLOE_DUCKDB_2
	return expression.GetReturnType();
#else
	return expression.return_type;
#endif
}
inline duckdb::idx_t ReferenceIndex(const duckdb::BoundReferenceExpression &expression) {
#if FLOE_DUCKDB_2
	return expression.Index();
#else
	return expression.index;
#endif
}
inline duckdb::vector<duckdb::unique_ptr<duckdb::Expression>> &Children(duckdb::BoundOperatorExpression &expression) {
#if FLOE_DUCKDB_2
	return expression.GetChildrenMutable();
#else
	return expression.children;
#endif
}
//! `expression` read as `type` without conversion (2.0's casts are function expressions).
inline duckdb::unique_ptr<duckdb::Expression> ReinterpretCast(duckdb::unique_ptr<duckdb::Expression> expression,
                                                              const duckdb::LogicalType &type) {
	duckdb::BoundCastInfo cast(duckdb::DefaultCasts::ReinterpretCast);
#if FLOE_DUCKDB_2
	return duckdb::BoundCastExpression::Create(std::move(expression), type, std::move(cast));
#else
	return duckdb::make_uniq<duckdb::BoundCastExpression>(std::move(expression), type, std::move(cast));
#endif
}

//! Which table and column a bound column reference reads (an accessor in 2.0, a member in 1.5).
inline const duckdb::ColumnBinding &Binding(const duckdb::BoundColumnRefExpression &column) {
#if FLOE_DUCKDB_2
	return column.Binding();
#else
	return column.binding;
#endif
}

//! A parsed function call's name and positional arguments.
inline const std::string &FunctionName(const duckdb::FunctionExpression &function) {
#if FLOE_DUCKDB_2
	return function.FunctionName().GetIdentifierName();
#else
	return function.function_name;
#endif
}
inline duckdb::vector<duckdb::reference<const duckdb::ParsedExpression>> Arguments(
    const duckdb::FunctionExpression &function) {
	duckdb::vector<duckdb::reference<const duckdb::ParsedExpression>> result;
#if FLOE_DUCKDB_2
	for (auto &argument : function.GetArguments()) {
		result.push_back(argument.GetExpression());
	}
#else
	for (auto &child : function.children) {
		result.push_back(*child);
	}
#endif
	return result;
}

//! Row group and file sizes of a COPY written by PhysicalCopyToFile. 2.0 cuts row groups and
//! files in the operator (batch_size, batch_size_bytes; a file size turns rotation on) and its
//! Parquet writer ignores row_group_size_bytes; 1.5 cuts row groups in the Parquet writer (the
//! row_group_size_bytes option, passed at bind) and rotates only with `rotate` set.
inline void SizeWrites(duckdb::ClientContext &context, duckdb::PhysicalCopyToFile &copy,
                       duckdb::optional_idx row_group_bytes, duckdb::optional_idx file_bytes) {
#if FLOE_DUCKDB_2
	if (copy.function.desired_batch_size) {
		copy.batch_size = copy.function.desired_batch_size(context, *copy.bind_data);
	}
	copy.batch_size_bytes = row_group_bytes;
#else
	copy.rotate = file_bytes.IsValid();
#endif
	copy.file_size_bytes = file_bytes;
}

//! Pushed-down filters, `callback(column index, filter)`.
template <class CALLBACK>
void ForEachFilter(const duckdb::TableFilterSet &filters, const CALLBACK &callback) {
#if FLOE_DUCKDB_2
	for (auto &entry : filters) {
		callback(entry.GetIndex().GetIndex(), entry.Filter());
	}
#else
	for (auto &entry : filters.filters) {
		callback(entry.first, *entry.second);
	}
#endif
}
//! A pushed-down filter as an expression over its column, a BoundReferenceExpression at index 0:
//! 2.0 holds every filter so, 1.5's typed filters become one through ToExpression.
inline duckdb::unique_ptr<duckdb::Expression> FilterExpression(const duckdb::TableFilter &filter,
                                                               const duckdb::LogicalType &column_type) {
#if FLOE_DUCKDB_2
	if (filter.filter_type == duckdb::TableFilterType::EXPRESSION_FILTER) {
		return filter.Cast<duckdb::ExpressionFilter>().expr->Copy();
	}
	return std::move(duckdb::ExpressionFilter::FromTableFilter(filter, column_type)->expr);
#else
	duckdb::BoundReferenceExpression column(column_type, 0ULL);
	return filter.ToExpression(column);
#endif
}
inline bool HasFilters(const duckdb::TableFilterSet &filters) {
#if FLOE_DUCKDB_2
	return filters.HasFilters();
#else
	return !filters.filters.empty();
#endif
}
//! A comparison `left <op> right` (2.0's comparisons are function expressions).
inline bool Comparison(const duckdb::Expression &expression, duckdb::ExpressionType &type,
                       duckdb::optional_ptr<const duckdb::Expression> &left,
                       duckdb::optional_ptr<const duckdb::Expression> &right) {
#if FLOE_DUCKDB_2
	if (!duckdb::BoundComparisonExpression::IsComparison(expression)) {
		return false;
	}
	auto &function = expression.Cast<duckdb::BoundFunctionExpression>();
	left = &duckdb::BoundComparisonExpression::Left(function);
	right = &duckdb::BoundComparisonExpression::Right(function);
#else
	if (expression.GetExpressionClass() != duckdb::ExpressionClass::BOUND_COMPARISON) {
		return false;
	}
	auto &comparison = expression.Cast<duckdb::BoundComparisonExpression>();
	left = comparison.left.get();
	right = comparison.right.get();
#endif
	type = expression.GetExpressionType();
	return true;
}
//! How a bound function call's result varies (2.0 keeps the function private).
inline duckdb::FunctionStability Stability(const duckdb::BoundFunctionExpression &call) {
#if FLOE_DUCKDB_2
	return call.Function().GetStability();
#else
	return call.function.GetStability();
#endif
}
//! What an optional (not required for correctness) filter wraps; nullptr for any other expression.
//! 1.5's ToExpression has unwrapped those already.
inline duckdb::optional_ptr<const duckdb::Expression> OptionalFilterChild(const duckdb::Expression &expression) {
#if FLOE_DUCKDB_2
	return duckdb::ExpressionFilter::GetOptionalFilterChild(expression);
#else
	return nullptr;
#endif
}
inline const duckdb::Value &ConstantValue(const duckdb::BoundConstantExpression &constant) {
#if FLOE_DUCKDB_2
	return constant.GetValue();
#else
	return constant.value;
#endif
}

//! The statement of a planned ATTACH / BEGIN, COMMIT, ROLLBACK (2.0 has an operator for each,
//! 1.5 one LogicalSimple for both).
inline duckdb::AttachInfo &AttachInfoOf(duckdb::LogicalOperator &plan) {
#if FLOE_DUCKDB_2
	return *plan.Cast<duckdb::LogicalAttach>().info;
#else
	return plan.Cast<duckdb::LogicalSimple>().info->Cast<duckdb::AttachInfo>();
#endif
}
inline duckdb::TransactionInfo &TransactionInfoOf(duckdb::LogicalOperator &plan) {
#if FLOE_DUCKDB_2
	return *plan.Cast<duckdb::LogicalTransaction>().info;
#else
	return plan.Cast<duckdb::LogicalSimple>().info->Cast<duckdb::TransactionInfo>();
#endif
}

//! An overload of a function set (held by shared_ptr in 2.0, by value in 1.5).
template <class T>
const T &Overload(const T &function) {
	return function;
}
template <class T>
const T &Overload(const duckdb::shared_ptr<const T> &function) {
	return *function;
}

//! The types of a table function's positional parameters.
inline duckdb::vector<duckdb::LogicalType> PositionalTypes(const duckdb::TableFunction &function) {
#if FLOE_DUCKDB_2
	duckdb::vector<duckdb::LogicalType> result;
	for (auto &parameter : function.GetSignature().GetParameters()) {
		auto kind = parameter.GetKind();
		if (kind == duckdb::FunctionParameterKind::POSITIONAL_ONLY || kind == duckdb::FunctionParameterKind::STANDARD) {
			result.push_back(parameter.GetType());
		}
	}
	return result;
#else
	return function.arguments;
#endif
}

//! Makes LogicalGet::GetTable() of a scan by `function` return ENTRY(bind_data): 2.0 asks
//! get_table_entry, 1.5 the table of get_bind_info.
template <duckdb::optional_ptr<duckdb::TableCatalogEntry> (*ENTRY)(duckdb::optional_ptr<const duckdb::FunctionData>)>
void ExposeTableEntry(duckdb::TableFunction &function) {
#if FLOE_DUCKDB_2
	function.get_table_entry = ENTRY;
#else
	function.get_bind_info = [](const duckdb::optional_ptr<duckdb::FunctionData> bind_data) {
		return duckdb::BindInfo(*ENTRY(bind_data.get()));
	};
#endif
}

//! A MultiFileList whose dynamic (join) filter pushdown is one version-independent call.
class MultiFileListBase : public duckdb::MultiFileList {
protected:
	virtual duckdb::unique_ptr<duckdb::MultiFileList> PushdownDynamicFilters(
	    duckdb::ClientContext &context, const duckdb::vector<duckdb::column_t> &column_ids,
	    duckdb::TableFilterSet &filters) const = 0;

public:
#if FLOE_DUCKDB_2
	duckdb::unique_ptr<duckdb::MultiFileList> DynamicFilterPushdown(
	    duckdb::MultiFileDynamicPushdownInfo &info) const final {
		return PushdownDynamicFilters(info.context, info.column_ids, info.filters);
	}
#else
	duckdb::unique_ptr<duckdb::MultiFileList> DynamicFilterPushdown(duckdb::ClientContext &context,
	                                                                const duckdb::MultiFileOptions &options,
	                                                                const duckdb::vector<std::string> &names,
	                                                                const duckdb::vector<duckdb::LogicalType> &types,
	                                                                const duckdb::vector<duckdb::column_t> &column_ids,
	                                                                duckdb::TableFilterSet &filters) const final {
		return PushdownDynamicFilters(context, column_ids, filters);
	}
#endif
};

//! Makes an UPDATE project every column of `table`, scanning each column once: a column the
//! scan reads already is reused (DuckDB 1.5's own helper adds it a second time, and its Parquet
//! reader then counts the column twice and refuses the row group's page offsets).
inline void ProjectAllColumns(duckdb::TableCatalogEntry &table, duckdb::LogicalGet &get,
                              duckdb::LogicalProjection &proj, duckdb::LogicalUpdate &update) {
#if FLOE_DUCKDB_2
	duckdb::LogicalUpdate::BindAllColumns(table, get, proj, update, true);
#else
	duckdb::physical_index_set_t present(update.columns.begin(), update.columns.end());
	for (auto &column : table.GetColumns().Physical()) {
		if (present.count(column.Physical())) {
			continue;
		}
		auto logical = column.Logical().index;
		auto &ids = get.GetColumnIds();
		auto get_index = ids.size();
		for (duckdb::idx_t i = 0; i < ids.size(); i++) {
			if (ids[i].GetPrimaryIndex() == logical) {
				get_index = i;
				break;
			}
		}
		if (get_index == ids.size()) {
			get.AddColumnId(logical);
		}
		update.expressions.push_back(duckdb::make_uniq<duckdb::BoundColumnRefExpression>(
		    column.Type(), duckdb::ColumnBinding(proj.table_index, proj.expressions.size())));
		proj.expressions.push_back(
		    duckdb::make_uniq<duckdb::BoundColumnRefExpression>(column.Type(),
		                                                        duckdb::ColumnBinding(get.table_index, get_index)));
		update.columns.push_back(column.Physical());
	}
#endif
}

//! The column an ALTER COLUMN (TYPE, SET/DROP NOT NULL, SET DEFAULT) names, as a path: 2.0 can
//! address a struct field, 1.5 names a top-level column.
template <class INFO>
inline duckdb::vector<std::string> AlteredColumnPath(const INFO &info) {
#if FLOE_DUCKDB_2
	duckdb::vector<std::string> path;
	for (auto &name : info.column_path) {
		path.push_back(Str(name));
	}
	return path;
#else
	return {info.column_name};
#endif
}

//! What a parsed CAST casts.
inline const duckdb::ParsedExpression &CastChild(const duckdb::CastExpression &cast) {
#if FLOE_DUCKDB_2
	return cast.Child();
#else
	return *cast.child;
#endif
}

//! Declares the named parameters (`name => <value of type>`) of a table function: 2.0 keeps them
//! in the function's signature as the schema of its typed keyword arguments.
inline void SetNamedParameters(duckdb::TableFunction &function,
                               const duckdb::vector<std::pair<std::string, duckdb::LogicalType>> &parameters) {
#if FLOE_DUCKDB_2
	function.GetSignature().WithTypedKwargs("options", [&](duckdb::TypedKwargs &kwargs) {
		for (auto &parameter : parameters) {
			kwargs.Add(duckdb::Identifier(parameter.first), parameter.second);
		}
	});
#else
	for (auto &parameter : parameters) {
		function.named_parameters[parameter.first] = parameter.second;
	}
#endif
}

} // namespace compat
} // namespace floe
