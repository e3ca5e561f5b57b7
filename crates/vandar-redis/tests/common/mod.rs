//! A real `redis-server` on 127.0.0.1 for the tests: each test starts its own on a free port
//! and stops it when dropped.
//!
//! The binary is `$VANDAR_REDIS_SERVER` or `redis-server` on the `PATH` (Debian package
//! `redis-server`). When it is missing the tests say so and pass without running, unless
//! `VANDAR_REQUIRE_REDIS=1` (CI sets it), which makes them fail instead.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The usual arguments: a plain port on 127.0.0.1, no persistence, `dir` as its directory.
fn base_args(port: u16, dir: &std::path::Path) -> Vec<String> {
    [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
        "--dir",
        dir.to_str().expect("a UTF-8 temp dir"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// One redis-server process.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: std::path::PathBuf,
}

fn binary() -> String {
    std::env::var("VANDAR_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

/// Whether 127.0.0.1:`port` answers PING.
pub fn pong(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

/// Whether `bin` runs; else print why and return false (or panic under
/// `VANDAR_REQUIRE_REDIS=1`).
pub fn available(bin: &str) -> bool {
    if let Err(e) = Command::new(bin).arg("--version").output() {
        let msg = format!(
            "SKIPPED: `{bin}` cannot be run ({e}); install the Debian packages redis-server and redis-tools or set VANDAR_REDIS_SERVER"
        );
        if std::env::var("VANDAR_REQUIRE_REDIS").is_ok_and(|v| v == "1") {
            panic!("{msg} (VANDAR_REQUIRE_REDIS=1)");
        }
        eprintln!("{msg}");
        return false;
    }
    true
}

/// A free TCP port on 127.0.0.1 (free now; a start retries if it is taken meanwhile).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl RedisServer {
    /// Start one, or `None` (with a message) when the binary is missing.
    pub fn start() -> Option<Self> {
        Self::start_with(|_, _| Vec::new())
    }

    /// Start one with extra arguments `extra(port, dir)` after the usual ones (a plain port
    /// on 127.0.0.1 that answers PING, no persistence, a fresh directory).
    pub fn start_with(extra: impl Fn(u16, &std::path::Path) -> Vec<String>) -> Option<Self> {
        Self::spawn(|port, dir| {
            let mut args = base_args(port, dir);
            args.extend(extra(port, dir));
            args
        })
    }

    /// Start `redis-server <args(port, dir)>` and wait until `port` answers PING.
    pub fn spawn(args: impl Fn(u16, &std::path::Path) -> Vec<String>) -> Option<Self> {
        let bin = binary();
        if !available(&bin) {
            return None;
        }
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir()
                .join(format!("vandar-redis-test-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let mut child = Command::new(&bin)
                .args(args(port, &dir))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if pong(port) {
                    return Some(Self {
                        child: Some(child),
                        port,
                        dir,
                    });
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // the port was taken meanwhile: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start on 127.0.0.1");
    }

    /// Its plain port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kill it (SIGKILL) and wait until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A throwaway CA and a server certificate for 127.0.0.1 and localhost (PEM): (ca, cert, key).
pub fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "vandar-redis test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let server_cert = server
        .signed_by(&server_key, &Issuer::from_params(&ca, &ca_key))
        .unwrap();
    (ca_cert.pem(), server_cert.pem(), server_key.serialize_pem())
}

/// A server with a TLS port too (a throwaway CA, no client certificates): the server, its
/// TLS port and the CA's PEM; `None` when the binary is missing.
pub fn tls_server() -> Option<(RedisServer, u16, String)> {
    let (ca, cert, key) = certificates();
    let tls_port = free_port();
    let server = RedisServer::start_with(|_, dir| {
        for (name, pem) in [("ca.pem", &ca), ("cert.pem", &cert), ("key.pem", &key)] {
            std::fs::write(dir.join(name), pem).unwrap();
        }
        let path = |n: &str| dir.join(n).to_str().unwrap().to_owned();
        vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            path("cert.pem"),
            "--tls-key-file".into(),
            path("key.pem"),
            "--tls-ca-cert-file".into(),
            path("ca.pem"),
            "--tls-auth-clients".into(),
            "no".into(),
        ]
    })?;
    Some((server, tls_port, ca))
}

/// Start a server or return from the test (the binary is missing; see the module docs).
#[macro_export]
macro_rules! redis_or_skip {
    () => {
        match common::RedisServer::start() {
            Some(server) => server,
            None => return,
        }
    };
}

pub mod fake;
pub mod procs;

impl RedisServer {
    /// Start a stopped server again on the same port (empty: no persistence).
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port;
        let dir = self.dir.clone();
        let mut child = Command::new(binary())
            .args(base_args(port, &dir))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let started = Instant::now();
        while !pong(port) {
            assert!(
                started.elapsed() < Duration::from_secs(5)
                    && child.try_wait().ok().flatten().is_none(),
                "redis-server did not restart on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }
}

/// Send one inline command (e.g. `FLUSHALL`) to 127.0.0.1:`port` and return the first line of
/// the answer.
pub fn command(port: u16, cmd: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("redis-server answers");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}
