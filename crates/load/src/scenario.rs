//! `--scenario FILE`: several weighted requests against one target, written in
//! TOML (`.toml`) or YAML (`.yaml`, `.yml`; other names are tried as TOML, then
//! YAML). Both spell the same schema: a list `request` of tables with `method`,
//! `path` or `url`, `headers`, `body` or `body_file` and `weight`; unknown keys
//! are refused. This module only reads files; the requests are sent elsewhere.
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
//!
//! The same scenario in YAML:
//!
//! ```yaml
//! request:
//!   - method: GET
//!     path: /api/items?page=1
//!     weight: 9
//!     headers:
//!       Accept: application/json
//!   - method: POST
//!     url: http://127.0.0.1:8080/api/items   # must name the target's host:port
//!     body: '{"name": "x"}'
//!     weight: 1
//! ```

use crate::config::RequestTemplate;
use crate::error::LoadError;
use crate::target::Target;
use bytes::Bytes;
use hyper::Uri;
use serde::Deserialize;
use serde_saphyr::UserMessageFormatter;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Default, Deserialize)]
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

/// The syntax a scenario file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Yaml,
}

impl Format {
    /// The format the file name asks for: `.toml`, or `.yaml` / `.yml`.
    fn of(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }

    /// Parses `text` read from `path`; the error names the line and column
    /// where the parser knows them, and shows that line.
    fn parse(self, text: &str, path: &Path) -> Result<ScenarioFile, String> {
        match self {
            Format::Toml => toml::from_str(text).map_err(|e| e.to_string().trim_end().into()),
            // An empty document (blank, or only comments) is `None`: no requests.
            Format::Yaml => serde_saphyr::from_str::<Option<ScenarioFile>>(text)
                .map(Option::unwrap_or_default)
                .map_err(|e| {
                    let name = path.display().to_string();
                    // The user formatter: the default one gives hints about parser options.
                    let mut options = serde_saphyr::RenderOptions::new(&UserMessageFormatter);
                    options.source_name = Some(&name);
                    let rendered = e.render_with_options(options);
                    rendered
                        .strip_prefix("error: ")
                        .unwrap_or(&rendered)
                        .trim_end()
                        .to_string()
                }),
        }
    }

    /// How a file of this format says "no requests".
    fn empty_message(self) -> &'static str {
        match self {
            Format::Toml => "no [[request]] tables",
            Format::Yaml => "no requests (expected a `request:` list of maps)",
        }
    }
}

/// Reads a scenario file into weighted request templates for `target`.
pub fn load_scenario(path: &Path, target: &Target) -> Result<Vec<RequestTemplate>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Scenario {
        path: path.display().to_string(),
        why: e.to_string(),
    })?;
    parse_scenario(&text, path, target)
}

