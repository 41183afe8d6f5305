//! Validation of `CREATE SECRET (TYPE iceberg, ...)`: the same rules as ATTACH, so a secret that
//! cannot work is refused when it is made rather than when it is first used.

use std::collections::BTreeMap;
use std::ffi::c_char;

use floe_core::options::{AttachRequest, CatalogOptions};
use serde::Deserialize;

use super::{guard, json_arg, FloeError};

#[derive(Deserialize)]
struct SecretRequest {
    name: String,
    fields: BTreeMap<String, String>,
}

/// Validates the options and fields of a CREATE SECRET (TYPE iceberg): {"name":..,"fields":{..}}.
///
/// # Safety
/// `request_json` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn floe_secret_validate(request_json: *const c_char) -> *mut FloeError {
    guard(|| {
        let request: SecretRequest = json_arg(request_json, "secret request")?;
        let has_endpoint = request.fields.contains_key("endpoint");
        let mut probe = AttachRequest {
            warehouse: request.name.clone(),
            options: BTreeMap::new(),
            secret: request.fields,
            aws: None,
        };
        // A secret may leave the endpoint to ATTACH; check the rest with a stand-in.
        if !has_endpoint {
            probe.options.insert("endpoint".into(), "http://endpoint.invalid".into());
        }
        CatalogOptions::parse(&probe).map(drop).map_err(|e| e.context(format!("CREATE SECRET {}", request.name)))
    })
}
