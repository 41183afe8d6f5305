//! The REST client against a real catalog (SeaweedFS on loopback): connecting, browsing, token
//! refresh, and the errors users see for bad endpoints, bad credentials and missing objects.

mod common;

use std::collections::BTreeMap;

use floe_core::options::{AttachRequest, CatalogOptions};
use floe_core::rest::RestCatalog;
use floe_core::runtime::block_on;
use floe_core::ErrorKind;
use secrecy::SecretString;

fn request(endpoint: &str, pairs: &[(&str, &str)]) -> AttachRequest {
    let mut options: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    options.insert("endpoint".into(), endpoint.into());
    AttachRequest { warehouse: "lake".into(), options, secret: BTreeMap::new(), aws: None }
}

fn connect(bed: &common::Seaweed) -> RestCatalog {
    let options =
        CatalogOptions::parse(&request(&bed.catalog, &[("client_id", &bed.key), ("client_secret", &bed.secret)]))
            .unwrap();
    block_on(RestCatalog::connect(options)).unwrap()
}

#[test]
fn browses_the_catalog_under_its_prefix() {
    let bed = common::Seaweed::start();
    let catalog = connect(&bed);
    // SeaweedFS serves the warehouse under the prefix it names in /v1/config overrides.
    assert!(catalog.base_url().path().starts_with("/v1/lake"), "{}", catalog.base_url());
    let namespace = vec!["gold".to_string()];
    block_on(catalog.create_namespace(&namespace, Default::default())).unwrap();
    assert_eq!(block_on(catalog.list_namespaces()).unwrap(), vec![namespace.clone()]);
    assert!(block_on(catalog.list_tables(&namespace)).unwrap().is_empty());

    let missing = block_on(catalog.load_table(&namespace, "nope")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(missing.to_string().contains("Table 'gold.nope' does not exist in Iceberg catalog 'lake'"), "{missing}");
    let missing_ns = block_on(catalog.load_namespace(&vec!["silver".into()])).unwrap_err();
    assert_eq!(missing_ns.kind(), ErrorKind::NotFound);
}

#[test]
fn refreshes_tokens_before_expiry_and_after_rejection() {
    let bed = common::Seaweed::start();
    let catalog = connect(&bed);
    let auth = catalog.http().authenticator();
    block_on(catalog.list_namespaces()).unwrap();
    let fetched = auth.token_fetches();
    block_on(catalog.list_namespaces()).unwrap();
    assert_eq!(auth.token_fetches(), fetched, "a fresh token is reused");

    block_on(auth.expire_now());
    block_on(catalog.list_namespaces()).unwrap();
    assert_eq!(auth.token_fetches(), fetched + 1, "a token at its refresh point is replaced");

    block_on(auth.replace_token(SecretString::from("revoked-token")));
    block_on(catalog.list_namespaces()).unwrap();
    assert_eq!(auth.token_fetches(), fetched + 2, "a rejected token is replaced and the call retried");
}

#[test]
fn wrong_credentials_are_refused_without_echoing_the_secret() {
    let bed = common::Seaweed::start();
    let wrong = "not-the-secret-4711";
    let options =
        CatalogOptions::parse(&request(&bed.catalog, &[("client_id", &bed.key), ("client_secret", wrong)])).unwrap();
    let err = block_on(RestCatalog::connect(options)).err().expect("connect must fail");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    let text = err.to_string();
    assert!(text.contains("refused client"), "{text}");
    assert!(text.contains("check CLIENT_ID and CLIENT_SECRET"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert!(!text.contains(&bed.secret), "{text}");
}

#[test]
fn unreachable_catalog_names_the_endpoint_and_the_fix() {
    // Nothing listens on a port that was just free.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let options = CatalogOptions::parse(&request(&endpoint, &[("token", "t0ken")])).unwrap();
    let err = block_on(RestCatalog::connect(options)).err().expect("connect must fail");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let text = err.to_string();
    assert!(text.contains(&format!("Cannot attach Iceberg catalog 'lake' at {endpoint}")), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(text.contains("Fix: check ENDPOINT and that the catalog is running"), "{text}");
}

#[test]
fn a_wrong_endpoint_path_is_explained() {
    let bed = common::Seaweed::start();
    let options =
        CatalogOptions::parse(&request(&format!("{}/not/the/catalog", bed.catalog), &[("token", "t")])).unwrap();
    let err = block_on(RestCatalog::connect(options)).err().expect("connect must fail");
    let text = err.to_string();
    assert!(text.contains("Cannot attach Iceberg catalog 'lake'"), "{text}");
    assert!(text.contains("Fix: check ENDPOINT"), "{text}");
}
