#include "floe/insert.hpp"

#include "duckdb/catalog/catalog_entry/copy_function_catalog_entry.hpp"
#include "duckdb/execution/operator/persistent/physical_copy_to_file.hpp"
#include "duckdb/execution/operator/projection/physical_projection.hpp"
#include "duckdb/main/database.hpp"
#include "duckdb/catalog/catalog_entry/scalar_function_catalog_entry.hpp"
#include "duckdb/planner/expression/bound_case_expression.hpp"
#include "duckdb/planner/expression/bound_cast_expression.hpp"
#include "duckdb/planner/expression/bound_constant_expression.hpp"
#include "duckdb/planner/expression/bound_function_expression.hpp"
#include "duckdb/planner/expression/bound_operator_expression.hpp"
#include "duckdb/planner/expression/bound_reference_expression.hpp"
#include "duckdb/catalog/catalog.hpp"
#include "duckdb/function/function_binder.hpp"
#include "duckdb/parser/qualified_name.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/partitioning.hpp"
#include "floe/secret.hpp"
#include "floe/sort_order.hpp"
#include "floe/transaction.hpp"
#include "floe/values.hpp"

namespace floe {

using namespace duckdb;

IcebergInsert::IcebergInsert(PhysicalPlan &physical_plan, IcebergTableEntry &table, idx_t estimated_cardinality)
    : PhysicalOperator(physical_plan, PhysicalOperatorType::EXTENSION, {LogicalType::BIGINT}, estimated_cardinality),
      table(table) {
}

//! The Parquet writer's `field_ids` option: column name -> field id, nested types as structs
//! with the id under "__duckdb_field_id".
static Value FieldIds(const IcebergColumn &column) {
	if (column.children.empty()) {
		return Value::INTEGER(column.field_id);
	}
	child_list_t<Value> values;
	values.emplace_back("__duckdb_field_id", Value::INTEGER(column.field_id));
	for (auto &child : column.children) {
		values.emplace_back(child.name, FieldIds(child));
	}
	return Value::STRUCT(std::move(values));
}

static Value FieldIds(const vector<IcebergColumn> &columns) {
	child_list_t<Value> values;
	for (auto &column : columns) {
		values.emplace_back(column.name, FieldIds(column));
	}
	return Value::STRUCT(std::move(values));
}

//! NOT NULL for a required struct, list or map column: the written files' null counts, from
//! which the core checks required primitive columns (core/src/commit/not_null.rs), cannot tell a
//! NULL list or map from an empty one, so such values are checked as they are written, with
//! DuckDB's error() on a NULL.
static unique_ptr<Expression> RequireNotNull(ClientContext &context, const string &table, const IcebergColumn &column,
                                             unique_ptr<Expression> value) {
	auto message = StringUtil::Format(
	    "NOT NULL constraint failed: column '%s' of table '%s' is required; a row has NULL. Fix: filter or "
	    "coalesce the NULLs (WHERE \"%s\" IS NOT NULL), or make the column optional in the table's schema",
	    column.name, table, column.name);
	vector<unique_ptr<Expression>> arguments;
	arguments.push_back(make_uniq<BoundConstantExpression>(Value(message)));
	ErrorData error;
	auto fail = FunctionBinder(context).BindScalarFunction(DEFAULT_SCHEMA, "error", std::move(arguments), error);
	if (!fail) {
		error.Throw();
	}
	auto is_null = make_uniq<BoundOperatorExpression>(ExpressionType::OPERATOR_IS_NULL, LogicalType::BOOLEAN);
	compat::Children(*is_null).push_back(value->Copy());
	auto type = compat::ReturnType(*value);
	return make_uniq<BoundCaseExpression>(std::move(is_null),
	                                      BoundCastExpression::AddCastToType(context, std::move(fail), type),
	                                      std::move(value));
}

//! Casts the rows to the types the table stores (e.g. TINYINT -> INTEGER, HUGEINT ->
//! DECIMAL(38,0)), so the files hold exactly the Iceberg types, and checks required nested
//! columns for NULLs.
static PhysicalOperator &ConformToTable(ClientContext &context, PhysicalPlanGenerator &planner,
                                        IcebergTableEntry &table, PhysicalOperator &child) {
	auto &columns = table.Description().columns;
	if (child.types.size() != columns.size()) {
		throw InvalidInputException("Table has %d columns but %d values were supplied", columns.size(),
		                            child.types.size());
	}
	auto table_name = compat::Str(table.schema.name) + "." + compat::Str(table.name);
	bool needs_projection = false;
	vector<LogicalType> types;
	vector<unique_ptr<Expression>> expressions;
	for (idx_t i = 0; i < columns.size(); i++) {
		unique_ptr<Expression> expression = make_uniq<BoundReferenceExpression>(child.types[i], i);
		if (child.types[i] != columns[i].type) {
			needs_projection = true;
			expression = BoundCastExpression::AddCastToType(context, std::move(expression), columns[i].type);
		}
		if (columns[i].required && !columns[i].children.empty()) {
			needs_projection = true;
			expression = RequireNotNull(context, table_name, columns[i], std::move(expression));
		}
		types.push_back(columns[i].type);
		expressions.push_back(std::move(expression));
	}
	if (!needs_projection) {
		return child;
	}
	auto &projection =
	    planner.Make<PhysicalProjection>(std::move(types), std::move(expressions), child.estimated_cardinality);
	projection.children.push_back(child);
	return projection;
}

PhysicalOperator &IcebergInsert::Plan(ClientContext &context, PhysicalPlanGenerator &planner, IcebergTableEntry &table,
                                      PhysicalOperator &child) {
	auto &description = table.Description();
	auto &columns = description.columns;
	auto &input = ConformToTable(context, planner, table, child);
	// The table's write.* properties, parsed and checked by the core.
	CoreString write_properties;
	Check(floe_table_write_properties(table.Table()->Get(), write_properties.Out()));
	Json write(write_properties);

	auto &parquet =
	    Catalog::GetEntry<CopyFunctionCatalogEntry>(context, QualifiedName(SYSTEM_CATALOG, DEFAULT_SCHEMA, "parquet"));
	CopyInfo info;
	info.is_from = false;
	info.format = "parquet";
	info.options["field_ids"] = {FieldIds(columns)};
	info.options["compression"] = {Value(json::String(json::Get(write.Root(), "compression_codec")))};
	auto row_group_bytes_json = json::Get(write.Root(), "row_group_size_bytes");
	optional_idx row_group_bytes;
	if (!json::IsNull(row_group_bytes_json)) {
		row_group_bytes = NumericCast<idx_t>(json::Int(row_group_bytes_json));
		info.options["row_group_size_bytes"] = {Value::UBIGINT(row_group_bytes.GetIndex())};
	}
	compat::Names names;
	vector<LogicalType> types;
	for (auto &column : columns) {
		names.push_back(Identifier(column.name));
		types.push_back(column.type);
	}
	CopyFunctionBindInput bind_input(info);
	auto bind_data = parquet.function.copy_to_bind(context, bind_input, names, types);

	// Partitioned tables: each row's partition values are computed into extra columns that route
	// it to its partition's file and are not written into the file.
	vector<string> partition_names;
	vector<LogicalType> partition_types;
	reference<PhysicalOperator> source = input;
	if (!description.partition_spec.empty()) {
		vector<unique_ptr<Expression>> expressions;
		for (idx_t i = 0; i < columns.size(); i++) {
			expressions.push_back(make_uniq<BoundReferenceExpression>(columns[i].type, i));
		}
		for (auto &field : description.partition_spec) {
			auto value = PartitionValue(context, field, columns);
			auto name = field.name;
			while (std::find(names.begin(), names.end(), name) != names.end() ||
			       std::find(partition_names.begin(), partition_names.end(), name) != partition_names.end()) {
				name += "_partition";
			}
			partition_names.push_back(name);
			partition_types.push_back(compat::ReturnType(*value));
			expressions.push_back(std::move(value));
		}
		vector<LogicalType> projected_types = types;
		projected_types.insert(projected_types.end(), partition_types.begin(), partition_types.end());
		auto &projection = planner.Make<PhysicalProjection>(std::move(projected_types), std::move(expressions),
		                                                    input.estimated_cardinality);
		projection.children.push_back(input);
		source = projection;
	}

	auto sort_keys = FileSortKeys(context, description.name, description.sort_order, columns);
	auto &copy = MakeCopyToFile(planner, parquet.function, std::move(bind_data), input.estimated_cardinality,
	                            !sort_keys.empty());
	// One directory per statement, so the files of a statement that fails can be removed.
	auto &transaction = IcebergTransaction::Get(context, table.catalog);
	auto secret = StorageSecretJson(context, description.location);
	CoreString directory;
	Check(floe_txn_write_location(transaction.Writes(), table.Table()->Get(), secret.c_str(), directory.Out()));
	copy.file_path = json::String(Json(directory).Root());
	copy.use_tmp_file = false;
	copy.filename_pattern.SetFilenamePattern("{uuidv7}");
	copy.file_extension = "parquet";
	copy.overwrite_mode = CopyOverwriteMode::COPY_OVERWRITE_OR_IGNORE;
	copy.per_thread_output = false;
	copy.parallel = true;
	optional_idx file_bytes = NumericCast<idx_t>(json::Int(json::Get(write.Root(), "target_file_size_bytes")));
	copy.return_type = CopyFunctionReturnType::WRITTEN_FILE_STATISTICS;
	copy.partition_output = false;
	copy.write_partition_columns = true;
	copy.write_empty_file = false;
	copy.hive_file_pattern = true;
	copy.names = names;
	copy.expected_types = types;
	if (!partition_names.empty()) {
		copy.partition_output = true;
		copy.write_partition_columns = false;
		// As DuckDB's COPY binder requires: a partitioned write opens files per partition, never an
		// empty one, and 2.0 would open the unpartitioned output on the first row without it.
		copy.write_empty_file = true;
		// DuckDB's partitioned writer does not split files by size.
		file_bytes = optional_idx();
		for (idx_t i = 0; i < partition_names.size(); i++) {
			copy.partition_columns.push_back(names.size() + i);
			copy.names.push_back(Identifier(partition_names[i]));
			copy.expected_types.push_back(partition_types[i]);
		}
	}
	compat::SizeWrites(context, copy, row_group_bytes, file_bytes);
	copy.children.push_back(SortEachFile(planner, copy, source.get(), std::move(sort_keys)));

	auto &insert = planner.Make<IcebergInsert>(table, input.estimated_cardinality).Cast<IcebergInsert>();
	insert.partition_names = std::move(partition_names);
	insert.partition_types = std::move(partition_types);
	insert.children.push_back(copy);
	return insert;
}

class IcebergInsertState : public GlobalSinkState {
public:
	IcebergInsertState() : files(json.Array()) {
	}

