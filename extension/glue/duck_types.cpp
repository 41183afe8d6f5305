#include "floe/duck_types.hpp"

#include "duckdb/common/enum_util.hpp"
#include "floe/duckdb_compat.hpp"
#include "duckdb/parser/constraints/not_null_constraint.hpp"

namespace floe {

using namespace duckdb;

JsonBuilder::Value TypeToJson(JsonBuilder &json, const LogicalType &type) {
	auto result = json.Add(json.Object(), "id", json.String(EnumUtil::ToString(type.id())));
	switch (type.id()) {
	case LogicalTypeId::DECIMAL:
		json.Add(result, "width", json.Int(DecimalType::GetWidth(type)));
		return json.Add(result, "scale", json.Int(DecimalType::GetScale(type)));
	case LogicalTypeId::STRUCT: {
		auto children = json.Array();
		for (auto &child : StructType::GetChildTypes(type)) {
			auto field = json.Add(json.Object(), "name", json.String(compat::Str(child.first)));
			json.Append(children, json.Add(field, "type", TypeToJson(json, child.second)));
		}
		return json.Add(result, "children", children);
	}
	case LogicalTypeId::LIST:
		return json.Add(result, "child", TypeToJson(json, ListType::GetChildType(type)));
	case LogicalTypeId::ARRAY:
		return json.Add(result, "child", TypeToJson(json, ArrayType::GetChildType(type)));
	case LogicalTypeId::MAP:
		json.Add(result, "key", TypeToJson(json, MapType::KeyType(type)));
		return json.Add(result, "value", TypeToJson(json, MapType::ValueType(type)));
	default:
		return result;
	}
}

JsonBuilder::Value ColumnsToJson(JsonBuilder &json, const ColumnList &columns,
                                 const vector<unique_ptr<Constraint>> &constraints) {
	unordered_set<idx_t> not_null;
	for (auto &constraint : constraints) {
		if (constraint->type == ConstraintType::NOT_NULL) {
			not_null.insert(constraint->Cast<NotNullConstraint>().index.index);
		}
	}
	auto result = json.Array();
	for (auto &column : columns.Logical()) {
		auto definition = json.Add(json.Object(), "name", json.String(compat::Str(column.Name())));
		json.Add(definition, "type", TypeToJson(json, column.Type()));
		json.Add(definition, "nullable", json.Bool(!not_null.count(column.Logical().index)));
		json.Append(result, definition);
	}
	return result;
}

} // namespace floe
