//! The TLS listener under axum, spoken to by the real `curl` and by a
//! rustls client: pages over https, a 400 for plain http, mutual TLS
//! refused without (or with a foreign) client certificate and accepted with
//! one, a silent client that does not hold up others, ALPN per listener,
//! the client's address as `ConnectInfo<Peer>`, and the startup errors for
//! bad files.
#![allow(clippy::unwrap_used)]

mod common;

use common::{curl, loopback, serve_hello, text, Pki, RustlsClient};
use std::time::{Duration, Instant};
use tls::{Alpn, Listener, ServerFiles, ServerTls};
use tokio::io::AsyncReadExt;

fn server_tls(pki: &Pki, client_ca: Option<std::path::PathBuf>) -> ServerTls {
    let (cert, key, _) = pki.server("server", 1);
    ServerTls::load(&ServerFiles {
        cert,
        key,
        client_ca,
    })
    .unwrap()
}

async fn tls_listener(server: &ServerTls, alpn: Alpn) -> Listener {
    Listener::new(loopback().await, Some(server.config(alpn).unwrap()), "test")
}

#[tokio::test]
async fn curl_gets_a_page_over_https_and_plain_http_gets_told_to_use_https() {
    let pki = Pki::new("https");
    let server = server_tls(&pki, None);
    let (addr, task) = serve_hello(tls_listener(&server, Alpn::Http1).await);
    let ca = pki.ca().display().to_string();

    let output = curl(vec![
        "--cacert".into(),
        ca.clone(),
        format!("https://{addr}/"),
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "hello over TLS\n");
    // By name too: the certificate carries localhost.
    let by_name = format!("https://localhost:{}/", addr.port());
    let output = curl(vec!["--cacert".into(), ca.clone(), by_name]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));

    // Without the CA curl does not trust the server.
    let output = curl(vec![format!("https://{addr}/")]).await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("certificate"),
        "{}",
        text(&output.stderr)
    );

    // Plain HTTP to the TLS port: a 400 that says what to do.
    let output = curl(vec![
        "--write-out".into(),
        "\n%{http_code}".into(),
        format!("http://{addr}/"),
    ])
    .await;
    let answer = text(&output.stdout);
    assert!(answer.ends_with("\n400"), "{answer}");
    assert!(answer.contains("Use an https:// URL"), "{answer}");
    task.abort();
}

#[tokio::test]
async fn handlers_see_each_clients_address_as_connect_info_over_tls_and_plain() {
    use axum::extract::ConnectInfo;
    use tls::Peer;
    let pki = Pki::new("peer");
    let server = server_tls(&pki, None);
    let ca = pki.ca().display().to_string();
    let plain = Listener::from(loopback().await);
    for (listener, scheme) in [
        (tls_listener(&server, Alpn::Http1).await, "https"),
        (plain, "http"),
    ] {
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new().route(
            "/",
            axum::routing::get(|ConnectInfo(Peer(peer)): ConnectInfo<Peer>| async move {
                peer.to_string()
            }),
        );
        let task = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<Peer>();
            let _ = axum::serve(listener, service).await;
        });
        let output = curl(vec![
            "--cacert".into(),
            ca.clone(),
            format!("{scheme}://{addr}/"),
        ])
        .await;
        assert!(output.status.success(), "{}", text(&output.stderr));
        let seen: std::net::SocketAddr = text(&output.stdout).parse().unwrap();
        assert_eq!(seen.ip(), addr.ip(), "{scheme}");
        assert_ne!(
            seen.port(),
            addr.port(),
            "{scheme}: the client's port, not the server's"
        );
        task.abort();
    }
}

