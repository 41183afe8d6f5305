#include "floe/secret.hpp"

#include "duckdb/common/types/uuid.hpp"
#include "duckdb/main/extension_helper.hpp"
#include "duckdb/main/secret/secret_manager.hpp"
#include "duckdb/main/database.hpp"
#include "duckdb/catalog/catalog_transaction.hpp"

namespace floe {

using namespace duckdb;
using namespace duckdb_yyjson;

static const char *const SECRET_FIELDS[] = {
    "endpoint",          "client_id", "client_secret",      "oauth2_server_uri",     "oauth2_scope",
    "oauth2_grant_type", "token",     "authorization_type", "access_delegation_mode"};
static const char *const REDACTED_FIELDS[] = {"client_secret", "token"};

static JsonBuilder::Value Fields(JsonBuilder &json, const KeyValueSecret &secret) {
	auto fields = json.Object();
	for (auto &entry : secret.secret_map) {
		if (!entry.second.IsNull()) {
			json.Add(fields, StringUtil::Lower(entry.first), json.String(entry.second.ToString()));
		}
	}
	return fields;
}

static unique_ptr<BaseSecret> CreateIcebergSecret(ClientContext &context, CreateSecretInput &input) {
	auto secret = make_uniq<KeyValueSecret>(input.scope, input.type, input.provider, input.name);
	for (auto &option : input.options) {
		secret->secret_map[StringUtil::Lower(option.first)] = option.second.DefaultCastAs(LogicalType::VARCHAR);
	}
	for (auto field : REDACTED_FIELDS) {
		secret->redact_keys.insert(field);
	}
	JsonBuilder json;
	auto request = json.Object();
	json.Add(request, "name", json.String(input.name));
	json.Add(request, "fields", Fields(json, *secret));
	Check(floe_secret_validate(json.Write(request).c_str()));
	return std::move(secret);
}

void RegisterIcebergSecret(ExtensionLoader &loader) {
	SecretType type;
	type.name = "iceberg";
	type.deserializer = KeyValueSecret::Deserialize<KeyValueSecret>;
	type.default_provider = "config";
	type.extension = "floe";
	loader.RegisterSecretType(type);

	CreateSecretFunction function = {"iceberg", "config", CreateIcebergSecret, {}};
	for (auto field : SECRET_FIELDS) {
		function.named_parameters[field] = LogicalType::VARCHAR;
	}
	loader.RegisterFunction(function);
}

JsonBuilder::Value IcebergSecretFields(JsonBuilder &json, ClientContext &context, const string &name) {
	auto transaction = CatalogTransaction::GetSystemCatalogTransaction(context);
	auto entry = SecretManager::Get(context).GetSecretByName(transaction, name);
	if (!entry) {
		throw InvalidInputException("Secret '%s' does not exist. Fix: create it with CREATE SECRET %s (TYPE iceberg, "
		                            "CLIENT_ID ..., CLIENT_SECRET ...) or name an existing one in SECRET",
		                            name, name);
	}
	auto &secret = *entry->secret;
	if (secret.GetType() != "iceberg") {
		throw InvalidInputException("Secret '%s' is of type '%s'; ATTACH ... (TYPE ICEBERG, SECRET ...) needs a "
		                            "secret of TYPE iceberg",
		                            name, secret.GetType());
	}
	return Fields(json, dynamic_cast<const KeyValueSecret &>(secret));
}

JsonBuilder::Value DefaultIcebergSecretFields(JsonBuilder &json, ClientContext &context, const string &path) {
	auto transaction = CatalogTransaction::GetSystemCatalogTransaction(context);
	auto match = SecretManager::Get(context).LookupSecret(transaction, path, "iceberg");
	if (!match.HasMatch()) {
		return json.Object();
	}
	return Fields(json, dynamic_cast<const KeyValueSecret &>(match.GetSecret()));
}

JsonBuilder::Value S3Secret(JsonBuilder &json, ClientContext &context, const string &location) {
	auto transaction = CatalogTransaction::GetSystemCatalogTransaction(context);
	auto match = SecretManager::Get(context).LookupSecret(transaction, location, "s3");
	if (!match.HasMatch()) {
		return json.Null();
	}
	auto &secret = dynamic_cast<const KeyValueSecret &>(match.GetSecret());
	auto fields = json.Object();
	for (auto key : {"key_id", "secret", "session_token", "region", "endpoint", "url_style"}) {
		Value value;
		if (secret.TryGetValue(key, value) && !value.IsNull()) {
			json.Add(fields, key, json.String(value.ToString()));
		}
	}
	Value use_ssl;
	if (secret.TryGetValue("use_ssl", use_ssl) && !use_ssl.IsNull()) {
		json.Add(fields, "use_ssl", json.Bool(use_ssl.DefaultCastAs(LogicalType::BOOLEAN).GetValue<bool>()));
	}
	return fields;
}

string S3SecretJson(ClientContext &context, const string &location) {
	JsonBuilder json;
	return json.Write(S3Secret(json, context, location));
}

void RegisterVendedSecret(ClientContext &context, const string &location, yyjson_val *options) {
	ExtensionHelper::TryAutoLoadExtension(context, "httpfs");
	// One secret per table location, replaced whenever the table is loaded again: vended keys
	// expire, the newest are the ones to use.
	auto name = "__floe_vended_" + std::to_string(Hash(location.c_str(), location.size()));
	auto scope = StringUtil::EndsWith(location, "/") ? location : location + "/";
	auto secret = make_uniq<KeyValueSecret>(vector<string> {scope}, "s3", "config", name);
	size_t index, count;
	yyjson_val *key, *value;
	yyjson_obj_foreach(options, index, count, key, value) {
		string field = yyjson_get_str(key);
		string text = json::String(value);
		secret->secret_map[field] = field == "use_ssl" ? Value::BOOLEAN(text == "true") : Value(text);
	}
	secret->redact_keys = {"secret", "session_token"};
	// Registered in a system transaction, not the client's: the secret is not part of what the
	// user's transaction changes, and concurrent transactions (dbt threads) reading the same
	// table must not conflict over it.
	auto &db = DatabaseInstance::GetDatabase(context);
	SecretManager::Get(context).RegisterSecret(CatalogTransaction::GetSystemTransaction(db), std::move(secret),
	                                           OnCreateConflict::REPLACE_ON_CONFLICT, SecretPersistType::TEMPORARY,
	                                           "memory");
}

} // namespace floe
