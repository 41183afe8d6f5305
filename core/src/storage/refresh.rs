//! Renewing a table's vended storage credentials before they expire, so a statement that runs
//! longer than a credential's lifetime completes. A table in the catalog renews through the REST
//! spec's credentials endpoint where the catalog offers it, else by loading the table again; a
//! table staged by this transaction (CREATE TABLE AS, not in the catalog before the commit) by
//! staging it again at the same location. Each answer carries fresh credentials.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use async_trait::async_trait;

use super::props::StorageProps;
use super::registry::Renew;
use crate::error::{Error, ErrorKind, Result};
use crate::rest::catalog::{display_namespace, Namespace};
use crate::rest::credentials::CredentialsEndpoint;
use crate::rest::model::{CreateTableRequest, LoadTableResult};
use crate::rest::RestCatalog;

/// Renews the credentials of one table of one attached catalog.
pub struct CatalogRenewal {
    /// Weak: a detached catalog renews nothing, and an entry must not keep it alive.
    catalog: Weak<RestCatalog>,
    namespace: Namespace,
    name: String,
    location: String,
    /// The table's `config` as last answered: the credentials endpoint answers credentials only.
    config: HashMap<String, String>,
    how: How,
}

enum How {
    Loaded(CredentialsEndpoint),
    /// The stage-create request, pinned to the staged location.
    Staged(Box<CreateTableRequest>),
}

impl CatalogRenewal {
    /// For a table the catalog answered (LoadTable) with `result`.
    pub fn loaded(
        catalog: &Arc<RestCatalog>,
        namespace: Namespace,
        name: String,
        result: &LoadTableResult,
    ) -> Arc<dyn Renew> {
        Self::with(catalog, namespace, name, result, How::Loaded(CredentialsEndpoint::default()))
    }

    /// For a table staged with `request`, answered with `result`.
    pub fn staged(
        catalog: &Arc<RestCatalog>,
        namespace: Namespace,
        request: &CreateTableRequest,
        result: &LoadTableResult,
    ) -> Arc<dyn Renew> {
        let request = CreateTableRequest { location: Some(result.metadata.location().to_string()), ..request.clone() };
        Self::with(catalog, namespace, request.name.clone(), result, How::Staged(Box::new(request)))
    }

    fn with(
        catalog: &Arc<RestCatalog>,
        namespace: Namespace,
        name: String,
        result: &LoadTableResult,
        how: How,
    ) -> Arc<dyn Renew> {
        Arc::new(CatalogRenewal {
            catalog: Arc::downgrade(catalog),
            namespace,
            name,
            location: result.metadata.location().to_string(),
            config: result.config.clone(),
            how,
        })
    }

    fn failed(&self, reason: &str) -> String {
        format!(
            "Cannot renew the storage credentials of table '{}.{}' ({reason})",
            display_namespace(&self.namespace),
            self.name
        )
    }
}

#[async_trait]
impl Renew for CatalogRenewal {
    async fn renew(&self) -> Result<StorageProps> {
        let catalog = self.catalog.upgrade().ok_or_else(|| {
            Error::new(ErrorKind::Unavailable, self.failed("its catalog was detached"))
                .with_fix("ATTACH the catalog again and rerun the statement")
        })?;
        let answer = match &self.how {
            How::Loaded(endpoint) => {
                if let Some(credentials) = endpoint.load(&catalog, &self.namespace, &self.name).await? {
                    return Ok(StorageProps::resolve_parts(&catalog, &self.location, &self.config, &credentials));
                }
                catalog.load_table_current(&self.namespace, &self.name).await
            }
            How::Staged(request) => catalog.create_table(&self.namespace, request).await,
        };
        let answer = answer.map_err(|e| e.context(self.failed("asking the catalog again failed")))?;
        Ok(StorageProps::resolve(&catalog, &answer))
    }
}
