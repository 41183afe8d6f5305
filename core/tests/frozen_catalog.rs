//! A real catalog (SeaweedFS) frozen mid-session with SIGSTOP: its sockets stay open and accept,
//! nothing answers. Metadata calls fail within REQUEST_TIMEOUT naming the endpoint, a commit fails
//! within COMMIT_TIMEOUT as CommitStateUnknown (it may have been applied: never resent), waiting
//! costs no CPU, and after SIGCONT the same catalog connection works again.

mod common;
mod waiting;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use floe_core::options::{AttachRequest, CatalogOptions};
use floe_core::rest::model::{CreateTableRequest, TableChange, TableIdentifier};
use floe_core::rest::RestCatalog;
use floe_core::runtime::block_on;
use floe_core::ErrorKind;
use iceberg::spec::{NestedField, PrimitiveType, Schema, Type};
use iceberg::{TableRequirement, TableUpdate};
use waiting::{spend, Frozen};

#[test]
fn a_frozen_catalog_fails_each_call_in_time_and_works_again_when_thawed() {
    let bed = common::Seaweed::start();
    let options: BTreeMap<String, String> = [
        ("endpoint", bed.catalog.as_str()),
        ("client_id", bed.key.as_str()),
        ("client_secret", bed.secret.as_str()),
        ("request_timeout", "1"),
        ("commit_timeout", "2"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let options =
        CatalogOptions::parse(&AttachRequest { warehouse: "lake".into(), options, secret: BTreeMap::new(), aws: None })
            .unwrap();
    let catalog = block_on(RestCatalog::connect(options)).unwrap();
    let namespace = vec!["ice".to_string()];
    block_on(catalog.create_namespace(&namespace, HashMap::new())).unwrap();
    let schema = Schema::builder()
        .with_fields(vec![NestedField::required(1, "id", Type::Primitive(PrimitiveType::Long)).into()])
        .build()
        .unwrap();
    let created = block_on(catalog.create_table(
        &namespace,
        &CreateTableRequest {
            name: "t".into(),
            location: None,
            schema,
            partition_spec: None,
            stage_create: false,
            properties: HashMap::new(),
        },
    ))
    .unwrap();

    let frozen = Frozen::weed_serving(&bed.catalog);
    let base = catalog.base_url().to_string();
    type FailingCall<'a> = Box<dyn Fn() -> floe_core::Error + 'a>;
    let calls: [(&str, FailingCall); 3] = [
        ("list namespaces", Box::new(|| block_on(catalog.list_namespaces()).unwrap_err())),
        ("check a namespace", Box::new(|| block_on(catalog.load_namespace(&namespace)).unwrap_err())),
        ("load a table", Box::new(|| block_on(catalog.load_table(&namespace, "t")).unwrap_err())),
    ];
    for (what, call) in calls {
        let (err, spent) = spend(call);
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{what}: {err}");
        let text = err.to_string();
        assert!(text.contains(&format!("GET {base}namespaces")), "{what}: {text}");
        assert!(text.contains("timed out: the catalog sent no answer within 1 s (REQUEST_TIMEOUT)"), "{what}: {text}");
        assert!(text.contains(&format!("check that the catalog at {} is running", bed.catalog)), "{what}: {text}");
        assert!(
            spent.wall >= Duration::from_millis(950) && spent.wall < Duration::from_secs(8),
            "{what} took {:?}",
            spent.wall
        );
        spent.assert_idle(what);
    }

    // A commit sent to a frozen catalog may yet be applied when it thaws: its outcome is
    // unknown, and it is reported as such after COMMIT_TIMEOUT, not resent.
    let change = TableChange {
        identifier: TableIdentifier { namespace: namespace.clone(), name: "t".into() },
        requirements: vec![TableRequirement::UuidMatch { uuid: created.metadata.uuid() }],
        updates: vec![TableUpdate::SetProperties { updates: HashMap::from([("thawed".into(), "yes".into())]) }],
    };
    let (result, spent) = spend(|| block_on(catalog.commit_table(&change)));
    let err = result.expect_err("a frozen catalog commits nothing in time");
    assert_eq!(err.kind(), ErrorKind::CommitStateUnknown, "{err}");
    assert!(
        err.to_string().contains(&format!(
            "POST {base}namespaces/ice/tables/t timed out: the catalog sent no answer within 2 s (COMMIT_TIMEOUT)"
        )),
        "{err}"
    );
    assert!(
        spent.wall >= Duration::from_millis(1950) && spent.wall < Duration::from_secs(10),
        "commit took {:?}",
        spent.wall
    );
    spent.assert_idle("a commit");

    drop(frozen);
    // Thawed, the same connection works again (no token or connection is left stuck), and the
    // commit that timed out shows whether it landed after all: at most once.
    assert_eq!(block_on(catalog.list_namespaces()).unwrap(), vec![namespace.clone()]);
    let properties = block_on(catalog.load_table(&namespace, "t")).unwrap().metadata.properties().clone();
    assert!(matches!(properties.get("thawed").map(String::as_str), None | Some("yes")), "{properties:?}");
}