#[tokio::test]
async fn mutual_tls_refuses_clients_without_a_certificate_from_the_client_ca() {
    let pki = Pki::new("mtls");
    let clients = Pki::new("clients");
    let strangers = Pki::new("strangers");
    let server = server_tls(&pki, Some(clients.ca()));
    assert!(server.mutual());
    let (addr, task) = serve_hello(tls_listener(&server, Alpn::Http1).await);
    let url = format!("https://{addr}/");
    let ca = pki.ca().display().to_string();

    let output = curl(vec!["--cacert".into(), ca.clone(), url.clone()]).await;
    assert!(
        !output.status.success(),
        "no client certificate was accepted"
    );
    assert!(output.stdout.is_empty());
    let why = text(&output.stderr).to_lowercase();
    assert!(
        why.contains("alert") || why.contains("certificate"),
        "{why}"
    );

    let (cert, key) = strangers.client("stranger");
    let output = curl(vec![
        "--cacert".into(),
        ca.clone(),
        "--cert".into(),
        cert.display().to_string(),
        "--key".into(),
        key.display().to_string(),
        url.clone(),
    ])
    .await;
    assert!(
        !output.status.success(),
        "a foreign client certificate was accepted"
    );
    assert!(output.stdout.is_empty());

    let (cert, key) = clients.client("agent");
    let output = curl(vec![
        "--cacert".into(),
        ca,
        "--cert".into(),
        cert.display().to_string(),
        "--key".into(),
        key.display().to_string(),
        url,
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "hello over TLS\n");

    // The agent's client config presents the certificate the same way.
    let files = tls::ClientFiles {
        ca: Some(pki.ca()),
        identity: Some((cert, key)),
    };
    let mut client = RustlsClient::connect_with(addr, tls::client_config(&files).unwrap())
        .await
        .unwrap();
    assert_eq!(client.get().await.unwrap(), "hello over TLS\n");
    task.abort();
}

#[tokio::test]
async fn a_client_that_sends_nothing_does_not_hold_up_others_and_is_cut_off() {
    let pki = Pki::new("silent");
    let server = server_tls(&pki, None);
    let listener = tls_listener(&server, Alpn::Http1)
        .await
        .with_handshake_timeout(Duration::from_millis(1500));
    let (addr, task) = serve_hello(listener);

    let mut silent: Vec<tokio::net::TcpStream> = Vec::new();
    for _ in 0..8 {
        silent.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let started = Instant::now();
    let output = curl(vec![
        "--cacert".into(),
        pki.ca().display().to_string(),
        format!("https://{addr}/"),
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "curl waited {:?} behind silent clients",
        started.elapsed()
    );

    // After the handshake timeout the server closes the silent ones.
    for mut stream in silent {
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("the server closed the silent connection within 5 s");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    task.abort();
}

#[tokio::test]
async fn alpn_offers_h2_for_grpc_and_http_1_1_for_axum() {
    let pki = Pki::new("alpn");
    let server = server_tls(&pki, None);
    let h2_only = tls_listener(&server, Alpn::H2).await;
    let http1_only = tls_listener(&server, Alpn::Http1).await;

    // curl offers both; each listener picks its own.
    for (listener, expected) in [(h2_only, "h2"), (http1_only, "http/1.1")] {
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut listener = listener;
            let (connection, _) = listener.accept().await;
            connection.alpn_protocol().map(<[u8]>::to_vec)
        });
        let output = curl(vec![
            "--cacert".into(),
            pki.ca().display().to_string(),
            "--verbose".into(),
            "--max-time".into(),
            "2".into(),
            format!("https://{addr}/"),
        ])
        .await;
        let verbose = text(&output.stderr);
        let alpn = task.await.unwrap();
        assert_eq!(alpn.as_deref(), Some(expected.as_bytes()), "{verbose}");
        assert!(
            verbose.contains(&format!("ALPN: server accepted {expected}")),
            "{verbose}"
        );
    }
}

#[tokio::test]
async fn a_plain_listener_is_just_tcp() {
    let listener = Listener::from(loopback().await);
    assert_eq!(listener.scheme(), "http");
    let (addr, task) = serve_hello(listener);
    let output = curl(vec![format!("http://{addr}/")]).await;
    assert_eq!(text(&output.stdout), "hello over TLS\n");
    task.abort();
}

#[test]
fn startup_errors_name_the_file_and_the_problem() {
    let pki = Pki::new("errors");
    let (cert, key, _) = pki.server("server", 1);
    let (_, other_key, _) = pki.server("other", 2);
    let load = |cert: &std::path::Path, key: &std::path::Path, ca: Option<&std::path::Path>| {
        ServerTls::load(&ServerFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            client_ca: ca.map(std::path::Path::to_path_buf),
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    assert_eq!(load(&cert, &key, None), Ok(()));

    let missing = pki.path("missing.pem");
    let error = load(&missing, &key, None).unwrap_err();
    assert!(error.starts_with("cannot read certificate file"), "{error}");
    assert!(error.contains("missing.pem"), "{error}");

    let error = load(&key, &key, None).unwrap_err();
    assert!(error.contains("holds no certificate"), "{error}");

    let error = load(&cert, &cert, None).unwrap_err();
    assert!(error.contains("holds no private key"), "{error}");

    let error = load(&cert, &other_key, None).unwrap_err();
    assert!(error.contains("does not match the certificate"), "{error}");
    assert!(
        error.contains("other.key") && error.contains("server.pem"),
        "{error}"
    );

    let error = load(&cert, &key, Some(&key)).unwrap_err();
    assert!(error.contains("holds no certificate"), "{error}");
}

#[test]
fn rsa_pkcs1_and_ec_sec1_keys_made_by_openssl_load() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("openssl runs (Debian's openssl package)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            text(&output.stderr)
        );
    };
    run(&["genrsa", "-traditional", "-out", "rsa.key", "2048"]);
    run(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "ec.key",
    ]);
    for (key, header) in [
        ("rsa.key", "BEGIN RSA PRIVATE KEY"),
        ("ec.key", "BEGIN EC PRIVATE KEY"),
    ] {
        let pem = std::fs::read_to_string(dir.path().join(key)).unwrap();
        assert!(pem.contains(header), "{pem}");
        let cert = format!("{key}.crt");
        run(&[
            "req",
            "-x509",
            "-key",
            key,
            "-out",
            &cert,
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]);
        let files = ServerFiles {
            cert: dir.path().join(&cert),
            key: dir.path().join(key),
            client_ca: None,
        };
        let loaded = ServerTls::load(&files).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(loaded.resolver().describe().chain_len, 1);
    }
}
