//! A small blocking HTTP client for the differential suite: GET a JSON API
//! answer, POST a remote_write body. Wraps async `reqwest` in a
//! current-thread tokio runtime so the suite stays plain sequential code.

use reqwest::Url;
use std::time::Duration;

/// One HTTP answer: status and body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Blocking GET/POST with a per-request timeout.
pub struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    pub fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread tokio runtime builds");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a plain-HTTP reqwest client builds");
        Self { rt, client }
    }

    /// GET `base` + `path` with URL-encoded `params`.
    pub fn get(&self, base: &str, path: &str, params: &[(&str, String)]) -> Result<Reply, String> {
        let url = Url::parse_with_params(&format!("{}{path}", base.trim_end_matches('/')), params)
            .map_err(|e| format!("bad URL {base}{path}: {e}"))?;
        self.send(self.client.get(url))
    }

    /// POST `body` to `url` with `headers`.
    pub fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Reply, String> {
        let mut request = self.client.post(url).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request)
    }

    fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply, String> {
        self.rt.block_on(async {
            let response = request.send().await.map_err(|e| format!("{e}"))?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(|e| format!("{e}"))?;
            Ok(Reply {
                status,
                body: body.to_vec(),
            })
        })
    }
}
