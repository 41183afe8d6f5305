#include "floe/secret.hpp"

#include "duckdb/main/extension_helper.hpp"
#include "duckdb/main/secret/secret_manager.hpp"
#include "duckdb/main/database.hpp"
#include "duckdb/planner/extension_callback.hpp"
#include "duckdb/catalog/catalog_transaction.hpp"
#include "floe/duckdb_compat.hpp"

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
			json.Add(fields, StringUtil::Lower(compat::Str(entry.first)), json.String(entry.second.ToString()));
		}
	}
	return fields;
}

static unique_ptr<BaseSecret> CreateIcebergSecret(ClientContext &context, CreateSecretInput &input) {
	auto secret = make_uniq<KeyValueSecret>(input.scope, input.type, input.provider, input.name);
	for (auto &option : input.options) {
		secret->secret_map[Identifier(StringUtil::Lower(compat::Str(option.first)))] =
		    option.second.DefaultCastAs(LogicalType::VARCHAR);
	}
	for (auto field : REDACTED_FIELDS) {
		secret->redact_keys.insert(field);
	}
	JsonBuilder json;
	auto request = json.Object();
	json.Add(request, "name", json.String(compat::Str(input.name)));
	json.Add(request, "fields", Fields(json, *secret));
	Check(floe_secret_validate(json.Write(request).c_str()));
	return std::move(secret);
}

//! A secret type of floe's whose secrets are key-value maps made by the "config" provider.
static void RegisterKeyValueSecretType(ExtensionLoader &loader, const string &name) {
	SecretType type;
	type.name = Identifier(name);
	type.deserializer = KeyValueSecret::Deserialize<KeyValueSecret>;
	type.default_provider = "config";
	type.extension = "floe";
	loader.RegisterSecretType(type);
}

void RegisterIcebergSecret(ExtensionLoader &loader) {
	RegisterKeyValueSecretType(loader, "iceberg");

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
		                            name, compat::Str(secret.GetType()));
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

//! The secret's name and those of `keys` it holds, as text. The name lets errors say which secret
//! was used.
static JsonBuilder::Value NamedFields(JsonBuilder &json, const KeyValueSecret &secret,
                                      std::initializer_list<const char *> keys) {
	auto fields = json.Object();
	json.Add(fields, "name", json.String(compat::Str(secret.GetName())));
	for (auto key : keys) {
		Value value;
		if (secret.TryGetValue(key, value) && !value.IsNull()) {
			json.Add(fields, key, json.String(value.ToString()));
		}
	}
	return fields;
}

//! The DuckDB secret type that holds credentials for `location`'s store.
static const char *SecretTypeForLocation(const string &location) {
	auto scheme = StringUtil::Lower(location.substr(0, location.find("://")));
	if (scheme == "gs" || scheme == "gcs") {
		return "gcs";
	}
	if (scheme == "abfs" || scheme == "abfss" || scheme == "wasb" || scheme == "wasbs") {
		return "azure";
	}
	return "s3";
}

JsonBuilder::Value StorageSecret(JsonBuilder &json, ClientContext &context, const string &location) {
	auto type = SecretTypeForLocation(location);
	auto transaction = CatalogTransaction::GetSystemCatalogTransaction(context);
	auto match = SecretManager::Get(context).LookupSecret(transaction, location, type);
	if (!match.HasMatch()) {
		return json.Null();
	}
	auto &secret = dynamic_cast<const KeyValueSecret &>(match.GetSecret());
	auto fields = NamedFields(json, secret,
	                          {"key_id", "secret", "session_token", "region", "endpoint", "url_style", "bearer_token",
	                           "connection_string", "account_name"});
	json.Add(fields, "type", json.String(type));
	Value use_ssl;
	if (secret.TryGetValue("use_ssl", use_ssl) && !use_ssl.IsNull()) {
		json.Add(fields, "use_ssl", json.Bool(use_ssl.DefaultCastAs(LogicalType::BOOLEAN).GetValue<bool>()));
	}
	return fields;
}

static JsonBuilder::Value AwsFields(JsonBuilder &json, const BaseSecret &secret) {
	if (secret.GetType() != "s3") {
		throw InvalidInputException("Secret '%s' is of type '%s'; SigV4 signing (AUTHORIZATION_TYPE 'sigv4', "
		                            "ENDPOINT_TYPE 'glue' or 's3_tables') takes a secret of TYPE s3",
		                            compat::Str(secret.GetName()), compat::Str(secret.GetType()));
	}
	return NamedFields(json, dynamic_cast<const KeyValueSecret &>(secret),
	                   {"key_id", "secret", "session_token", "region"});
}

JsonBuilder::Value AwsSecretFields(JsonBuilder &json, ClientContext &context, const string &name, const string &path) {
	auto transaction = CatalogTransaction::GetSystemCatalogTransaction(context);
	auto &manager = SecretManager::Get(context);
	if (!name.empty()) {
		auto entry = manager.GetSecretByName(transaction, name);
		if (!entry) {
			throw InvalidInputException("Secret '%s' does not exist. Fix: create it with CREATE SECRET %s (TYPE s3, "
			                            "KEY_ID ..., SECRET ..., REGION ...) or name an existing one in SECRET",
			                            name, name);
		}
		return AwsFields(json, *entry->secret);
	}
	auto match = manager.LookupSecret(transaction, path, "s3");
	if (!match.HasMatch()) {
		return json.Null();
	}
	return AwsFields(json, match.GetSecret());
}

