#include "floe/insert.hpp"

#include "duckdb/catalog/catalog_entry/copy_function_catalog_entry.hpp"
#include "duckdb/execution/operator/persistent/physical_copy_to_file.hpp"
#include "duckdb/execution/operator/projection/physical_projection.hpp"
#include "duckdb/main/database.hpp"
#include "duckdb/planner/expression/bound_cast_expression.hpp"
#include "duckdb/planner/expression/bound_reference_expression.hpp"
#include "floe/partitioning.hpp"
#include "floe/secret.hpp"
#include "floe/transaction.hpp"
#include "floe/values.hpp"

namespace floe {

using namespace duckdb;

//! Iceberg's default target data file size (write.target-file-size-bytes).
static constexpr idx_t DEFAULT_TARGET_FILE_SIZE = 512ULL * 1024 * 1024;

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

static string Property(const TableDescription &description, const string &key, const string &fallback) {
	auto entry = description.properties.find(key);
	return entry == description.properties.end() ? fallback : entry->second;
}

//! Casts the rows to the types the table stores (e.g. TINYINT -> INTEGER, HUGEINT ->
//! DECIMAL(38,0)), so the files hold exactly the Iceberg types.
static PhysicalOperator &CastToTableTypes(ClientContext &context, PhysicalPlanGenerator &planner,
                                          const vector<IcebergColumn> &columns, PhysicalOperator &child) {
	if (child.types.size() != columns.size()) {
		throw InvalidInputException("Table has %d columns but %d values were supplied", columns.size(),
		                            child.types.size());
	}
	bool needs_cast = false;
	vector<LogicalType> types;
	vector<unique_ptr<Expression>> expressions;
	for (idx_t i = 0; i < columns.size(); i++) {
		unique_ptr<Expression> expression = make_uniq<BoundReferenceExpression>(child.types[i], i);
		if (child.types[i] != columns[i].type) {
			needs_cast = true;
			expression = BoundCastExpression::AddCastToType(context, std::move(expression), columns[i].type);
		}
		types.push_back(columns[i].type);
		expressions.push_back(std::move(expression));
	}
	if (!needs_cast) {
		return child;
	}
	auto &projection =
	    planner.Make<PhysicalProjection>(std::move(types), std::move(expressions), child.estimated_cardinality);
	projection.children.push_back(child);
	return projection;
}

PhysicalOperator &IcebergInsert::Plan(ClientContext &context, PhysicalPlanGenerator &planner, IcebergTableEntry &table,
                                      PhysicalOperator &child) {
	table.RegisterStorageSecret(context);
	auto &description = table.Description();
	auto &columns = description.columns;
	auto &input = CastToTableTypes(context, planner, columns, child);

	auto &parquet = Catalog::GetEntry<CopyFunctionCatalogEntry>(context, SYSTEM_CATALOG, DEFAULT_SCHEMA, "parquet");
	CopyInfo info;
	info.is_from = false;
	info.format = "parquet";
	info.options["field_ids"] = {FieldIds(columns)};
	info.options["compression"] = {Value(Property(description, "write.parquet.compression-codec", "zstd"))};
	auto row_group_bytes = Property(description, "write.parquet.row-group-size-bytes", "");
	if (!row_group_bytes.empty()) {
		info.options["row_group_size_bytes"] = {Value::UBIGINT(std::stoull(row_group_bytes))};
	}
	vector<string> names;
	vector<LogicalType> types;
	for (auto &column : columns) {
		names.push_back(column.name);
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
			partition_types.push_back(value->return_type);
			expressions.push_back(std::move(value));
		}
		vector<LogicalType> projected_types = types;
		projected_types.insert(projected_types.end(), partition_types.begin(), partition_types.end());
		auto &projection = planner.Make<PhysicalProjection>(std::move(projected_types), std::move(expressions),
		                                                    input.estimated_cardinality);
		projection.children.push_back(input);
		source = projection;
	}

	auto &copy = planner
	                 .Make<PhysicalCopyToFile>(GetCopyFunctionReturnLogicalTypes(CopyFunctionReturnType::WRITTEN_FILE_STATISTICS),
	                                           parquet.function, std::move(bind_data), input.estimated_cardinality)
	                 .Cast<PhysicalCopyToFile>();
	// One directory per statement, so the files of a statement that fails can be removed.
	auto &transaction = IcebergTransaction::Get(context, table.catalog);
	auto secret = S3SecretJson(context, description.location);
	FloeString directory;
	Check(floe_txn_write_location(transaction.Writes(), table.Table()->Get(), secret.c_str(), &directory));
	copy.file_path = json::String(Json(directory).Root());
	copy.use_tmp_file = false;
	copy.filename_pattern.SetFilenamePattern("{uuidv7}");
	copy.file_extension = "parquet";
	copy.overwrite_mode = CopyOverwriteMode::COPY_OVERWRITE_OR_IGNORE;
	copy.per_thread_output = false;
	copy.parallel = true;
	copy.rotate = true;
	copy.file_size_bytes = std::stoull(Property(description, "write.target-file-size-bytes",
	                                            std::to_string(DEFAULT_TARGET_FILE_SIZE)));
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
		// DuckDB's partitioned writer does not split files by size.
		copy.rotate = false;
		copy.file_size_bytes = optional_idx();
		for (idx_t i = 0; i < partition_names.size(); i++) {
			copy.partition_columns.push_back(names.size() + i);
			copy.names.push_back(partition_names[i]);
			copy.expected_types.push_back(partition_types[i]);
		}
	}
	copy.children.push_back(source.get());

	auto &insert = planner.Make<IcebergInsert>(table, input.estimated_cardinality).Cast<IcebergInsert>();
	insert.partition_names = std::move(partition_names);
	insert.partition_types = std::move(partition_types);
	insert.children.push_back(copy);
	return insert;
}

