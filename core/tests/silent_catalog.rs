//! A catalog that accepts connections and never answers: every metadata call fails within the
//! configured timeout, retries included, with an error naming the endpoint and what timed out —
//! and waiting for it costs no CPU.
//!
//! The tests of this binary run one at a time (`SERIAL`): each measures the CPU time of the whole
//! process.

mod waiting;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use floe_core::options::{AttachRequest, CatalogOptions};
use floe_core::rest::RestCatalog;
use floe_core::runtime::block_on;
use floe_core::ErrorKind;
use waiting::{spend, ScriptedServer, SilentServer};

static SERIAL: Mutex<()> = Mutex::new(());

fn catalog_options(endpoint: &str, pairs: &[(&str, &str)]) -> CatalogOptions {
    let mut options: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    options.insert("endpoint".into(), endpoint.into());
    CatalogOptions::parse(&AttachRequest { warehouse: "lake".into(), options, secret: BTreeMap::new(), aws: None })
        .unwrap()
}

/// Fails when `wall` is not `expected` give or take scheduling (up to 5 s on a loaded machine).
fn assert_about(wall: Duration, expected: Duration) {
    assert!(
        wall >= expected - Duration::from_millis(50) && wall < expected + Duration::from_secs(5),
        "took {wall:?}, expected about {expected:?}"
    );
}

#[test]
fn attach_to_a_silent_catalog_fails_after_the_request_timeout_without_spinning() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = SilentServer::start();
    let options = catalog_options(&server.url, &[("authorization_type", "none"), ("request_timeout", "1.5")]);
    let (result, spent) = spend(|| block_on(RestCatalog::connect(options)));
    let err = result.err().expect("a silent catalog cannot be attached");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let url = &server.url;
    assert_eq!(
        err.to_string(),
        format!(
            "Cannot attach Iceberg catalog 'lake' at {url}/: GET {url}/v1/config timed out: the catalog sent no answer within 1.5 s (REQUEST_TIMEOUT). \
             Fix: check that the catalog at {url} is running and answering; if it is only slow, raise REQUEST_TIMEOUT (an ATTACH option, or timeouts.request in the platform file, in seconds; default 30 s)"
        )
    );
    assert!(server.accepted() >= 1, "the request reached the server");
    assert_about(spent.wall, Duration::from_millis(1500));
    spent.assert_idle("ATTACH to a silent catalog");
}

#[test]
fn a_silent_token_endpoint_is_named_and_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = SilentServer::start();
    let options = catalog_options(
        &server.url,
        &[("client_id", "analyst"), ("client_secret", "never-shown-4711"), ("request_timeout", "1")],
    );
    let (result, spent) = spend(|| block_on(RestCatalog::connect(options)));
    let err = result.err().expect("no token, no catalog");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "GET {0}/v1/config: the OAuth2 token endpoint {0}/v1/oauth/tokens sent no token within 1 s (REQUEST_TIMEOUT)",
            server.url
        )),
        "{text}"
    );
    assert!(text.contains("Fix: check that the token endpoint (OAUTH2_SERVER_URI"), "{text}");
    assert!(!text.contains("never-shown-4711"), "{text}");
    assert_about(spent.wall, Duration::from_secs(1));
    spent.assert_idle("waiting for a token");
}

#[test]
fn retries_the_catalog_asks_for_stay_within_the_timeout() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Asks to come back in a second, forever: retried as the spec says, until the time is up.
    let busy = ScriptedServer::start(
        "503 Service Unavailable\r\nRetry-After: 1",
        r#"{"error":{"message":"busy","type":"ServiceUnavailableException","code":503}}"#,
    );
    let options = catalog_options(&busy.url, &[("authorization_type", "none"), ("request_timeout", "2.5")]);
    let (result, spent) = spend(|| block_on(RestCatalog::connect(options)));
    let err = result.err().expect("a catalog that only answers 503 cannot be attached");
    assert!(err.to_string().contains("catalog returned 503: ServiceUnavailableException: busy"), "{err}");
    assert_eq!(busy.requests(), 3, "sent at 0 s, 1 s and 2 s; a wait past 2.5 s is not started");
    assert!(spent.wall < Duration::from_millis(2500), "took {:?}", spent.wall);
    spent.assert_idle("retrying");

    // A Retry-After longer than what is left ends the call at once, not after the wait.
    let later = ScriptedServer::start(
        "429 Too Many Requests\r\nRetry-After: 20",
        r#"{"error":{"message":"slow down","code":429}}"#,
    );
    let options = catalog_options(&later.url, &[("authorization_type", "none"), ("request_timeout", "2")]);
    let (result, spent) = spend(|| block_on(RestCatalog::connect(options)));
    assert!(result.err().unwrap().to_string().contains("catalog returned 429: slow down"));
    assert_eq!(later.requests(), 1);
    assert!(spent.wall < Duration::from_secs(5), "took {:?}", spent.wall);
}
