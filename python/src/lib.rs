//! `floe_dbt._native`: what the dbt plugin needs from floe's core without DuckDB — reading and
//! validating the platform file with the same code the extension uses at ATTACH, so a profile
//! that points at a broken platform file fails before dbt starts, with the same message.
//! No secret value ever crosses into Python: `check` resolves the references and drops them.

use floe_core::platform::Platform as CorePlatform;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn error(err: floe_core::Error) -> PyErr {
    PyValueError::new_err(err.to_string())
}

/// A validated platform file.
#[pyclass(frozen, module = "floe_dbt._native")]
struct Platform {
    inner: CorePlatform,
    path: String,
}

#[pymethods]
impl Platform {
    /// Reads and validates `path`; raises ValueError naming the file, the key and the fix.
    #[staticmethod]
    fn load(path: &str) -> PyResult<Platform> {
        let inner = CorePlatform::load(path.as_ref()).map_err(error)?;
        Ok(Platform { inner, path: path.to_string() })
    }

    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// The catalog names the file declares.
    fn catalogs(&self) -> Vec<String> {
        self.inner.catalog_names()
    }

    /// Model meta keys that become Iceberg table properties.
    fn governance_keys(&self) -> Vec<String> {
        self.inner.governance_keys()
    }

    /// Resolves every setting and secret reference of `catalog` (environment, secrets
    /// directory) and forgets the values; raises ValueError for the first that fails.
    fn check(&self, catalog: &str) -> PyResult<()> {
        self.inner.catalog_options(catalog).map(drop).map_err(error)
    }

    fn __repr__(&self) -> String {
        format!("Platform({:?}, catalogs={:?})", self.path, self.inner.catalog_names())
    }
}

/// The DuckDB versions the wheel carries an extension for, the default first.
#[pyfunction]
fn duckdb_versions() -> Vec<&'static str> {
    env!("FLOE_DUCKDB_VERSIONS").split_whitespace().collect()
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Platform>()?;
    module.add_function(wrap_pyfunction!(duckdb_versions, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
