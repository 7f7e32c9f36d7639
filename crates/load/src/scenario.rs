//! `--scenario file.toml`: several weighted requests against one target.
//!
//! ```toml
//! [[request]]
//! method = "GET"
//! path = "/api/items?page=1"
//! weight = 9
//! headers = { "Accept" = "application/json" }
//!
//! [[request]]
//! method = "POST"
//! url = "http://127.0.0.1:8080/api/items"   # must name the target's host:port
//! body = '{"name": "x"}'
//! weight = 1
//! ```

use crate::config::RequestTemplate;
use crate::error::LoadError;
use crate::target::Target;
use bytes::Bytes;
use hyper::Uri;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    request: Vec<ScenarioRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioRequest {
    #[serde(default = "default_method")]
    method: String,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
    body_file: Option<String>,
    #[serde(default = "default_weight")]
    weight: u32,
}

fn default_method() -> String {
    "GET".into()
}

fn default_weight() -> u32 {
    1
}

/// Reads a scenario file into weighted request templates for `target`.
pub fn load_scenario(path: &Path, target: &Target) -> Result<Vec<RequestTemplate>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Scenario {
        path: path.display().to_string(),
        why: e.to_string(),
    })?;
    parse_scenario(&text, path, target)
}

fn parse_scenario(
    text: &str,
    path: &Path,
    target: &Target,
) -> Result<Vec<RequestTemplate>, LoadError> {
    let bad = |why: String| LoadError::Scenario {
        path: path.display().to_string(),
        why,
    };
    let file: ScenarioFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
    if file.request.is_empty() {
        return Err(bad("no [[request]] tables".into()));
    }
    file.request
        .iter()
        .enumerate()
        .map(|(index, request)| {
            let which = format!("request {}", index + 1);
            let path_and_query = match (&request.path, &request.url) {
                (Some(path), None) => path.clone(),
                (None, Some(url)) => {
                    let uri: Uri = url
                        .parse()
                        .map_err(|e| bad(format!("{which}: bad url: {e}")))?;
                    if uri.authority().map(|a| a.as_str()) != Some(target.authority.as_str()) {
                        return Err(bad(format!(
                            "{which}: url {url} is not on the target {} (one target per run)",
                            target.authority
                        )));
                    }
                    uri.path_and_query()
                        .map_or("/".into(), |p| p.as_str().to_string())
                }
                (None, None) => target.path_and_query.clone(),
                (Some(_), Some(_)) => {
                    return Err(bad(format!("{which}: give path or url, not both")))
                }
            };
            let body = match (&request.body, &request.body_file) {
                (Some(body), None) => Bytes::from(body.clone()),
                (None, Some(file)) => {
                    let file = path.parent().unwrap_or(Path::new(".")).join(file);
                    Bytes::from(std::fs::read(&file).map_err(|e| {
                        bad(format!(
                            "{which}: cannot read body_file {}: {e}",
                            file.display()
                        ))
                    })?)
                }
                (None, None) => Bytes::new(),
                (Some(_), Some(_)) => {
                    return Err(bad(format!("{which}: give body or body_file, not both")))
                }
            };
            let headers: Vec<String> = request
                .headers
                .iter()
                .map(|(name, value)| format!("{name}: {value}"))
                .collect();
            if request.weight == 0 {
                return Err(bad(format!("{which}: weight must be at least 1")));
            }
            RequestTemplate::new(
                &request.method,
                &path_and_query,
                &headers,
                body,
                request.weight,
            )
            .map_err(|e| bad(format!("{which}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_requests_parse() {
        let target = Target::resolve("http://127.0.0.1:8080/", false).expect("target");
        let text = r#"
            [[request]]
            path = "/a?x=1"
            weight = 9
            headers = { "Accept" = "application/json" }

            [[request]]
            method = "post"
            url = "http://127.0.0.1:8080/b"
            body = "{}"
        "#;
        let requests = parse_scenario(text, Path::new("s.toml"), &target).expect("valid");
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].path_and_query, "/a?x=1");
        assert_eq!(requests[0].weight, 9);
        assert_eq!(requests[0].headers[0].0.as_str(), "accept");
        assert_eq!(requests[1].method.as_str(), "POST");
        assert_eq!(requests[1].path_and_query, "/b");
        assert_eq!(&requests[1].body[..], b"{}");
    }

    #[test]
    fn other_hosts_and_typos_are_refused() {
        let target = Target::resolve("http://127.0.0.1:8080/", false).expect("target");
        let other = "[[request]]\nurl = \"http://127.0.0.1:9999/\"\n";
        let error = parse_scenario(other, Path::new("s.toml"), &target).expect_err("other host");
        assert!(error.to_string().contains("not on the target"), "{error}");
        let typo = "[[request]]\npaht = \"/\"\n";
        assert!(parse_scenario(typo, Path::new("s.toml"), &target).is_err());
    }
}
