/*
 * The one boundary between floe's C++ glue and its Rust core.
 *
 * Rules: handles are opaque and owned by whoever the function says; every fallible call returns
 * NULL on success or a FloeError the caller frees with floe_error_free (no panic and no C++
 * exception crosses this line); strings in are NUL-terminated UTF-8, structured data crosses as
 * JSON in FloeString, which the caller frees with floe_string_free.
 */
#ifndef FLOE_ABI_H
#define FLOE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct FloeError FloeError;
typedef struct FloeCatalog FloeCatalog;
typedef struct FloeTable FloeTable;
typedef struct FloeScan FloeScan;
typedef struct FloeTxn FloeTxn;

typedef struct FloeString {
	char *data;
	size_t len;
} FloeString;

/* Error kinds, as floe_core::ErrorKind::code. */
enum FloeErrorCode {
	FLOE_INVALID_INPUT = 1,
	FLOE_NOT_FOUND = 2,
	FLOE_ALREADY_EXISTS = 3,
	FLOE_UNAUTHENTICATED = 4,
	FLOE_FORBIDDEN = 5,
	FLOE_COMMIT_CONFLICT = 6,
	FLOE_COMMIT_STATE_UNKNOWN = 7,
	FLOE_UNAVAILABLE = 8,
	FLOE_STORAGE = 9,
	FLOE_UNSUPPORTED = 10,
	FLOE_INTERNAL = 11
};

int32_t floe_error_code(const FloeError *error);
/* The message, valid until the error is freed. Never contains a secret. */
const char *floe_error_message(const FloeError *error);
void floe_error_free(FloeError *error);
void floe_string_free(FloeString string);

/* Validates the options and fields of a CREATE SECRET (TYPE iceberg): {"name":..,"fields":{..}}. */
FloeError *floe_secret_validate(const char *request_json);

/* Connects to a REST catalog. request: {"warehouse":..,"options":{..},"secret":{..}}. */
FloeError *floe_catalog_attach(const char *request_json, FloeCatalog **out);
void floe_catalog_free(FloeCatalog *catalog);
/* {"warehouse":..,"endpoint":..,"default_schema":..|null} */
FloeError *floe_catalog_describe(const FloeCatalog *catalog, FloeString *out_json);
/* ["ns", "ns2.child", ...]: schema names, namespace levels joined by '.'. */
FloeError *floe_catalog_list_namespaces(const FloeCatalog *catalog, FloeString *out_json);
/* Whether the namespace exists (1) or not (0). */
FloeError *floe_catalog_namespace_exists(const FloeCatalog *catalog, const char *schema, int32_t *out);
/* ["table", ...] */
FloeError *floe_catalog_list_tables(const FloeCatalog *catalog, const char *schema, FloeString *out_json);
/* Loads a table; *out is NULL if it does not exist. */
FloeError *floe_catalog_load_table(const FloeCatalog *catalog, const char *schema, const char *table,
                                   FloeTable **out);
/* Loads several tables of one schema concurrently: names is a JSON array; out receives one
 * handle (or NULL where missing) per name, in order. */
FloeError *floe_catalog_load_tables(const FloeCatalog *catalog, const char *schema, const char *names_json,
                                    FloeTable **out, size_t out_len);
/* ["view", ...]; [] where the catalog has no views API. */
FloeError *floe_catalog_list_views(const FloeCatalog *catalog, const char *schema, FloeString *out_json);
/* {"sql": "<duckdb SQL>", "columns": [..]}, or null if there is no such view. */
FloeError *floe_catalog_load_view(const FloeCatalog *catalog, const char *schema, const char *view,
                                  FloeString *out_json);

FloeTable *floe_table_clone(const FloeTable *table);
void floe_table_free(FloeTable *table);
/* The table as seen at a snapshot. selector: "current" | {"id":N} | {"as_of_ms":N}.
 * {"name":..,"location":..,"format_version":N,"uuid":..,"snapshot_id":N|null,
 *  "total_records":N|null,"columns":[column tree, see floe_core::types::Column],
 *  "duckdb_secret":{..}|null,"properties":{..},"partition_spec":[{"source_id","name","transform"}]} */
FloeError *floe_table_describe(const FloeTable *table, const char *selector_json, FloeString *out_json);
/* [{"snapshot_id","parent_id","sequence_number","timestamp_ms","manifest_list","summary":{..}}] */
FloeError *floe_table_snapshots(const FloeTable *table, FloeString *out_json);
/* Manifest entries of a snapshot. request: {"selector":{..},"s3_secret":{..}|null}.
 * [{"manifest_path","manifest_sequence_number","manifest_content","status","content","file_path",
 *  "file_format","record_count"}] */
