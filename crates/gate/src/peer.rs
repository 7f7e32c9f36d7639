//! The client's address, as the listener recorded it in the request's
//! extensions: axum's `ConnectInfo<tls::Peer>` (servers on a `tls::Listener`,
//! plain or TLS) or `ConnectInfo<SocketAddr>` (on a `TcpListener`), or
//! tonic's connection info (`TcpConnectInfo`, also what a `tls::Listener`'s
//! connections give; `TlsConnectInfo` when tonic does TLS).
//!
//! A request without any gets [`UNKNOWN_PEER`]: all such clients share one
//! entry of the failure limiter, which fails closed (they are blocked
//! together) rather than open.

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The address of a client whose listener did not say (`::`).
pub const UNKNOWN_PEER: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// The client's IP address from `extensions`.
pub(crate) fn peer_ip(extensions: &mut Extensions) -> IpAddr {
    if let Some(ConnectInfo(tls::Peer(address))) = extensions.get::<ConnectInfo<tls::Peer>>() {
        return address.ip();
    }
    if let Some(ConnectInfo(address)) = extensions.get::<ConnectInfo<SocketAddr>>() {
        return address.ip();
    }
    grpc_peer(extensions).map_or(UNKNOWN_PEER, |address| address.ip())
}

/// tonic's own lookup, which knows its TCP and TLS connection info types; the
/// extensions are lent to a `tonic::Request` and taken back.
fn grpc_peer(extensions: &mut Extensions) -> Option<SocketAddr> {
    let lent = std::mem::take(extensions);
    let request = tonic::Request::from_parts(tonic::metadata::MetadataMap::new(), lent, ());
    let address = request.remote_addr();
    let (_, lent, ()) = request.into_parts();
    *extensions = lent;
    address
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use tonic::transport::server::TcpConnectInfo;

    #[test]
    fn the_address_comes_from_axum_or_tonic_connection_info() {
        let client = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)), 40_000);
        let mut axum_style = Extensions::new();
        axum_style.insert(ConnectInfo(client));
        assert_eq!(peer_ip(&mut axum_style), client.ip());

        let mut tls_listener_style = Extensions::new();
        tls_listener_style.insert(ConnectInfo(tls::Peer(client)));
        assert_eq!(peer_ip(&mut tls_listener_style), client.ip());

        let mut tonic_style = Extensions::new();
        tonic_style.insert(TcpConnectInfo {
            local_addr: None,
            remote_addr: Some(client),
        });
        tonic_style.insert(7u32);
        assert_eq!(peer_ip(&mut tonic_style), client.ip());
        assert_eq!(tonic_style.get::<u32>(), Some(&7), "extensions are kept");

        assert_eq!(peer_ip(&mut Extensions::new()), UNKNOWN_PEER);
    }
}
