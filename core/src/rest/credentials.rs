//! Fresh storage credentials for a table: the REST spec's `loadCredentials` endpoint
//! (`GET /v1/{prefix}/namespaces/{ns}/tables/{table}/credentials`), which catalogs that vend
//! short-lived credentials offer so clients can renew them without reloading the table.

use std::sync::atomic::{AtomicBool, Ordering};

use super::catalog::{display_namespace, encode_namespace, Namespace, RestCatalog};
use super::model::{LoadCredentialsResponse, StorageCredential};
use crate::error::{ErrorKind, Result};

const LOAD_CREDENTIALS: &str = "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials";

/// Whether a catalog answers the credentials endpoint, learnt on first use for catalogs that do
/// not list their endpoints: asking again after it was refused would cost a request each time.
#[derive(Debug, Default)]
pub struct CredentialsEndpoint {
    refused: AtomicBool,
}

impl CredentialsEndpoint {
    /// The table's current storage credentials, or `None` when the catalog does not offer the
    /// endpoint (the caller then reloads the table, whose answer carries them too).
    pub async fn load(
        &self,
        catalog: &RestCatalog,
        namespace: &Namespace,
        table: &str,
    ) -> Result<Option<Vec<StorageCredential>>> {
        if catalog.lists_endpoint(LOAD_CREDENTIALS) == Some(false) || self.refused.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let url = catalog.url(&["namespaces", &encode_namespace(namespace), "tables", table, "credentials"])?;
        match catalog.http().get::<LoadCredentialsResponse>(url, &catalog.delegation_headers()).await {
            Ok(response) => Ok(Some(response.storage_credentials)),
            // A catalog without the route answers 404/400/405/501 for it; a table that is gone
            // shows up in the reload that follows, with the catalog's own message.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput | ErrorKind::Unsupported) => {
                self.refused.store(true, Ordering::Relaxed);
                Ok(None)
            }
            Err(e) => Err(e.context(format!(
                "Cannot load the storage credentials of table '{}.{table}'",
                display_namespace(namespace)
            ))),
        }
    }
}