class IcebergInsertState : public GlobalSinkState {
public:
	mutex lock;
	vector<string> files;
	idx_t rows = 0;
};

unique_ptr<GlobalSinkState> IcebergInsert::GetGlobalSinkState(ClientContext &context) const {
	return make_uniq<IcebergInsertState>();
}

//! The field a Parquet column path (e.g. `point.x`) names, if it is one with bounds.
static optional_ptr<const IcebergColumn> ColumnByPath(const vector<IcebergColumn> &columns, const string &path) {
	auto parts = StringUtil::Split(path, '.');
	const vector<IcebergColumn> *level = &columns;
	optional_ptr<const IcebergColumn> found;
	for (auto &part : parts) {
		found = nullptr;
		auto name = StringUtil::Replace(part, "\"", "");
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

static string StatsJson(const IcebergColumn &column, const Value &stats_map) {
	string fields = StringUtil::Format("\"field_id\":%d", column.field_id);
	for (auto &entry : MapValue::GetChildren(stats_map)) {
		auto &pair = StructValue::GetChildren(entry);
		auto key = pair[0].ToString();
		if (pair[1].IsNull()) {
			continue;
		}
		auto text = pair[1].ToString();
		if (key == "null_count" || key == "num_values" || key == "column_size_bytes") {
			auto name = key == "num_values" ? "value_count" : key == "column_size_bytes" ? "column_size" : "null_count";
			fields += StringUtil::Format(",\"%s\":%s", name, text);
		} else if (key == "has_nan") {
			fields += StringUtil::Format(",\"has_nan\":%s", text == "true" ? "true" : "false");
		} else if (key == "min" || key == "max") {
			Value bound;
			string error;
			// Bounds come back as text in DuckDB's own format; the column type reads them.
			if (Value(text).DefaultTryCastAs(column.type, bound, &error, true)) {
				auto tagged = ValueToJson(bound);
				if (!tagged.empty()) {
					fields += StringUtil::Format(",\"%s\":%s", key, tagged);
				}
			}
		}
	}
	return "{" + fields + "}";
}

string IcebergInsert::PartitionJson(const Value &keys) const {
	string result;
	for (idx_t i = 0; i < partition_names.size(); i++) {
		string value = "null";
		if (!keys.IsNull()) {
			for (auto &entry : MapValue::GetChildren(keys)) {
				auto &pair = StructValue::GetChildren(entry);
				if (pair[0].ToString() == partition_names[i] && !pair[1].IsNull()) {
					// The writer reports partition values as text; their column type reads them back.
					auto typed = ValueToJson(Value(pair[1].ToString()).DefaultCastAs(partition_types[i]));
					value = typed.empty() ? "null" : typed;
				}
			}
		}
		result += (result.empty() ? "" : ",") + value;
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
		string stats;
		auto column_stats = chunk.GetValue(4, row);
		for (auto &entry : MapValue::GetChildren(column_stats)) {
			auto &pair = StructValue::GetChildren(entry);
			auto column = ColumnByPath(columns, pair[0].ToString());
			if (column) {
				stats += (stats.empty() ? "" : ",") + StatsJson(*column, pair[1]);
			}
		}
		state.files.push_back(StringUtil::Format(
		    "{\"path\":%s,\"record_count\":%llu,\"file_size\":%llu,\"columns\":[%s],\"partition\":[%s]}",
		    json::Quote(path), count, size, stats, PartitionJson(chunk.GetValue(5, row))));
		state.rows += count;
	}
	return SinkResultType::NEED_MORE_INPUT;
}

SinkFinalizeType IcebergInsert::Finalize(Pipeline &pipeline, Event &event, ClientContext &context,
                                         OperatorSinkFinalizeInput &input) const {
	auto &state = input.global_state.Cast<IcebergInsertState>();
	if (state.files.empty()) {
		return SinkFinalizeType::READY;
	}
	string files;
	for (auto &file : state.files) {
		files += (files.empty() ? "" : ",") + file;
	}
	auto &transaction = IcebergTransaction::Get(context, table.catalog);
	auto secret = S3SecretJson(context, table.Description().location);
	Check(floe_txn_write(transaction.Writes(), table.Table()->Get(), ("[" + files + "]").c_str(), secret.c_str()));
	return SinkFinalizeType::READY;
}

SourceResultType IcebergInsert::GetDataInternal(ExecutionContext &context, DataChunk &chunk,
                                                OperatorSourceInput &input) const {
	auto &state = sink_state->Cast<IcebergInsertState>();
	chunk.SetCardinality(1);
	chunk.SetValue(0, 0, Value::BIGINT(NumericCast<int64_t>(state.rows)));
	return SourceResultType::FINISHED;
}

} // namespace floe
