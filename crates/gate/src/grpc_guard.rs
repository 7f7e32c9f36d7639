//! The tonic guard: a tower layer for `tonic::transport::Server::builder()`
//! that checks the `authorization` metadata (what `OTEL_EXPORTER_OTLP_HEADERS`
//! sends) of every call before any service reads its message, and answers a
//! refusal as a trailers-only gRPC status: UNAUTHENTICATED, PERMISSION_DENIED,
//! RESOURCE_EXHAUSTED with `RetryInfo`, or UNAVAILABLE.
//!
//! Unlike a tonic interceptor it is async, so a token's first (argon2)
//! verification runs on the blocking pool, not on an async worker. Without a
//! gate (`GrpcGuardLayer::new(None, …)`) calls pass untouched.

use crate::peer::peer_ip;
use crate::Gate;
use auth::Permission;
use axum::http::header::AUTHORIZATION;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Wraps gRPC services in a [`GrpcGuard`].
#[derive(Debug, Clone)]
pub struct GrpcGuardLayer {
    gate: Option<Arc<Gate>>,
    permission: Permission,
}

impl GrpcGuardLayer {
    /// Calls must show credentials for `permission` when `gate` is given.
    pub fn new(gate: Option<Arc<Gate>>, permission: Permission) -> GrpcGuardLayer {
        GrpcGuardLayer { gate, permission }
    }
}

impl<S> Layer<S> for GrpcGuardLayer {
    type Service = GrpcGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcGuard {
            inner,
            gate: self.gate.clone(),
            permission: self.permission,
        }
    }
}

/// A gRPC service behind the gate.
#[derive(Debug, Clone)]
pub struct GrpcGuard<S> {
    inner: S,
    gate: Option<Arc<Gate>>,
    permission: Permission,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<axum::http::Request<B>> for GrpcGuard<S>
where
    S: Service<axum::http::Request<B>, Response = axum::http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: axum::http::Request<B>) -> Self::Future {
        // The service that was polled ready serves this call; a clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some(gate) = self.gate.clone() else {
            return Box::pin(inner.call(request));
        };
        let permission = self.permission;
        Box::pin(async move {
            let client = peer_ip(request.extensions_mut());
            let header = request
                .headers()
                .get(AUTHORIZATION)
                .map(|value| value.as_bytes().to_vec());
            match gate
                .check_header(header.as_deref(), client, permission)
                .await
            {
                Ok(identity) => {
                    request.extensions_mut().insert(identity);
                    inner.call(request).await
                }
                Err(refusal) => Ok(refusal.grpc_status().into_http()),
            }
        })
    }
}
