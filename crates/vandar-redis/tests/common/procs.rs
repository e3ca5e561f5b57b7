//! Child processes: a test binary re-runs itself (its ignored test `child`) with a role in
//! `VANDAR_REDIS_TEST_ROLE`; the child prints lines, the last one `RESULT <json>`. The parent
//! reads every line as it comes, with the parent's time of arrival.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One running child and the lines it printed so far.
pub struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    done: std::sync::mpsc::Receiver<()>,
}

/// Start the test binary as a child with `role` and extra environment `env`.
pub fn spawn(role: &str, env: &[(&str, String)]) -> Proc {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args([
        "--exact",
        "child",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("VANDAR_REDIS_TEST_ROLE", role)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the test binary runs");
    let stdout = child.stdout.take().expect("piped stdout");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let (tx, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((Instant::now(), line));
        }
        let _ = tx.send(());
    });
    Proc { child, lines, done }
}

impl Proc {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The lines so far that contain `tag ` (the text after it), with their arrival times.
    pub fn tagged(&self, tag: &str) -> Vec<(Instant, String)> {
        let tag = format!("{tag} ");
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(|(at, l)| l.find(&tag).map(|i| (*at, l[i + tag.len()..].to_owned())))
            .collect()
    }

    /// Send a signal (`-KILL`, `-STOP`, `-CONT`) with `kill(1)`.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .expect("kill(1) runs")
            .success();
        assert!(ok, "kill {sig} {}", self.pid());
    }

    /// Kill it at once (SIGKILL) and reap it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Wait (at most `limit`) for it to end and return its `RESULT` json.
    pub fn result(mut self, limit: Duration) -> Value {
        let _ = self.done.recv_timeout(limit);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let last = self.tagged("RESULT").pop().map(|(_, l)| l);
        last.and_then(|l| serde_json::from_str(&l).ok())
            .expect("the child reported a result in time")
    }
}

/// Wait for several children (each within `limit`) on a blocking thread.
pub async fn results(procs: Vec<Proc>, limit: Duration) -> Vec<Value> {
    tokio::task::spawn_blocking(move || procs.into_iter().map(|p| p.result(limit)).collect())
        .await
        .expect("the waiting thread")
}

/// Poll `cond` every 10 ms until it holds, or panic with `what` after `limit`.
pub async fn until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The body of a child: run `body(role)` on a 2-thread runtime and print its `RESULT`. Without
/// `VANDAR_REDIS_TEST_ROLE` (not started as a child) it does nothing.
pub fn run_child<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let Ok(role) = std::env::var("VANDAR_REDIS_TEST_ROLE") else {
        eprintln!("not started as a child process: nothing to do");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = rt.block_on(body(role));
    println!("\nRESULT {result}");
}
