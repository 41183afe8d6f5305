#include "floe/columns.hpp"

#include "duckdb/parser/expression/constant_expression.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/values.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static LogicalType PrimitiveType(const string &kind, yyjson_val *column) {
	static const case_insensitive_map_t<LogicalType> primitives = {
	    {"BOOLEAN", LogicalType::BOOLEAN},
	    {"INTEGER", LogicalType::INTEGER},
	    {"BIGINT", LogicalType::BIGINT},
	    {"FLOAT", LogicalType::FLOAT},
	    {"DOUBLE", LogicalType::DOUBLE},
	    {"DATE", LogicalType::DATE},
	    {"TIME", LogicalType::TIME},
	    {"TIMESTAMP", LogicalType::TIMESTAMP},
	    {"TIMESTAMP WITH TIME ZONE", LogicalType::TIMESTAMP_TZ},
	    {"TIMESTAMP_NS", LogicalType::TIMESTAMP_NS},
	    {"VARCHAR", LogicalType::VARCHAR},
	    {"UUID", LogicalType::UUID},
	    {"BLOB", LogicalType::BLOB},
	};
	if (kind == "DECIMAL") {
		auto width = json::Int(json::Get(column, "width"));
		auto scale = json::Int(json::Get(column, "scale"));
		return LogicalType::DECIMAL(NumericCast<uint8_t>(width), NumericCast<uint8_t>(scale));
	}
	auto entry = primitives.find(kind);
	if (entry == primitives.end()) {
		throw IOException("floe internal error: unknown column kind '%s' from the core", kind);
	}
	return entry->second;
}

static IcebergColumn ParseColumn(yyjson_val *column) {
	IcebergColumn result;
	result.name = json::String(json::Get(column, "name"));
	result.field_id = NumericCast<int32_t>(json::Int(json::Get(column, "field_id")));
	result.required = yyjson_get_bool(json::Get(column, "required"));
	result.doc = json::StringOr(column, "doc", "");
	auto children = yyjson_obj_get(column, "children");
	if (children) {
		result.children = ParseColumns(children);
	}
	auto kind = json::String(json::Get(column, "kind"));
	if (kind == "STRUCT") {
		child_list_t<LogicalType> fields;
		for (auto &child : result.children) {
			fields.emplace_back(child.name, child.type);
		}
		result.type = LogicalType::STRUCT(std::move(fields));
	} else if (kind == "LIST") {
		result.type = LogicalType::LIST(result.children.at(0).type);
	} else if (kind == "MAP") {
		result.type = LogicalType::MAP(result.children.at(0).type, result.children.at(1).type);
	} else {
		result.type = PrimitiveType(kind, column);
	}
	result.initial_default = ValueFromJson(yyjson_obj_get(column, "initial_default"), result.type);
	result.write_default = ValueFromJson(yyjson_obj_get(column, "write_default"), result.type);
	return result;
}

vector<IcebergColumn> ParseColumns(yyjson_val *array) {
	vector<IcebergColumn> result;
	size_t index, count;
	yyjson_val *column;
	yyjson_arr_foreach(array, index, count, column) {
		result.push_back(ParseColumn(column));
	}
	return result;
}

MultiFileColumnDefinition IcebergColumn::ToMultiFileColumn() const {
	MultiFileColumnDefinition result(Identifier(name), type);
	result.identifier = Value::INTEGER(field_id);
	// Columns added after a file was written read their initial default in that file.
	result.default_expression = compat::ConstantFromValue(initial_default);
	for (auto &child : children) {
		result.children.push_back(child.ToMultiFileColumn());
	}
	return result;
}

ColumnDefinition IcebergColumn::ToColumnDefinition() const {
	ColumnDefinition result(Identifier(name), type);
	if (!doc.empty()) {
		result.SetComment(Value(doc));
	}
	if (!write_default.IsNull()) {
		result.SetDefaultValue(compat::ConstantFromValue(write_default));
	}
	return result;
}

} // namespace floe