/// Parses `text` in the format `path` names; a file named otherwise (a pipe such
/// as `<(…)`, `scenario.txt`) is read as TOML if it is TOML, else as YAML.
fn parse_file(text: &str, path: &Path) -> Result<(ScenarioFile, Format), String> {
    match Format::of(path) {
        Some(format) => format.parse(text, path).map(|file| (file, format)),
        None => match Format::Toml.parse(text, path) {
            Ok(file) => Ok((file, Format::Toml)),
            Err(toml_error) => match Format::Yaml.parse(text, path) {
                Ok(file) => Ok((file, Format::Yaml)),
                Err(yaml_error) => Err(format!(
                    "neither a TOML nor a YAML scenario; name the file .toml, .yaml or .yml \
                     to pick one and see only its errors.\nAs TOML: {toml_error}\nAs YAML: {yaml_error}"
                )),
            },
        },
    }
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
    let (file, format) = parse_file(text, path).map_err(bad)?;
    if file.request.is_empty() {
        return Err(bad(format.empty_message().into()));
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

    /// Two weighted requests: a GET with a header, and a POST by full URL.
    const TOML: &str = r#"
            [[request]]
            path = "/a?x=1"
            weight = 9
            headers = { "Accept" = "application/json" }

            [[request]]
            method = "post"
            url = "http://127.0.0.1:8080/b"
            body = "{}"
        "#;

    #[test]
    fn weighted_requests_parse() {
        let requests = parse_scenario(TOML, Path::new("s.toml"), &target()).expect("valid");
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
        let target = target();
        let other = "[[request]]\nurl = \"http://127.0.0.1:9999/\"\n";
        let error = parse_scenario(other, Path::new("s.toml"), &target).expect_err("other host");
        assert!(error.to_string().contains("not on the target"), "{error}");
        let typo = "[[request]]\npaht = \"/\"\n";
        assert!(parse_scenario(typo, Path::new("s.toml"), &target).is_err());
    }

    /// The scenario of [`TOML`], in YAML.
    const YAML: &str = r#"
request:
  - path: /a?x=1
    weight: 9
    headers:
      Accept: application/json
  # POST with a JSON body, given as a full URL
  - method: post
    url: http://127.0.0.1:8080/b
    body: "{}"
"#;

    fn target() -> Target {
        Target::resolve("http://127.0.0.1:8080/", false).expect("target")
    }

    fn error(text: &str, name: &str) -> String {
        parse_scenario(text, Path::new(name), &target())
            .expect_err("invalid")
            .to_string()
    }

    #[test]
    fn yaml_weighted_requests_parse() {
        let requests = parse_scenario(YAML, Path::new("s.yaml"), &target()).expect("valid");
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].path_and_query, "/a?x=1");
        assert_eq!(requests[0].weight, 9);
        assert_eq!(requests[0].headers[0].0.as_str(), "accept");
        assert_eq!(requests[0].headers[0].1.as_bytes(), b"application/json");
        assert_eq!(requests[1].method.as_str(), "POST");
        assert_eq!(requests[1].path_and_query, "/b");
        assert_eq!(&requests[1].body[..], b"{}");
        assert_eq!(requests[1].weight, 1, "the default weight");
    }

    #[test]
    fn toml_and_yaml_give_the_same_templates() {
        let from_toml = parse_scenario(TOML, Path::new("s.toml"), &target()).expect("toml");
        for name in ["s.yaml", "s.yml", "S.YML"] {
            let from_yaml = parse_scenario(YAML, Path::new(name), &target()).expect("yaml");
            assert_eq!(format!("{from_toml:?}"), format!("{from_yaml:?}"), "{name}");
        }
    }

    #[test]
    fn yaml_unknown_fields_are_refused_with_file_line_and_column() {
        let typo = "request:\n  - path: /a\n    paht: /b\n";
        let message = error(typo, "dir/s.yaml");
        assert!(
            message.starts_with("bad scenario dir/s.yaml: line 3 column 5: "),
            "{message}"
        );
        assert!(message.contains("unknown field `paht`"), "{message}");
        assert!(message.contains("--> dir/s.yaml:3:5"), "{message}");
        let top = "requests:\n  - path: /a\n";
        assert!(error(top, "s.yaml").contains("unknown field `requests`"));
    }

    #[test]
    fn yaml_bad_weights_are_refused() {
        let zero = "request:\n  - path: /a\n    weight: 0\n";
        assert_eq!(
            error(zero, "s.yaml"),
            "bad scenario s.yaml: request 1: weight must be at least 1"
        );
        let negative = "request:\n  - path: /a\n  - path: /b\n    weight: -3\n";
        let message = error(negative, "s.yaml");
        assert!(message.contains("line 4 column 13"), "{message}");
        let words = "request:\n  - path: /a\n    weight: heavy\n";
        assert!(error(words, "s.yaml").contains("line 3 column 13"));
    }

    #[test]
    fn yaml_with_no_requests_says_so() {
        for empty in ["", "# nothing yet\n", "request: []\n"] {
            let message = error(empty, "s.yaml");
            assert!(message.contains("no requests"), "{empty:?}: {message}");
        }
        let not_a_list = "request:\n  path: /a\n";
        assert!(error(not_a_list, "s.yaml").contains("line 2 column 3"));
    }

    #[test]
    fn other_names_are_read_as_toml_or_yaml() {
        let toml = "[[request]]\npath = \"/t\"\n";
        for (text, path) in [(toml, "/t"), (YAML, "/a?x=1")] {
            let requests = parse_scenario(text, Path::new("/dev/fd/63"), &target()).expect("valid");
            assert_eq!(requests[0].path_and_query, path);
        }
        let message = error("request = [", "scenario.txt");
        assert!(
            message.contains("neither a TOML nor a YAML scenario"),
            "{message}"
        );
        assert!(message.contains(".toml, .yaml or .yml"), "{message}");
    }
}