	mutex lock;
	//! The written files, as floe_txn_write takes them.
	JsonBuilder json;
	JsonBuilder::Value files;
	idx_t file_count = 0;
	idx_t rows = 0;
	//! Rows deleted alongside (UPDATE, MERGE).
	uint64_t deleted = 0;
};

unique_ptr<GlobalSinkState> IcebergInsert::GetGlobalSinkState(ClientContext &context) const {
	return make_uniq<IcebergInsertState>();
}

//! The names in a Parquet column path as DuckDB's writer reports it: each quoted with inner
//! quotes doubled, joined by dots (`"point"."x"`, `"a.b"`), so a name may hold dots and quotes.
static vector<string> PathNames(const string &path) {
	vector<string> names(1);
	bool quoted = false;
	for (idx_t i = 0; i < path.size(); i++) {
		if (path[i] == '"' && quoted && i + 1 < path.size() && path[i + 1] == '"') {
			names.back() += path[i++];
		} else if (path[i] == '"') {
			quoted = !quoted;
		} else if (path[i] == '.' && !quoted) {
			names.emplace_back();
		} else {
			names.back() += path[i];
		}
	}
	return names;
}

//! The field a Parquet column path (e.g. `"point"."x"`) names, if it is one with bounds.
static optional_ptr<const IcebergColumn> ColumnByPath(const vector<IcebergColumn> &columns, const string &path) {
	const vector<IcebergColumn> *level = &columns;
	optional_ptr<const IcebergColumn> found;
	for (auto &name : PathNames(path)) {
		found = nullptr;
		for (auto &column : *level) {
			if (column.name == name) {
				found = &column;
			}
		}
		if (!found) {
			return nullptr;
		}
		level = &found->children;
	}
	return found && found->children.empty() ? found : nullptr;
}

//! DuckDB's statistics of one column of a written file as the core's column statistics.
static JsonBuilder::Value StatsJson(JsonBuilder &json, const IcebergColumn &column, const Value &stats_map) {
	auto result = json.Add(json.Object(), "field_id", json.Int(column.field_id));
	for (auto &entry : MapValue::GetChildren(stats_map)) {
		auto &pair = StructValue::GetChildren(entry);
		auto key = pair[0].ToString();
		if (pair[1].IsNull()) {
			continue;
		}
		auto text = pair[1].ToString();
		if (key == "null_count" || key == "num_values" || key == "column_size_bytes") {
			auto name = key == "num_values" ? "value_count" : key == "column_size_bytes" ? "column_size" : "null_count";
			json.Add(result, name, json.UInt(Value(text).DefaultCastAs(LogicalType::UBIGINT).GetValue<uint64_t>()));
		} else if (key == "has_nan") {
			json.Add(result, "has_nan", json.Bool(text == "true"));
		} else if (key == "min" || key == "max") {
			Value bound;
			string error;
			// Bounds come back as text in DuckDB's own format; the column type reads them.
			if (compat::TryCast(Value(text), column.type, bound, &error)) {
				auto tagged = ValueToJson(json, bound);
				if (tagged) {
					json.Add(result, key, tagged);
				}
			}
		}
	}
	return result;
}

JsonBuilder::Value IcebergInsert::PartitionJson(JsonBuilder &json, const Value &keys) const {
	auto result = json.Array();
	for (idx_t i = 0; i < partition_names.size(); i++) {
		JsonBuilder::Value value = nullptr;
		if (!keys.IsNull()) {
			for (auto &entry : MapValue::GetChildren(keys)) {
				auto &pair = StructValue::GetChildren(entry);
				if (pair[0].ToString() == partition_names[i] && !pair[1].IsNull()) {
					// The writer reports partition values as text; their column type reads them back.
					value = ValueToJson(json, Value(pair[1].ToString()).DefaultCastAs(partition_types[i]));
				}
			}
		}
		json.Append(result, value ? value : json.Null());
	}
	return result;
}

SinkResultType IcebergInsert::Sink(ExecutionContext &context, DataChunk &chunk, OperatorSinkInput &input) const {
	auto &state = input.global_state.Cast<IcebergInsertState>();
	auto &columns = table.Description().columns;
	lock_guard<mutex> guard(state.lock);
	for (idx_t row = 0; row < chunk.size(); row++) {
		auto path = chunk.GetValue(0, row).ToString();
		auto count = chunk.GetValue(1, row).GetValue<uint64_t>();
		if (count == 0) {
			// The partitioned writer reports its root directory too; it holds no rows.
			continue;
		}
		auto size = chunk.GetValue(2, row).GetValue<uint64_t>();
		auto &json = state.json;
		auto stats = json.Array();
		auto column_stats = chunk.GetValue(4, row);
		for (auto &entry : MapValue::GetChildren(column_stats)) {
			auto &pair = StructValue::GetChildren(entry);
			auto column = ColumnByPath(columns, pair[0].ToString());
			if (column) {
				json.Append(stats, StatsJson(json, *column, pair[1]));
			}
		}
		auto file = json.Add(json.Object(), "path", json.String(path));
		json.Add(file, "record_count", json.UInt(count));
		json.Add(file, "file_size", json.UInt(size));
		json.Add(file, "columns", stats);
		json.Add(file, "partition", PartitionJson(json, chunk.GetValue(5, row)));
		json.Append(state.files, file);
		state.file_count++;
		state.rows += count;
	}
	return SinkResultType::NEED_MORE_INPUT;
}

SinkFinalizeType IcebergInsert::Finalize(Pipeline &pipeline, Event &event, ClientContext &context,
                                         OperatorSinkFinalizeInput &input) const {
	auto &state = input.global_state.Cast<IcebergInsertState>();
	if (state.file_count > 0) {
		auto &transaction = IcebergTransaction::Get(context, table.catalog);
		auto secret = StorageSecretJson(context, table.Description().location);
		Check(floe_txn_write(transaction.Writes(), table.Table()->Get(), state.json.Write(state.files).c_str(),
		                     secret.c_str()));
	}
	if (deleted_rows) {
		state.deleted = deleted_rows->Commit(context);
	}
	return SinkFinalizeType::READY;
}

SourceResultType IcebergInsert::GetDataInternal(ExecutionContext &context, DataChunk &chunk,
                                                OperatorSourceInput &input) const {
	auto &state = sink_state->Cast<IcebergInsertState>();
	chunk.SetCardinality(1);
	auto rows = statement_rows ? statement_rows->load() : state.rows;
	chunk.SetValue(0, 0, Value::BIGINT(NumericCast<int64_t>(rows)));
	return SourceResultType::FINISHED;
}

} // namespace floe
