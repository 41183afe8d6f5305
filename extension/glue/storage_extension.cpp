#include "floe/storage_extension.hpp"

#include "floe/catalog.hpp"
#include "floe/transaction_manager.hpp"

namespace floe {

using namespace duckdb;

static unique_ptr<TransactionManager> CreateTransactionManager(optional_ptr<StorageExtensionInfo> storage_info,
                                                               AttachedDatabase &db, Catalog &catalog) {
	return make_uniq<IcebergTransactionManager>(db, catalog.Cast<IcebergCatalog>());
}

shared_ptr<StorageExtension> CreateStorageExtension(TableFunction scan_function) {
	auto extension = make_shared_ptr<StorageExtension>();
	extension->attach = IcebergCatalog::Attach;
	extension->create_transaction_manager = CreateTransactionManager;
	extension->storage_info = make_shared_ptr<IcebergStorageInfo>(std::move(scan_function));
	return extension;
}

} // namespace floe
