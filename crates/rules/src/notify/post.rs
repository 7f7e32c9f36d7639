//! POSTing a JSON body to an alert receiver over `http://` or `https://`:
//! one HTTP/1.1 exchange on a new connection (alerts are minutes apart),
//! with hyper's connection API and, for https, the `tls` crate's client
//! trusting `serve --alert-tls-ca` or the public web roots. reqwest's own
//! TLS would bring a second crypto provider into the build, so it is not
//! used here. User info in the URL (`https://user:pass@am.example`) is sent
//! as Basic auth and never shown in messages.

use super::SEND_TIMEOUT;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Most of a refusal's body quoted in the error.
const QUOTED_BODY_BYTES: usize = 4096;

/// What a send failed with, and whether a retry may help.
pub(crate) type Failed = (String, bool);

/// Sends POSTs, trusting `tls` for https receivers.
#[derive(Debug, Clone)]
pub(crate) struct Poster {
    tls: Option<Arc<tls::ClientConfig>>,
    user_agent: String,
}

/// A receiver URL taken apart.
struct Receiver {
    https: bool,
    host: String,
    port: u16,
    authority: String,
    path: String,
    basic: Option<String>,
    /// The URL without its user info, for messages.
    shown: String,
}

impl Poster {
    /// Without `tls`, https receivers are refused.
    pub(crate) fn new(tls: Option<Arc<tls::ClientConfig>>) -> Self {
        Self {
            tls,
            user_agent: format!("whyslow/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// POSTs a JSON body; `Ok` on 2xx, else a short reason and whether a
    /// retry may help (connection failures, 5xx, 429).
    pub(crate) async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(), Failed> {
        let receiver = Receiver::parse(url).map_err(|e| (e, false))?;
        let shown = receiver.shown.clone();
        match tokio::time::timeout(SEND_TIMEOUT, self.exchange(receiver, body)).await {
            Ok(result) => result.map_err(|(why, retry)| (format!("POST {shown}: {why}"), retry)),
            Err(_) => Err((
                format!(
                    "POST {shown}: no answer within {} s",
                    SEND_TIMEOUT.as_secs()
                ),
                true,
            )),
        }
    }

    async fn exchange(&self, receiver: Receiver, body: Vec<u8>) -> Result<(), Failed> {
        let tcp = TcpStream::connect((receiver.host.as_str(), receiver.port))
            .await
            .map_err(|e| (format!("connecting: {e}"), true))?;
        let _ = tcp.set_nodelay(true);
        let mut sender = if receiver.https {
            let config = self
                .tls
                .clone()
                .ok_or_else(|| ("https is not configured here".to_string(), false))?;
            let client = tls::Client::with_config(config, &receiver.host)
                .map_err(|e| (e.to_string(), false))?;
            let stream = client
                .connect(tcp)
                .await
                .map_err(|e| (format!("TLS handshake: {e}"), true))?;
            handshake(stream).await?
        } else {
            handshake(tcp).await?
        };
        let mut request = hyper::Request::post(receiver.path.as_str())
            .header(header::HOST, receiver.authority.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, self.user_agent.as_str());
        if let Some(basic) = &receiver.basic {
            request = request.header(header::AUTHORIZATION, basic.as_str());
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| (format!("building the request: {e}"), false))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| (format!("{e}"), true))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = Limited::new(response.into_body(), QUOTED_BODY_BYTES)
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        let retry = status.is_server_error() || status.as_u16() == 429;
        Err((
            format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>().trim()
            ),
            retry,
        ))
    }
}

/// HTTP/1.1 on an open stream; the connection runs in its own task.
async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, Failed>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| (format!("HTTP handshake: {e}"), true))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

impl Receiver {
    fn parse(text: &str) -> Result<Receiver, String> {
        let mut url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            other => return Err(format!("scheme {other:?} is neither http nor https")),
        };
        let host = url
            .host_str()
            .ok_or_else(|| format!("{text:?} names no host"))?
            .to_string();
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("{text:?} names no port"))?;
        let basic = (!url.username().is_empty()).then(|| {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            let pair = format!(
                "{}:{}",
                decode(url.username()),
                decode(url.password().unwrap_or(""))
            );
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        Ok(Receiver {
            https,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            authority,
            path,
            basic,
            shown: url.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_address_path_and_hidden_credentials() {
        let r =
            Receiver::parse("https://am:s%3Acret@alerts.example/api/v2/alerts?x=1").expect("url");
        assert!(r.https);
        assert_eq!((r.host.as_str(), r.port), ("alerts.example", 443));
        assert_eq!(r.authority, "alerts.example");
        assert_eq!(r.path, "/api/v2/alerts?x=1");
        // base64("am:s:cret")
        assert_eq!(r.basic.as_deref(), Some("Basic YW06czpjcmV0"));
        assert_eq!(r.shown, "https://alerts.example/api/v2/alerts?x=1");
        let plain = Receiver::parse("http://[::1]:9093/hook").expect("url");
        assert_eq!((plain.host.as_str(), plain.port), ("::1", 9093));
        assert_eq!(plain.authority, "[::1]:9093");
        assert!(Receiver::parse("ftp://x/").is_err());
        assert!(Receiver::parse("not a url").is_err());
    }
}
