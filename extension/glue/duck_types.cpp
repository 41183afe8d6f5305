#include "floe/duck_types.hpp"

#include "duckdb/common/enum_util.hpp"
#include "duckdb/parser/constraints/not_null_constraint.hpp"

namespace floe {

using namespace duckdb;

static string TypeToJson(const LogicalType &type) {
	auto id = json::Quote(EnumUtil::ToString(type.id()));
	switch (type.id()) {
	case LogicalTypeId::DECIMAL:
		return StringUtil::Format("{\"id\":%s,\"width\":%d,\"scale\":%d}", id, DecimalType::GetWidth(type),
		                          DecimalType::GetScale(type));
	case LogicalTypeId::STRUCT: {
		string children;
		for (auto &child : StructType::GetChildTypes(type)) {
			children += (children.empty() ? "" : ",") +
			            StringUtil::Format("{\"name\":%s,\"type\":%s}", json::Quote(child.first), TypeToJson(child.second));
		}
		return StringUtil::Format("{\"id\":%s,\"children\":[%s]}", id, children);
	}
	case LogicalTypeId::LIST:
		return StringUtil::Format("{\"id\":%s,\"child\":%s}", id, TypeToJson(ListType::GetChildType(type)));
	case LogicalTypeId::ARRAY:
		return StringUtil::Format("{\"id\":%s,\"child\":%s}", id, TypeToJson(ArrayType::GetChildType(type)));
	case LogicalTypeId::MAP:
		return StringUtil::Format("{\"id\":%s,\"key\":%s,\"value\":%s}", id, TypeToJson(MapType::KeyType(type)),
		                          TypeToJson(MapType::ValueType(type)));
	default:
		return StringUtil::Format("{\"id\":%s}", id);
	}
}

string ColumnsToJson(const ColumnList &columns, const vector<unique_ptr<Constraint>> &constraints) {
	unordered_set<idx_t> not_null;
	for (auto &constraint : constraints) {
		if (constraint->type == ConstraintType::NOT_NULL) {
			not_null.insert(constraint->Cast<NotNullConstraint>().index.index);
		}
	}
	string result;
	for (auto &column : columns.Logical()) {
		auto nullable = !not_null.count(column.Logical().index);
		result += (result.empty() ? "" : ",") + StringUtil::Format("{\"name\":%s,\"type\":%s,\"nullable\":%s}",
		                                                           json::Quote(column.Name()),
		                                                           TypeToJson(column.Type()), nullable ? "true" : "false");
	}
	return "[" + result + "]";
}

} // namespace floe
