#include "floe/transaction_manager.hpp"

#include "floe/catalog.hpp"
#include "floe/checkpoint.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

IcebergTransactionManager::IcebergTransactionManager(AttachedDatabase &db, IcebergCatalog &catalog)
    : TransactionManager(db), catalog(catalog) {
}

IcebergTransactionManager::~IcebergTransactionManager() {
}

Transaction &IcebergTransactionManager::StartTransaction(ClientContext &context) {
	auto transaction = make_uniq<IcebergTransaction>(*this, context, catalog);
	auto &result = *transaction;
	lock_guard<mutex> guard(lock);
	transactions[result] = std::move(transaction);
	return result;
}

ErrorData IcebergTransactionManager::CommitTransaction(ClientContext &context, Transaction &transaction) {
	auto result = transaction.Cast<IcebergTransaction>().Commit();
	lock_guard<mutex> guard(lock);
	transactions.erase(transaction);
	return result;
}

void IcebergTransactionManager::RollbackTransaction(Transaction &transaction) {
	transaction.Cast<IcebergTransaction>().Rollback();
	lock_guard<mutex> guard(lock);
	transactions.erase(transaction);
}

//! Every change is a catalog commit already, so there is nothing local to write: CHECKPOINT lake
//! runs the table maintenance instead, as floe_checkpoint('lake') does, and fails naming the
//! tables it could not fully maintain after doing the rest.
void IcebergTransactionManager::Checkpoint(ClientContext &context, bool force) {
	CatalogCheckpoint run(context, catalog);
	CheckpointedTable table;
	vector<string> failures;
	while (run.Next(context, table)) {
		if (!table.error.empty()) {
			failures.push_back(table.name + ": " + table.error);
		}
	}
	if (!failures.empty()) {
		throw IOException("CHECKPOINT %s: %llu table(s) not fully maintained (the others were): %s. Fix: run "
		                  "CALL floe_checkpoint('%s') for a row per table, act on each error and run it again",
		                  compat::Str(catalog.GetName()), static_cast<unsigned long long>(failures.size()),
		                  StringUtil::Join(failures, " | "), compat::Str(catalog.GetName()));
	}
}

} // namespace floe
