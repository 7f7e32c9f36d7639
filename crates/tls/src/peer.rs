//! The client's address as axum's `ConnectInfo` for a [`Listener`]: axum
//! only knows how to fill `ConnectInfo<SocketAddr>` for its own
//! `TcpListener`, so servers on a [`Listener`] (plain or TLS) use
//! `into_make_service_with_connect_info::<Peer>()` and handlers (the auth
//! gate's failure limiter) read `ConnectInfo<Peer>`.

use crate::listener::Listener;
use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use std::net::SocketAddr;

/// The remote address of a connection a [`Listener`] handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, Listener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl From<Peer> for SocketAddr {
    fn from(peer: Peer) -> Self {
        peer.0
    }
}
