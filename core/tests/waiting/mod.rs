//! What the tests of a catalog that does not answer need: a loopback server that accepts
//! connections and never answers, a way to freeze a real server (SIGSTOP, SIGCONT on drop), and
//! the wall and CPU time a call took.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The CPU time this process has used so far (user + system, every thread).
pub fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat format") + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ: 100 on every Linux the project builds on (`getconf CLK_TCK`).
    Duration::from_millis(ticks * 10)
}

/// Wall and CPU time of one piece of work.
#[derive(Debug)]
pub struct Spent {
    pub wall: Duration,
    pub cpu: Duration,
}

impl Spent {
    /// Asserts that waiting cost little CPU: a spinning thread uses ~100% of the wall time.
    /// The 50 ms floor absorbs the clock tick and the one-off work around the wait.
    pub fn assert_idle(&self, what: &str) {
        eprintln!("{what}: {:?} of CPU in {:?}", self.cpu, self.wall);
        assert!(
            self.cpu < self.wall / 4 + Duration::from_millis(50),
            "{what} used {:?} of CPU in {:?}: waiting must not spin",
            self.cpu,
            self.wall
        );
    }
}

pub fn spend<T>(work: impl FnOnce() -> T) -> (T, Spent) {
    let (cpu, wall) = (cpu_time(), Instant::now());
    let result = work();
    (result, Spent { wall: wall.elapsed(), cpu: cpu_time().saturating_sub(cpu) })
}

/// Accepts every connection on a loopback port and never sends a byte.
pub struct SilentServer {
    pub url: String,
    accepted: Arc<AtomicUsize>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        // The thread and the connections it holds live until the test binary exits.
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        SilentServer { url, accepted }
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Answers every request with one scripted HTTP answer, counting the requests.
pub struct ScriptedServer {
    pub url: String,
    requests: Arc<AtomicUsize>,
}

impl ScriptedServer {
    /// `answer`: the status line and headers after `HTTP/1.1 `, e.g. `503 Unavailable\r\nRetry-After: 1`.
    pub fn start(answer: &'static str, body: &'static str) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                if read_head(&mut stream) {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {answer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
            }
        });
        ScriptedServer { url, requests }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads a request up to the end of its head (the scripted answers ignore bodies).
fn read_head(stream: &mut TcpStream) -> bool {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

/// A process stopped with SIGSTOP — alive, its sockets open, answering nothing — until drop
/// sends SIGCONT.
pub struct Frozen {
    pid: u32,
}

impl Frozen {
    /// Stops the `weed` that serves the catalog at `catalog_url` (`http://127.0.0.1:<port>`),
    /// and returns once the catalog is seen to answer nothing.
    pub fn weed_serving(catalog_url: &str) -> Frozen {
        let port: u16 = catalog_url.rsplit(':').next().unwrap().parse().unwrap();
        let flag = format!("-s3.port.iceberg={port}");
        let pid = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                cmdline.split(|b| *b == 0).any(|arg| arg == flag.as_bytes())
            })
            .unwrap_or_else(|| panic!("no process runs with {flag}"));
        signal(pid, "STOP");
        let frozen = Frozen { pid };
        // A request sent right after SIGSTOP was seen answered now and then on a loaded machine;
        // the tests rely on a catalog that answers nothing, so that is awaited, not assumed.
        let deadline = Instant::now() + Duration::from_secs(10);
        while answers_config(port) {
            assert!(Instant::now() < deadline, "the catalog on port {port} still answers 10 s after SIGSTOP");
            std::thread::sleep(Duration::from_millis(50));
        }
        frozen
    }
}

/// Whether GET /v1/config on `port` gets a status line within 300 ms.
fn answers_config(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
    if stream.write_all(b"GET /v1/config HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok()
}

impl Drop for Frozen {
    fn drop(&mut self) {
        signal(self.pid, "CONT");
    }
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success(), "kill -{name} {pid} failed");
}
