#include "floe/restricted_view.hpp"

#include "duckdb/common/string_util.hpp"
#include "duckdb/parser/keyword_helper.hpp"
#include "duckdb/parser/parsed_data/create_view_info.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "floe/table_entry.hpp"

namespace floe {

using namespace duckdb;

static constexpr const char *RAW_MARK = "$floe_raw$";

string RestrictedView::RawName(const string &table_name, const string &token) {
	return table_name + RAW_MARK + token;
}

string RestrictedView::TableOfRawName(const string &name, const string &token) {
	auto suffix = string(RAW_MARK) + token;
	if (name.size() <= suffix.size() || !StringUtil::EndsWith(name, suffix)) {
		return string();
	}
	return name.substr(0, name.size() - suffix.size());
}

bool RestrictedView::Supported() {
	return FLOE_DUCKDB_2;
}

RestrictedView::RestrictedView(Catalog &catalog, SchemaCatalogEntry &schema, CreateViewInfo &info,
                               IcebergTableEntry &table)
    : ViewCatalogEntry(catalog, schema, info), table(table) {
}

unique_ptr<RestrictedView> RestrictedView::Create(Catalog &catalog, SchemaCatalogEntry &schema,
                                                  IcebergTableEntry &table, const string &select, const string &filter,
                                                  const string &token) {
	auto source = KeywordHelper::WriteQuoted(compat::Str(catalog.GetName()), '"') + "." +
	              KeywordHelper::WriteQuoted(compat::Str(schema.name), '"') + "." +
	              KeywordHelper::WriteQuoted(RawName(compat::Str(table.name), token), '"');
	auto sql = "SELECT " + select + " FROM " + source + " AS restricted_source WHERE " + filter;
	auto parser = compat::BuiltinParser();
	parser.ParseQuery(sql);
	if (parser.statements.size() != 1 || parser.statements[0]->type != StatementType::SELECT_STATEMENT) {
		throw InternalException("floe: the restricted read of '%s' is not one SELECT", compat::Str(table.name));
	}
	CreateViewInfo info;
	info.SetQualifiedName(QualifiedName(Identifier(catalog.GetName()), schema.name, table.name));
	info.sql = sql;
	info.query = unique_ptr_cast<SQLStatement, SelectStatement>(std::move(parser.statements[0]));
	compat::MakeSecure(info);
	return make_uniq<RestrictedView>(catalog, schema, info, table);
}

} // namespace floe