string StorageSecretJson(ClientContext &context, const string &location) {
	JsonBuilder json;
	return json.Write(StorageSecret(json, context, location));
}

//! A storage secret type floe registers where its extension is absent: the fields it takes, the
//! ones duckdb_secrets() redacts and the scopes it covers by default, as that extension has them.
struct StorageSecretType {
	const char *type;
	const char *extension;
	vector<const char *> fields;
	vector<const char *> redacted;
	vector<string> default_scope;
	bool takes_use_ssl;
};

static const StorageSecretType &StorageSecretTypeOf(const string &type) {
	static const StorageSecretType TYPES[] = {
	    {"s3",
	     "httpfs",
	     {"key_id", "secret", "session_token", "region", "endpoint", "url_style"},
	     {"secret", "session_token"},
	     {"s3://", "s3a://", "s3n://"},
	     true},
	    {"gcs", "httpfs", {"bearer_token", "endpoint"}, {"bearer_token"}, {"gs://", "gcs://"}, true},
	    {"azure",
	     "azure",
	     {"connection_string", "account_name"},
	     {"connection_string"},
	     {"abfss://", "abfs://", "wasbs://", "wasb://", "az://", "azure://"},
	     false}};
	for (auto &known : TYPES) {
		if (type == known.type) {
			return known;
		}
	}
	throw InternalException("floe registers no secret type '%s'", type);
}

static unique_ptr<BaseSecret> CreateStorageSecret(ClientContext &context, CreateSecretInput &input) {
	auto &type = StorageSecretTypeOf(compat::Str(input.type));
	auto scope = input.scope.empty() ? type.default_scope : input.scope;
	auto secret = make_uniq<KeyValueSecret>(scope, input.type, input.provider, input.name);
	for (auto &option : input.options) {
		auto key = StringUtil::Lower(compat::Str(option.first));
		secret->secret_map[Identifier(key)] = key == "use_ssl" ? option.second.DefaultCastAs(LogicalType::BOOLEAN)
		                                                       : option.second.DefaultCastAs(LogicalType::VARCHAR);
	}
	secret->redact_keys.clear();
	for (auto key : type.redacted) {
		secret->redact_keys.insert(key);
	}
	return std::move(secret);
}

//! Whether DuckDB can load `extension` when a statement needs it.
static bool ExtensionInstalled(DatabaseInstance &db, const string &extension) {
	auto &fs = db.GetFileSystem();
	for (auto &directory : ExtensionHelper::GetExtensionDirectoryPath(db, fs)) {
		if (fs.FileExists(fs.JoinPath(directory, extension + ".duckdb_extension"))) {
			return true;
		}
	}
	return false;
}

//! Whether floe registered `type`: only where its extension is neither loaded nor installed and
//! nothing else registered it.
static bool RegisterStorageSecretIfMissing(ExtensionLoader &loader, const StorageSecretType &type) {
	auto &db = loader.GetDatabaseInstance();
	if (db.ExtensionIsLoaded(type.extension) || ExtensionInstalled(db, type.extension)) {
		return false;
	}
	// AllSecretTypes, not LookupType: a lookup of a missing type autoloads (and autoinstalls)
	// its extension, seconds of failing network calls on a machine that cannot reach them.
	for (auto &registered : SecretManager::Get(db).AllSecretTypes()) {
		if (compat::Str(registered.name) == type.type) {
			return false;
		}
	}
	RegisterKeyValueSecretType(loader, type.type);
	CreateSecretFunction function = {type.type, "config", CreateStorageSecret, {}};
	for (auto field : type.fields) {
		function.named_parameters[field] = LogicalType::VARCHAR;
	}
	if (type.takes_use_ssl) {
		function.named_parameters["use_ssl"] = LogicalType::BOOLEAN;
	}
	loader.RegisterFunction(function);
	return true;
}

//! Stops httpfs or azure from loading after floe registered a secret type of theirs. DuckDB's
//! secret manager can neither drop nor replace a type, so their own registration would fail
//! halfway through their load with an internal error; this fails before they start, naming the
//! fix.
class StorageSecretTypeOwners : public ExtensionCallback {
public:
	void Claimed(const StorageSecretType &type) {
		claimed[type.extension].push_back(type.type);
	}
	bool Empty() const {
		return claimed.empty();
	}
	void OnBeginExtensionLoad(DatabaseInstance &db, const string &name) override {
		auto types = claimed.find(StringUtil::Lower(name));
		if (types == claimed.end()) {
			return;
		}
		throw InvalidInputException(
		    "Extension '%s' cannot load after floe: floe registered the secret type%s %s when it loaded, as %s was "
		    "not installed then, and DuckDB cannot hand a secret type over. Fix: INSTALL %s, then open the "
		    "database again (floe leaves the types to an installed %s), or LOAD %s before floe",
		    types->first, types->second.size() > 1 ? "s" : "", StringUtil::Join(types->second, ", "), types->first,
		    types->first, types->first, types->first);
	}

private:
	map<string, vector<string>> claimed;
};

void RegisterStorageSecretsIfMissing(ExtensionLoader &loader) {
	auto owners = make_shared_ptr<StorageSecretTypeOwners>();
	for (auto type : {"s3", "gcs", "azure"}) {
		auto &storage_type = StorageSecretTypeOf(type);
		if (RegisterStorageSecretIfMissing(loader, storage_type)) {
			owners->Claimed(storage_type);
		}
	}
	if (!owners->Empty()) {
		ExtensionCallback::Register(DBConfig::GetConfig(loader.GetDatabaseInstance()), std::move(owners));
	}
}

} // namespace floe
