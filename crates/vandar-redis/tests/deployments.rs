//! Redis as operators run it, each against real `redis-server` processes on 127.0.0.1: TLS
//! (`rediss://` with a throwaway CA made here with `rcgen`), Sentinel (one master, one
//! sentinel) and Cluster (3 masters). The token store's compare-and-swap and the limiter run
//! through each.

mod common;

use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use common::RedisServer;
use vandar_redis::{Account, RedisConnection, RedisError, RedisRateLimiter, RedisTokenStore};
use vandar_runtime::token::{Swap, TokenRecord, TokenStore, fresh_revision};
use vandar_runtime::{LimiterKey, MethodClass, RateLimit, SlotGrant, SlotRequest, TokenPair};

fn record(tag: &str) -> TokenRecord {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    TokenRecord::seed(TokenPair::issued_at(
        format!("acc-{tag}-SECRET"),
        format!("ref-{tag}-SECRET"),
        at,
    ))
}

/// The store and the limiter work through `conn`: a seed, a conflicting seed, a rotation, a
/// stale write, and a reservation, for `accounts` accounts (keys in different slots).
async fn exercise(conn: &RedisConnection, accounts: usize) {
    for i in 0..accounts {
        let account = Account::production(&format!("shop{i}")).unwrap();
        let store = RedisTokenStore::new(conn.clone(), "ops", &account).unwrap();
        let seed = record(&format!("s{i}"));
        let done = store.swap(None, &seed).await.unwrap();
        assert!(matches!(done, Swap::Done { now: Some(_) }), "{done:?}");
        let Swap::Conflict(seen) = store.swap(None, &record("other")).await.unwrap() else {
            panic!("second seed conflicts");
        };
        assert_eq!(seen.record.as_ref(), Some(&seed));
        let next = seed.rotated(record("next").pair, fresh_revision());
        assert!(matches!(
            store.swap(Some(seed.revision), &next).await.unwrap(),
            Swap::Done { .. }
        ));
        assert!(matches!(
            store.swap(Some(seed.revision), &seed).await.unwrap(),
            Swap::Conflict(_)
        ));
        let loaded = store.load().await.unwrap();
        assert_eq!(loaded.record, Some(next));
        assert!(loaded.now.is_some());
        let limiter = RedisRateLimiter::new(conn.clone(), "ops", &account).unwrap();
        let grant = limiter
            .reserve(SlotRequest {
                key: LimiterKey::token_pair(),
                class: MethodClass::Post,
                limit: RateLimit::new(30, Duration::from_secs(3)),
                max_wait: Duration::from_secs(1),
            })
            .await
            .unwrap();
        assert_eq!(
            grant,
            SlotGrant::Granted {
                wait: Duration::ZERO
            }
        );
    }
}

#[tokio::test]
async fn tls_with_a_private_ca() {
    let Some((server, tls_port, ca)) = common::tls_server() else {
        return;
    };
    // the TLS port comes up with the plain one
    let url = format!("rediss://127.0.0.1:{tls_port}/");
    let conn = RedisConnection::builder()
        .url(&url)
        .root_certificate(ca.clone())
        .open()
        .unwrap();
    conn.ping().await.unwrap();
    exercise(&conn, 2).await;

    // without the CA (the system's roots only) the server is not trusted: nothing is sent
    let untrusted = RedisConnection::open(&url).unwrap();
    let err = untrusted.ping().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    // plain text to the TLS port fails too (the server wants a handshake)
    let plain = RedisConnection::open(&format!("redis://127.0.0.1:{tls_port}/")).unwrap();
    assert!(plain.ping().await.is_err());
    drop(server);
}

/// A sentinel watching the master on `master_port` (quorum 1, down after 1 s).
fn sentinel_for(master_port: u16) -> Option<RedisServer> {
    RedisServer::spawn(|port, dir| {
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndaemonize no\ndir {}\nsentinel monitor vandar-test 127.0.0.1 {master_port} 1\nsentinel down-after-milliseconds vandar-test 1000\nsentinel failover-timeout vandar-test 5000\n",
                dir.display()
            ),
        )
        .unwrap();
        vec![conf.to_str().unwrap().to_owned(), "--sentinel".into()]
    })
}

#[tokio::test]
async fn sentinel_finds_the_master() {
    let Some(master) = RedisServer::start() else {
        return;
    };
    let master_port = master.port();
    let Some(sentinel) = sentinel_for(master_port) else {
        return;
    };
    let url = format!("redis+sentinel://127.0.0.1:{}/vandar-test", sentinel.port());
    let conn = RedisConnection::open(&url).unwrap();
    conn.ping().await.unwrap();
    exercise(&conn, 2).await;
    // the writes landed on the master the sentinel named
    let direct = RedisTokenStore::new(
        RedisConnection::open(&master_url(master_port)).unwrap(),
        "ops",
        &Account::production("shop0").unwrap(),
    )
    .unwrap();
    assert!(direct.load().await.unwrap().record.is_some());
    outlives_its_first_runtime(&url).await;
    // a master name the sentinel does not know is an error, not a hang
    let unknown = RedisConnection::open(&format!(
        "redis+sentinel://127.0.0.1:{}/no-such-master",
        sentinel.port()
    ))
    .unwrap();
    let err = unknown.ping().await.unwrap_err();
    assert!(
        matches!(
            err,
            RedisError::Unavailable { .. } | RedisError::Command { .. }
        ),
        "{err:?}"
    );
}

