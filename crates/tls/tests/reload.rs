//! Certificate reload while serving: replaced files are picked up by the
//! next handshake (through `reload::watch` polling; SIGHUP is
//! `reload_signal.rs`, a process of its own) while a
//! connection opened before keeps working; a broken new pair is refused
//! and the old certificate stays.
#![allow(clippy::unwrap_used)]

mod common;

use common::running::{start, wait_for_certificate};
use common::RustlsClient;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tls::reload::{watch, Trigger};

/// What prompted a reload and the fingerprint it loaded (or the error).
type Report = (Trigger, Result<String, String>);

#[tokio::test]
async fn changed_files_are_served_to_new_handshakes_and_open_connections_keep_working() {
    let (running, first) = start("reload").await;
    let reports: Arc<Mutex<Vec<Report>>> = Arc::default();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let reports = Arc::clone(&reports);
        tokio::spawn(watch(
            Arc::clone(running.server.resolver()),
            Duration::from_millis(100),
            async move {
                let _ = stop_rx.await;
            },
            move |reload| {
                let result = reload
                    .result
                    .map(|loaded| loaded.fingerprint)
                    .map_err(|e| e.to_string());
                reports.lock().unwrap().push((reload.trigger, result));
            },
        ))
    };

    let mut open = RustlsClient::connect(running.addr, &running.pki.ca())
        .await
        .unwrap();
    assert_eq!(open.peer_certificate, first);
    assert_eq!(open.get().await.unwrap(), "hello over TLS\n");

    // Replace both files (a renewal): the next handshake sees serial 2.
    let second = running.pki.write_server(&running.cert, &running.key, 2);
    wait_for_certificate(&running, &second).await;
    assert_eq!(open.get().await.unwrap(), "hello over TLS\n");
    assert_eq!(open.peer_certificate, first);
    let fingerprint = tls::fingerprint(&second);
    assert!(reports
        .lock()
        .unwrap()
        .iter()
        .any(|(trigger, result)| *trigger == Trigger::FileChanged
            && result.as_deref() == Ok(fingerprint.as_str())));

    // A key that does not match: refused, serial 2 stays.
    let (_, stray_key, _) = running.pki.server("stray", 9);
    std::fs::copy(&stray_key, &running.key).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reports
        .lock()
        .unwrap()
        .iter()
        .any(|(_, result)| result.as_ref().is_err_and(|e| e.contains("does not match")))
    {
        assert!(Instant::now() < deadline, "the bad key was not reported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = RustlsClient::connect(running.addr, &running.pki.ca())
        .await
        .unwrap();
    assert_eq!(client.peer_certificate, second);
    assert_eq!(
        running.server.resolver().describe().fingerprint,
        fingerprint
    );

    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(5), watcher)
        .await
        .unwrap()
        .unwrap();
    running.task.abort();
}
