//! SIGHUP reloads the certificate even when the files look unchanged to
//! the poll. A test binary of its own: the signal reaches the whole process.
#![allow(clippy::unwrap_used)]

mod common;

use common::running::{start, wait_for_certificate};
use common::RustlsClient;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tls::reload::{watch, Trigger};

#[tokio::test]
async fn sighup_reloads_even_when_the_files_look_unchanged() {
    let (running, first) = start("sighup").await;
    // Installs the process's SIGHUP handler before any is sent, so the test
    // process is never killed by one.
    let _keep = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).unwrap();
    let hangups = Arc::new(Mutex::new(0usize));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let hangups = Arc::clone(&hangups);
        tokio::spawn(watch(
            Arc::clone(running.server.resolver()),
            Duration::from_secs(3600),
            async move {
                let _ = stop_rx.await;
            },
            move |reload| {
                if reload.trigger == Trigger::Hangup && reload.result.is_ok() {
                    *hangups.lock().unwrap() += 1;
                }
            },
        ))
    };
    let client = RustlsClient::connect(running.addr, &running.pki.ca())
        .await
        .unwrap();
    assert_eq!(client.peer_certificate, first);
    let second = running.pki.write_server(&running.cert, &running.key, 2);
    // The hour-long poll will not notice; only the signal can. Sent until
    // the watcher (registering its own receiver) reports one.
    let deadline = Instant::now() + Duration::from_secs(10);
    while *hangups.lock().unwrap() == 0 {
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload within 10 s"
        );
        // SAFETY: kill(2) on our own pid with a signal whose handler is installed above.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGHUP);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_certificate(&running, &second).await;
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(5), watcher)
        .await
        .unwrap()
        .unwrap();
    running.task.abort();
}
