#include "floe/schema_entry.hpp"

#include "duckdb/catalog/entry_lookup_info.hpp"
#include "duckdb/common/enum_util.hpp"
#include "duckdb/parser/parsed_data/alter_table_info.hpp"
#include "duckdb/parser/parsed_data/create_view_info.hpp"
#include "duckdb/parser/parsed_data/drop_info.hpp"
#include "duckdb/planner/parsed_data/bound_create_table_info.hpp"
#include "duckdb/parser/parsed_data/create_schema_info.hpp"
#include "duckdb/catalog/catalog.hpp"
#include "floe/catalog.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/sort_order.hpp"
#include "floe/table_entry.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

IcebergSchemaEntry::IcebergSchemaEntry(Catalog &catalog, CreateSchemaInfo &info) : SchemaCatalogEntry(catalog, info) {
}

void IcebergSchemaEntry::Scan(ClientContext &context, CatalogType type,
                              const std::function<void(CatalogEntry &)> &callback) {
	auto &transaction = IcebergTransaction::Get(context, catalog);
	if (type == CatalogType::TABLE_ENTRY) {
		for (auto &table : transaction.Entries().AllTables(*this)) {
			callback(table.get());
		}
	} else if (type == CatalogType::VIEW_ENTRY) {
		for (auto &view : transaction.Entries().AllViews(*this)) {
			callback(view.get());
		}
	}
}

void IcebergSchemaEntry::Scan(CatalogType type, const std::function<void(CatalogEntry &)> &callback) {
	// Without a client context there is no transaction to load tables in; DuckDB only uses this
	// for its own storage.
}

optional_ptr<CatalogEntry> IcebergSchemaEntry::LookupEntry(CatalogTransaction transaction,
                                                           const EntryLookupInfo &lookup_info) {
	auto type = lookup_info.GetCatalogType();
	if (type != CatalogType::TABLE_ENTRY && type != CatalogType::VIEW_ENTRY) {
		return nullptr;
	}
	auto &iceberg_transaction = IcebergTransaction::Get(transaction, catalog);
	auto &name = lookup_info.GetEntryName();
	// DuckDB looks tables and views up as TABLE_ENTRY: they share one namespace.
	if (type == CatalogType::TABLE_ENTRY) {
		auto raw_of = RestrictedView::TableOfRawName(name, catalog.Cast<IcebergCatalog>().RawToken());
		if (transaction.context) {
			ViewChain::ResetPerQuery(*transaction.context);
		}
		auto table = iceberg_transaction.Entries().GetTable(*this, raw_of.empty() ? name : raw_of,
		                                                    SnapshotSelector::FromAtClause(lookup_info.GetAtClause()),
		                                                    ViewChain::Current());
		if (table) {
			// A restricted table reads through its secure view, which reads the raw table.
			if (table->Description().restricted && raw_of.empty()) {
				return &table->RestrictedRead();
			}
			return table.get();
		}
		if (!raw_of.empty()) {
			return nullptr;
		}
	}
	return iceberg_transaction.Entries().GetView(*this, name).get();
}

void IcebergSchemaEntry::Unsupported(const string &what) const {
	throw NotImplementedException("%s in Iceberg namespace '%s.%s' is not supported by this floe version", what,
	                              compat::Str(catalog.GetName()), name);
}

optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateIndex(CatalogTransaction, CreateIndexInfo &, TableCatalogEntry &) {
	Unsupported("CREATE INDEX");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateFunction(CatalogTransaction, CreateFunctionInfo &) {
	Unsupported("CREATE FUNCTION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateTable(CatalogTransaction transaction, BoundCreateTableInfo &info) {
	auto &create = info.Base().Cast<CreateTableInfo>();
	return IcebergTransaction::Get(transaction, catalog).CreateTable(*this, create).get();
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateView(CatalogTransaction transaction, CreateViewInfo &info) {
	return IcebergTransaction::Get(transaction, catalog).CreateView(*this, info).get();
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateSequence(CatalogTransaction, CreateSequenceInfo &) {
	Unsupported("CREATE SEQUENCE");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateTableFunction(CatalogTransaction, CreateTableFunctionInfo &) {
	Unsupported("CREATE FUNCTION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateCopyFunction(CatalogTransaction, CreateCopyFunctionInfo &) {
	Unsupported("CREATE FUNCTION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreatePragmaFunction(CatalogTransaction, CreatePragmaFunctionInfo &) {
	Unsupported("CREATE FUNCTION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateCollation(CatalogTransaction, CreateCollationInfo &) {
	Unsupported("CREATE COLLATION");
}
optional_ptr<CatalogEntry> IcebergSchemaEntry::CreateType(CatalogTransaction, CreateTypeInfo &) {
	Unsupported("CREATE TYPE");
}
void IcebergSchemaEntry::DropEntry(ClientContext &context, DropInfo &info) {
	auto if_exists = info.if_not_found == OnEntryNotFound::RETURN_NULL;
	// CASCADE changes nothing: no DuckDB object depends on an Iceberg table or view.
	switch (info.type) {
	case CatalogType::TABLE_ENTRY:
		IcebergTransaction::Get(context, catalog)
		    .DropTable(*this, compat::Str(info.GetQualifiedName().Name()), if_exists);
		return;
	case CatalogType::VIEW_ENTRY:
		IcebergTransaction::Get(context, catalog)
		    .DropView(*this, compat::Str(info.GetQualifiedName().Name()), if_exists);
		return;
	default:
		Unsupported("DROP " + CatalogTypeToString(info.type));
	}
}

void IcebergSchemaEntry::Alter(CatalogTransaction transaction, AlterInfo &info) {
	auto &iceberg_transaction = IcebergTransaction::Get(transaction, catalog);
	if (info.type == AlterType::ALTER_VIEW) {
		auto &alter = info.Cast<AlterViewInfo>();
		if (alter.alter_view_type != AlterViewType::RENAME_VIEW) {
			Unsupported("ALTER VIEW ... " + EnumUtil::ToString(alter.alter_view_type));
		}
		if (!iceberg_transaction.Entries().GetView(*this, compat::Str(alter.GetQualifiedName().Name())) &&
		    alter.if_not_found == OnEntryNotFound::RETURN_NULL) {
			return;
		}
		iceberg_transaction.RenameView(*this, compat::Str(alter.GetQualifiedName().Name()),
		                               compat::Str(alter.Cast<RenameViewInfo>().new_view_name));
		return;
	}
	if (info.type == AlterType::SET_COLUMN_COMMENT || info.type == AlterType::SET_COMMENT) {
		if (info.GetCatalogType() != CatalogType::TABLE_ENTRY) {
			Unsupported("COMMENT ON " + CatalogTypeToString(info.GetCatalogType()));
		}
		iceberg_transaction.Alter(*this, compat::Str(info.GetQualifiedName().Name()), info);
		return;
	}
	if (info.type != AlterType::ALTER_TABLE) {
		Unsupported("ALTER " + CatalogTypeToString(info.GetCatalogType()));
	}
	auto &alter = info.Cast<AlterTableInfo>();
	switch (alter.alter_table_type) {
	case AlterTableType::RENAME_TABLE: {
		auto &rename = alter.Cast<RenameTableInfo>();
		if (!iceberg_transaction.Entries().GetTable(*this, compat::Str(alter.GetQualifiedName().Name()),
		                                            SnapshotSelector::Current())) {
			if (alter.if_not_found == OnEntryNotFound::RETURN_NULL) {
				return;
			}
			throw CatalogException("Table '%s.%s' does not exist in Iceberg catalog '%s' or you may not see it", name,
			                       compat::Str(alter.GetQualifiedName().Name()), compat::Str(catalog.GetName()));
		}
		iceberg_transaction.RenameTable(*this, compat::Str(alter.GetQualifiedName().Name()),
		                                compat::Str(rename.new_table_name));
		return;
	}
	case AlterTableType::SET_PARTITIONED_BY: {
		auto &keys = alter.Cast<SetPartitionedByInfo>().partition_keys;
		iceberg_transaction.Repartition(*this, compat::Str(alter.GetQualifiedName().Name()), keys);
		return;
	}
	case AlterTableType::SET_SORTED_BY:
		ResolveDefaultOrders(transaction.GetContext(), alter.Cast<SetSortedByInfo>().orders);
		iceberg_transaction.Alter(*this, compat::Str(alter.GetQualifiedName().Name()), alter);
		return;
	default:
		iceberg_transaction.Alter(*this, compat::Str(alter.GetQualifiedName().Name()), alter);
		return;
	}
}

} // namespace floe