/// The master dies; the sentinel promotes its replica; the same connection asks the
/// sentinel again and finds the record (replicated before the failover) on the new master.
#[tokio::test]
async fn sentinel_failover_moves_the_connection_to_the_new_master() {
    let Some(mut master) = RedisServer::start() else {
        return;
    };
    let master_port = master.port();
    let Some(replica) = RedisServer::start_with(|_, _| {
        vec![
            "--replicaof".into(),
            "127.0.0.1".into(),
            master_port.to_string(),
        ]
    }) else {
        return;
    };
    let Some(sentinel) = sentinel_for(master_port) else {
        return;
    };
    let conn = RedisConnection::open(&format!(
        "redis+sentinel://127.0.0.1:{}/vandar-test",
        sentinel.port()
    ))
    .unwrap();
    let account = Account::production("shop").unwrap();
    let store = RedisTokenStore::new(conn, "ops", &account).unwrap();
    let seed = record("before");
    assert!(matches!(
        store.swap(None, &seed).await.unwrap(),
        Swap::Done { .. }
    ));
    // wait until the replica has it, then kill the master
    let on_replica = RedisTokenStore::new(
        RedisConnection::open(&master_url(replica.port())).unwrap(),
        "ops",
        &account,
    )
    .unwrap();
    let started = Instant::now();
    while on_replica.load().await.unwrap().record.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not replicated"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    master.stop();
    // the sentinel notices (1 s) and promotes the replica; the store follows
    let started = Instant::now();
    let after = loop {
        let next = seed.rotated(record("after").pair, fresh_revision());
        match store.swap(Some(seed.revision), &next).await {
            Ok(Swap::Done { .. }) => break next,
            Ok(other) => panic!("{other:?}"),
            Err(_) => {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "no failover within 30 s"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    // the promoted replica holds it (the sentinel closed old client connections on the
    // promotion: the first read may find its connection gone and reconnect)
    let mut stored = on_replica.load().await;
    for _ in 0..20 {
        if stored.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        stored = on_replica.load().await;
    }
    assert_eq!(stored.unwrap().record, Some(after));
}

fn master_url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}/")
}

/// `redis-cli`, or skip.
fn redis_cli() -> Option<String> {
    let bin = std::env::var("VANDAR_REDIS_CLI").unwrap_or_else(|_| "redis-cli".into());
    common::available(&bin).then_some(bin)
}

#[tokio::test]
async fn cluster_of_three_masters() {
    let Some(cli) = redis_cli() else {
        return;
    };
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let Some(node) = RedisServer::start_with(|port, _| {
            vec![
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                format!("nodes-{port}.conf"),
                "--cluster-node-timeout".into(),
                "2000".into(),
            ]
        }) else {
            return;
        };
        nodes.push(node);
    }
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port()))
        .collect();
    let out = Command::new(&cli)
        .arg("--cluster")
        .arg("create")
        .args(&addrs)
        .arg("--cluster-yes")
        .output()
        .expect("redis-cli runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // every node agrees the cluster is up (bounded wait)
    let started = Instant::now();
    loop {
        let ok = nodes.iter().all(|n| {
            Command::new(&cli)
                .args(["-p", &n.port().to_string(), "cluster", "info"])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
        });
        if ok {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "cluster did not come up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!("redis+cluster://{}", addrs[..2].join(","));
    let conn = RedisConnection::open(&url).unwrap();
    conn.ping().await.unwrap();
    // 12 accounts: their keys spread over the three masters' slots
    exercise(&conn, 12).await;
    let mut holding = 0;
    for n in &nodes {
        let out = Command::new(&cli)
            .args(["-p", &n.port().to_string(), "dbsize"])
            .output()
            .unwrap();
        let size: u64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        holding += usize::from(size > 0);
    }
    assert!(holding >= 2, "keys land on several masters ({holding})");
    outlives_its_first_runtime(&url).await;
}

/// A connection opened and used on one tokio runtime, which is then dropped, still works on
/// another one (a shared client in tests, per-request runtimes in sync code): the first
/// command on the new runtime may fail (the old runtime took the connection's task with it),
/// and the next ones reconnect. `url`'s connection is opened on a runtime of its own thread.
async fn outlives_its_first_runtime(url: &str) {
    let url_a = url.to_owned();
    let conn = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let conn = rt.block_on(async {
            let conn = RedisConnection::open(&url_a).unwrap();
            conn.ping().await.unwrap();
            conn
        });
        drop(rt);
        conn
    })
    .join()
    .expect("runtime A");
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        match conn.ping().await {
            Ok(()) => break,
            Err(e) => outcomes.push(e.to_string()),
        }
        // past the circuit breaker's pause after a failure
        tokio::time::sleep(conn.options().retry_after_failure + Duration::from_millis(100)).await;
    }
    assert!(
        outcomes.len() <= 1,
        "the connection does not recover on a second runtime: {outcomes:?}"
    );
    let account = Account::production("shop").unwrap();
    let store = RedisTokenStore::new(conn.clone(), "rt", &account).unwrap();
    assert!(matches!(
        store.swap(None, &record("b")).await.unwrap(),
        Swap::Done { .. }
    ));
}

#[tokio::test]
async fn a_server_connection_outlives_its_first_runtime() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    outlives_its_first_runtime(&redis.url()).await;
}