FloeError *floe_table_manifest_entries(const FloeTable *table, const char *request_json, FloeString *out_json);

/* Plans a scan. request: {"selector":{..},"filter":{..}|null,"s3_secret":{..}|null}. With a
 * transaction (may be NULL), files it wrote into the table and has not committed are included. */
FloeError *floe_scan_plan(const FloeTable *table, const FloeTxn *txn, const char *request_json, FloeScan **out);
void floe_scan_free(FloeScan *scan);
size_t floe_scan_file_count(const FloeScan *scan);
/* {"path","file_size","record_count","identity_partition":[[field_id,value|null]],"deletes":[..]};
 * values are tagged as floe_core::scan::value::Value, e.g. {"int":3} or {"date":20454}. */
FloeError *floe_scan_file(const FloeScan *scan, size_t index, FloeString *out_json);
/* Sorted positions of the rows deleted from file index (positional and equality deletes alike);
 * free with floe_positions_free. */
FloeError *floe_scan_deleted_positions(const FloeScan *scan, size_t index, int64_t **out, size_t *out_len);
void floe_positions_free(int64_t *positions, size_t len);

/* The writes of one DuckDB transaction to one catalog, applied to the catalog at commit. */
FloeError *floe_txn_begin(const FloeCatalog *catalog, const char *duckdb_version, FloeTxn **out);
void floe_txn_free(FloeTxn *txn);
/* The user's S3 secret ("null" if none) for metadata files the commit reads and writes where the
 * catalog vends no credentials. */
FloeError *floe_txn_use_s3_secret(const FloeTxn *txn, const char *s3_secret_json);
FloeError *floe_txn_create_namespace(const FloeTxn *txn, const char *schema);
FloeError *floe_txn_drop_namespace(const FloeTxn *txn, const char *schema);
/* Stages a new table. request: {"schema","table","columns":[{"name","type":{"id",..},"nullable"}],
 * "properties":{..}}; *out is the staged table (field ids, location) to write files for. */
FloeError *floe_txn_create_table(const FloeTxn *txn, const char *request_json, FloeTable **out);
/* CREATE OR REPLACE of an existing table. request: {"columns":[..]}; *out is its replacement. */
FloeError *floe_txn_replace_table(const FloeTxn *txn, const FloeTable *base, const char *request_json,
                                  FloeTable **out);
/* TRUNCATE / DELETE without a condition: *out is the emptied table, for later writes. */
FloeError *floe_txn_truncate_table(const FloeTxn *txn, const FloeTable *base, FloeTable **out);
/* request: {"schema","view","columns":[..],"sql","replace"}; the view is created at COMMIT. */
FloeError *floe_txn_create_view(const FloeTxn *txn, const char *request_json);
FloeError *floe_txn_drop_view(const FloeTxn *txn, const char *schema, const char *view);
FloeError *floe_txn_rename_view(const FloeTxn *txn, const char *schema, const char *from, const char *to);
/* The floe_table_properties setting: {"catalog.schema.table": {"key": "value"}}; tables of
 * catalog `alias` written by this transaction get these properties in the same commit. */
FloeError *floe_txn_govern(const FloeTxn *txn, const char *alias, const char *properties_json);
/* A fresh directory (JSON string) under the table's data location for one statement's files;
 * removed with everything in it if the transaction rolls back or its commit fails. */
FloeError *floe_txn_write_location(const FloeTxn *txn, const FloeTable *table, const char *s3_secret_json,
                                   FloeString *out_json);
/* ALTER TABLE ... SET PARTITIONED BY: fields_json [{"source":"col","transform":"day"|"bucket[16]"|..}];
 * *out is the table with its new default spec, for the transaction's later writes. */
FloeError *floe_txn_repartition(const FloeTxn *txn, const FloeTable *table, const char *fields_json, FloeTable **out);
/* Files written into table: [{"path","record_count","file_size","columns":[{"field_id","value_count",
 * "null_count","column_size","min","max","has_nan"}],"partition":[..]}]; s3_secret_json or "null". */
FloeError *floe_txn_write(const FloeTxn *txn, const FloeTable *table, const char *files_json,
                          const char *s3_secret_json);
FloeError *floe_txn_drop_table(const FloeTxn *txn, const char *schema, const char *table, int32_t purge);
FloeError *floe_txn_rename_table(const FloeTxn *txn, const char *schema, const char *from, const char *to);
FloeError *floe_txn_commit(const FloeTxn *txn);
/* Discards the transaction's changes and removes the files it wrote. */
void floe_txn_rollback(const FloeTxn *txn);

#ifdef __cplusplus
}
#endif

#endif
