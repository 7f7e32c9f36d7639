//! Certificates for the TLS end-to-end tests, made at test time with
//! Debian's `openssl` CLI as an operator would: a CA, a server certificate
//! for 127.0.0.1 and localhost (subjectAltName), client certificates from
//! a second CA for mutual TLS. Files live in the caller's temp dir.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The PEM files of one test's PKI.
pub struct Certs {
    /// The CA that signed the server certificate (clients trust it).
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// The CA `--tls-client-ca` names.
    pub client_ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl Certs {
    /// Makes every file in `dir`.
    pub fn make(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let ca = self_signed_ca(dir, "server-ca");
        let (server_cert, server_key) = leaf(
            dir,
            "server",
            "server-ca",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
        );
        let client_ca = self_signed_ca(dir, "client-ca");
        let (client_cert, client_key) =
            leaf(dir, "client", "client-ca", "extendedKeyUsage=clientAuth");
        Self {
            ca,
            server_cert,
            server_key,
            client_ca,
            client_cert,
            client_key,
        }
    }

    /// `--tls-cert SERVER --tls-key KEY`, as serve and the agent take them,
    /// followed by `extra`.
    pub fn server_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "--tls-cert",
            self.server_cert.to_str().unwrap(),
            "--tls-key",
            self.server_key.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args
    }
}

/// `NAME.pem` and `NAME.key`: a self-signed EC CA.
fn self_signed_ca(dir: &Path, name: &str) -> PathBuf {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=whyslow test {name}"),
        ],
    );
    dir.join(format!("{name}.pem"))
}

/// `NAME.pem` and `NAME.key` signed by the CA `issuer` with extensions `ext`.
fn leaf(dir: &Path, name: &str, issuer: &str, ext: &str) -> (PathBuf, PathBuf) {
    let (key, csr, cert, ext_file) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    std::fs::write(dir.join(&ext_file), format!("{ext}\n")).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={name}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{issuer}.pem"),
            "-CAkey",
            &format!("{issuer}.key"),
            "-CAcreateserial",
            "-out",
            &cert,
            "-days",
            "2",
            "-extfile",
            &ext_file,
        ],
    );
    (dir.join(cert), dir.join(key))
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (Debian's openssl package)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
