#include "floe/table_edits.hpp"

#include "duckdb/common/enum_util.hpp"
#include "duckdb/parser/expression/cast_expression.hpp"
#include "duckdb/parser/expression/columnref_expression.hpp"
#include "duckdb/parser/parsed_data/alter_table_info.hpp"
#include "duckdb/parser/parsed_data/comment_on_column_info.hpp"
#include "floe/column_defaults.hpp"
#include "floe/duck_types.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/json.hpp"
#include "floe/sort_order.hpp"

namespace floe {

using namespace duckdb;

string TableOptionText(const ParsedExpression &expression) {
	if (expression.GetExpressionType() == ExpressionType::VALUE_CONSTANT) {
		return compat::ConstantValue(expression.Cast<ConstantExpression>()).ToString();
	}
	return expression.ToString();
}

template <class NAMES>
static JsonBuilder::Value PathToJson(JsonBuilder &json, const NAMES &names) {
	auto path = json.Array();
	for (auto &name : names) {
		json.Append(path, json.String(compat::Str(name)));
	}
	return path;
}

static JsonBuilder::Value Edit(JsonBuilder &json, const char *kind) {
	return json.Add(json.Object(), "kind", json.String(kind));
}

//! A column definition of ADD COLUMN / ADD FIELD. A DEFAULT NULL is no default: DuckDB adds a
//! column with a computed default as DEFAULT NULL, an UPDATE and SET DEFAULT.
static JsonBuilder::Value AddColumn(JsonBuilder &json, ClientContext &context, JsonBuilder::Value parent,
                                    const ColumnDefinition &column, bool if_not_exists) {
	auto definition = json.Add(json.Object(), "name", json.String(compat::Str(column.Name())));
	json.Add(definition, "type", TypeToJson(json, column.Type()));
	auto edit = Edit(json, "add_column");
	json.Add(edit, "parent", parent);
	json.Add(edit, "column", definition);
	json.Add(edit, "if_not_exists", json.Bool(if_not_exists));
	auto default_value = column.HasDefaultValue() ? &column.DefaultValue() : nullptr;
	AddDefault(json, edit, context, default_value, column.Type());
	return edit;
}

//! The type of the column (or struct field) at `path`, matched as DuckDB matches names;
//! NULL where there is none (the core then names the missing column).
static LogicalType ColumnType(const vector<IcebergColumn> &columns, const vector<string> &path) {
	auto level = &columns;
	LogicalType type = LogicalType::SQLNULL;
	for (auto &name : path) {
		auto found = std::find_if(level->begin(), level->end(),
		                          [&](const IcebergColumn &column) { return StringUtil::CIEquals(column.name, name); });
		if (found == level->end()) {
			return LogicalType::SQLNULL;
		}
		type = found->type;
		level = &found->children;
	}
	return type;
}

//! ALTER COLUMN ... SET DEFAULT / DROP DEFAULT (no expression).
static JsonBuilder::Value SetDefault(JsonBuilder &json, ClientContext &context, const SetDefaultInfo &info,
                                     const vector<IcebergColumn> &columns) {
	auto path = compat::AlteredColumnPath(info);
	auto edit = json.Add(Edit(json, "set_default"), "path", PathToJson(json, path));
	auto type = ColumnType(columns, path);
	if (type.id() != LogicalTypeId::SQLNULL) {
		AddDefault(json, edit, context, info.expression.get(), type);
	}
	return edit;
}

//! ALTER COLUMN ... TYPE: only a plain cast of the column is a type change; USING with another
//! expression would rewrite the rows.
static JsonBuilder::Value SetType(JsonBuilder &json, const ChangeColumnTypeInfo &info, const string &table) {
	auto path = compat::AlteredColumnPath(info);
	auto plain = !info.expression;
	if (info.expression) {
		const ParsedExpression *casted = info.expression.get();
		if (casted->GetExpressionClass() == ExpressionClass::CAST) {
			casted = &compat::CastChild(casted->Cast<CastExpression>());
		}
		plain = casted->GetExpressionClass() == ExpressionClass::COLUMN_REF &&
		        StringUtil::CIEquals(compat::Str(casted->Cast<ColumnRefExpression>().GetColumnName()), path.back());
	}
	if (!plain) {
		throw NotImplementedException("ALTER TABLE %s ALTER COLUMN %s TYPE ... USING <expression> is not supported on "
		                              "Iceberg tables: it rewrites every row. Fix: rewrite the table with CREATE OR "
		                              "REPLACE TABLE ... AS SELECT",
		                              table, path.back());
	}
	auto edit = Edit(json, "set_type");
	json.Add(edit, "path", PathToJson(json, path));
	return json.Add(edit, "type", TypeToJson(json, info.target_type));
}

static JsonBuilder::Value AlterTableToJson(JsonBuilder &json, ClientContext &context, const AlterTableInfo &info,
                                           const string &table, const vector<IcebergColumn> &columns) {
	switch (info.alter_table_type) {
	case AlterTableType::ADD_COLUMN: {
		auto &add = info.Cast<AddColumnInfo>();
		return AddColumn(json, context, json.Array(), add.new_column, add.if_column_not_exists);
	}
	case AlterTableType::ADD_FIELD: {
		auto &add = info.Cast<AddFieldInfo>();
		return AddColumn(json, context, PathToJson(json, add.column_path), add.new_field, add.if_field_not_exists);
	}
	case AlterTableType::REMOVE_COLUMN: {
		// CASCADE changes nothing: no DuckDB object depends on a column of an Iceberg table.
		auto &drop = info.Cast<RemoveColumnInfo>();
		auto edit = Edit(json, "drop_column");
		json.Add(edit, "path", PathToJson(json, vector<string> {compat::Str(drop.removed_column)}));
		return json.Add(edit, "if_exists", json.Bool(drop.if_column_exists));
	}
	case AlterTableType::REMOVE_FIELD: {
		auto &drop = info.Cast<RemoveFieldInfo>();
		auto edit = Edit(json, "drop_column");
		json.Add(edit, "path", PathToJson(json, drop.column_path));
		return json.Add(edit, "if_exists", json.Bool(drop.if_column_exists));
	}
	case AlterTableType::RENAME_COLUMN: {
		auto &rename = info.Cast<RenameColumnInfo>();
		auto edit = Edit(json, "rename_column");
		json.Add(edit, "path", PathToJson(json, vector<string> {compat::Str(rename.old_name)}));
		return json.Add(edit, "new_name", json.String(compat::Str(rename.new_name)));
	}
	case AlterTableType::RENAME_FIELD: {
		auto &rename = info.Cast<RenameFieldInfo>();
		auto edit = Edit(json, "rename_column");
		json.Add(edit, "path", PathToJson(json, rename.column_path));
		return json.Add(edit, "new_name", json.String(compat::Str(rename.new_name)));
	}
	case AlterTableType::ALTER_COLUMN_TYPE:
		return SetType(json, info.Cast<ChangeColumnTypeInfo>(), table);
	case AlterTableType::SET_NOT_NULL:
		return json.Add(Edit(json, "set_not_null"), "path",
		                PathToJson(json, compat::AlteredColumnPath(info.Cast<SetNotNullInfo>())));
	case AlterTableType::DROP_NOT_NULL:
		return json.Add(Edit(json, "drop_not_null"), "path",
		                PathToJson(json, compat::AlteredColumnPath(info.Cast<DropNotNullInfo>())));
	case AlterTableType::SET_DEFAULT:
		return SetDefault(json, context, info.Cast<SetDefaultInfo>(), columns);
	case AlterTableType::SET_TABLE_OPTIONS: {
		auto properties = json.Object();
		for (auto &option : info.Cast<SetTableOptionsInfo>().table_options) {
			json.Add(properties, compat::Str(option.first), json.String(TableOptionText(*option.second)));
		}
		return json.Add(Edit(json, "set_properties"), "properties", properties);
	}
	case AlterTableType::RESET_TABLE_OPTIONS:
		return json.Add(Edit(json, "remove_properties"), "keys",
		                PathToJson(json, info.Cast<ResetTableOptionsInfo>().table_options));
	case AlterTableType::SET_SORTED_BY:
		// RESET SORTED BY parses as SET SORTED BY with no keys.
		return json.Add(Edit(json, "set_sort_order"), "keys",
		                SortKeysToJson(json, info.Cast<SetSortedByInfo>().orders));
	default:
		throw NotImplementedException("ALTER TABLE %s ... %s is not supported on Iceberg tables. Fix: see the README's "
		                              "ALTER TABLE section for the forms floe commits",
		                              table, EnumUtil::ToString(info.alter_table_type));
	}
}

string TableEditJson(ClientContext &context, const AlterInfo &info, const string &table,
                     const vector<IcebergColumn> &columns) {
	JsonBuilder json;
	switch (info.type) {
	case AlterType::ALTER_TABLE:
		return json.Write(AlterTableToJson(json, context, info.Cast<AlterTableInfo>(), table, columns));
	case AlterType::SET_COLUMN_COMMENT: {
		auto &comment = info.Cast<SetColumnCommentInfo>();
		auto edit = Edit(json, "set_doc");
		json.Add(edit, "path", PathToJson(json, vector<string> {compat::Str(comment.column_name)}));
		auto doc = comment.comment_value.IsNull() ? json.Null() : json.String(comment.comment_value.ToString());
		return json.Write(json.Add(edit, "doc", doc));
	}
	case AlterType::SET_COMMENT: {
		// Iceberg has no table comment; engines keep it in the `comment` property.
		auto &comment = info.Cast<SetCommentInfo>();
		if (comment.comment_value.IsNull()) {
			auto edit = Edit(json, "remove_properties");
			return json.Write(json.Add(edit, "keys", PathToJson(json, vector<string> {"comment"})));
		}
		auto properties = json.Add(json.Object(), "comment", json.String(comment.comment_value.ToString()));
		return json.Write(json.Add(Edit(json, "set_properties"), "properties", properties));
	}
	default:
		throw NotImplementedException("ALTER %s of Iceberg table %s is not supported", EnumUtil::ToString(info.type),
		                              table);
	}
}

} // namespace floe
