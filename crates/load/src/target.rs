//! The target of a load test: the URL split into what the client needs, its
//! addresses resolved once, and the safety rule that only loopback targets are
//! loaded unless the user says `--allow-remote`.
//!
//! Connections go to the addresses checked here, never to a second lookup, so
//! a name cannot resolve to loopback for the check and elsewhere for the load.

use crate::error::LoadError;
use hyper::Uri;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// A parsed, resolved and checked target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    /// Host name or address literal, without brackets.
    pub host: String,
    /// `host:port` for the Host header (port only when not the default).
    pub authority: String,
    /// Path and query of the default request (`/` when the URL has none).
    pub path_and_query: String,
    /// Resolved addresses, loopback-only unless remote targets were allowed.
    pub addresses: Vec<SocketAddr>,
    /// Whether the URL is `https://`.
    pub tls: bool,
}

/// Whether `address` is on this machine's loopback interface.
pub fn is_loopback(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

impl Target {
    /// Parses `url` (http:// or https://), resolves the host
    /// and refuses non-loopback addresses unless `allow_remote`.
    pub fn resolve(url: &str, allow_remote: bool) -> Result<Target, LoadError> {
        let bad = |why: &str| LoadError::Url {
            url: url.to_string(),
            why: why.to_string(),
        };
        let uri: Uri = url.parse().map_err(|e| bad(&format!("{e}")))?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            Some(other) => {
                return Err(bad(&format!(
                    "unsupported scheme '{other}', use http:// or https://"
                )))
            }
            None => return Err(bad("no scheme; write it as http://HOST:PORT/PATH")),
        };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let addresses: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|source| LoadError::Resolve {
                host: host.to_string(),
                source,
            })?
            .collect();
        if addresses.is_empty() {
            return Err(LoadError::Resolve {
                host: host.to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses"),
            });
        }
        if !allow_remote {
            if let Some(remote) = addresses.iter().find(|a| !is_loopback(a.ip())) {
                return Err(LoadError::NotLoopback {
                    host: host.to_string(),
                    address: remote.ip(),
                });
            }
        }
        Ok(Target {
            url: url.to_string(),
            host: host.to_string(),
            authority: authority.as_str().to_string(),
            path_and_query: uri
                .path_and_query()
                .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()),
            addresses,
            tls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_resolve() {
        let target = Target::resolve("http://127.0.0.1:8080/a?b=1", false).expect("loopback");
        assert_eq!(target.authority, "127.0.0.1:8080");
        assert_eq!(target.path_and_query, "/a?b=1");
        assert_eq!(
            target.addresses,
            vec!["127.0.0.1:8080".parse().expect("addr")]
        );
        let v6 = Target::resolve("http://[::1]:9/", false).expect("loopback v6");
        assert_eq!(v6.host, "::1");
        let other = Target::resolve("http://127.5.6.7", false).expect("127/8");
        assert_eq!(other.path_and_query, "/");
        assert!(Target::resolve("http://localhost:1/", false).is_ok());
    }

    #[test]
    fn remote_targets_are_refused_without_allow_remote() {
        for url in [
            "http://10.1.2.3/",
            "http://192.168.0.1:80/",
            "http://[2001:db8::1]/",
        ] {
            let error = Target::resolve(url, false).expect_err(url).to_string();
            assert!(error.contains("--allow-remote"), "{error}");
        }
        // With the flag the address literal is accepted (nothing is sent here).
        assert!(Target::resolve("http://10.1.2.3/", true).is_ok());
    }

    #[test]
    fn unsupported_urls_are_explained() {
        let https = Target::resolve("https://127.0.0.1/", false).expect("https");
        assert!(https.tls);
        assert_eq!(https.addresses[0].port(), 443);
        assert!(Target::resolve("127.0.0.1:80", false).is_err());
        assert!(Target::resolve("ftp://127.0.0.1/", false).is_err());
    }
}
