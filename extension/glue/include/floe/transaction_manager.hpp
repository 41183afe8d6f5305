//===----------------------------------------------------------------------===//
// floe: starts, commits and rolls back IcebergTransactions.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/transaction/transaction_manager.hpp"
#include "floe/json.hpp"

namespace floe {

class IcebergCatalog;
class IcebergTransaction;

class IcebergTransactionManager : public duckdb::TransactionManager {
public:
	IcebergTransactionManager(duckdb::AttachedDatabase &db, IcebergCatalog &catalog);
	~IcebergTransactionManager() override;

	duckdb::Transaction &StartTransaction(duckdb::ClientContext &context) override;
	duckdb::ErrorData CommitTransaction(duckdb::ClientContext &context, duckdb::Transaction &transaction) override;
	void RollbackTransaction(duckdb::Transaction &transaction) override;
	void Checkpoint(duckdb::ClientContext &context, bool force = false) override;

private:
	IcebergCatalog &catalog;
	duckdb::mutex lock;
	duckdb::reference_map_t<duckdb::Transaction, unique_ptr<IcebergTransaction>> transactions;
};

} // namespace floe
