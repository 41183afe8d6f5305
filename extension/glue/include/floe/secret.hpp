//===----------------------------------------------------------------------===//
// floe: the "iceberg" secret type, and the storage secrets floe reads or registers.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/main/extension/extension_loader.hpp"
#include "floe/json.hpp"

namespace floe {

//! CREATE SECRET (TYPE iceberg, CLIENT_ID ..., CLIENT_SECRET ..., ...), shown redacted by
//! duckdb_secrets().
void RegisterIcebergSecret(duckdb::ExtensionLoader &loader);

//! The fields of the iceberg secret `name` as a JSON object for the core.
JsonBuilder::Value IcebergSecretFields(JsonBuilder &json, duckdb::ClientContext &context, const string &name);
//! The fields of the iceberg secret whose scope best matches `path`, or {} if none does.
JsonBuilder::Value DefaultIcebergSecretFields(JsonBuilder &json, duckdb::ClientContext &context, const string &path);

//! The user's storage secret for `location` (of type s3, gcs or azure, by its scheme) as JSON for
//! the core (floe_core::storage::DuckdbSecret), or null if there is none.
JsonBuilder::Value StorageSecret(JsonBuilder &json, duckdb::ClientContext &context, const string &location);
//! AWS credentials for SigV4 signing of catalog requests: the S3 secret `name`, or (name empty)
//! the one whose scope matches `path`, as {"name","key_id","secret","session_token","region"}; JSON
//! null when there is none.
JsonBuilder::Value AwsSecretFields(JsonBuilder &json, duckdb::ClientContext &context, const string &name,
                                   const string &path);
//! StorageSecret as text, for the calls that take the secret alone.
string StorageSecretJson(duckdb::ClientContext &context, const string &location);

//! CREATE SECRET (TYPE s3 | gcs | azure, ...) where the extension that provides the type (httpfs,
//! azure) is not installed, e.g. a DuckDB without builds of them: the same statements and fields,
//! so storage credentials for a catalog that vends none can still be given to floe. That extension
//! then cannot load into the same database (DuckDB cannot hand a secret type over): its LOAD fails
//! at once, with the fix, rather than halfway through.
void RegisterStorageSecretsIfMissing(duckdb::ExtensionLoader &loader);

} // namespace floe
