//! Series labels of profiles: the legacy `name=app.name{k=v,k2=v2}` query
//! parameter of `/ingest` (Pyroscope's `labelset` syntax), and the label
//! checks every series goes through before it is stored (Pyroscope's
//! `ValidateLabels`: label count, name and value lengths, duplicates).

use super::error::ProfileError;
use super::limits::{MAX_LABELS_PER_SERIES, MAX_LABEL_NAME_BYTES, MAX_LABEL_VALUE_BYTES};
use model::metrics::{Labels, METRIC_NAME};
use store::profiles::PROFILE_TYPE_LABEL;

/// The label every series must carry (set from the app name by `/ingest`).
pub const SERVICE_NAME: &str = "service_name";

/// A parsed `name` parameter: the application name and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName {
    /// Text before `{` (e.g. `myapp.cpu`).
    pub app: String,
    /// The tags, in order, names starting with `__` dropped (e.g.
    /// pyroscope-go's `__session_id__`).
    pub tags: Vec<(String, String)>,
}

/// Parses `app.name{k=v,k2=v2}` (the braces are optional).
pub fn parse_app_name(name: &str) -> Result<AppName, ProfileError> {
    let invalid = |why: &str| {
        ProfileError::Invalid(format!(
            "invalid name parameter '{}': {why}; expected app.name{{key=value,...}}",
            shorten(name)
        ))
    };
    let name = name.trim();
    let (app, tags) = match name.split_once('{') {
        None => (name, None),
        Some((app, rest)) => {
            let inner = rest
                .strip_suffix('}')
                .ok_or_else(|| invalid("the tags are not closed with '}'"))?;
            (app.trim(), Some(inner))
        }
    };
    if app.is_empty() {
        return Err(invalid("the application name is empty"));
    }
    if app.contains(['{', '}', ',', '=']) || app.chars().any(char::is_control) {
        return Err(invalid(
            "the application name contains one of '{', '}', ',', '=' or a control character",
        ));
    }
    let mut out = Vec::new();
    for tag in tags.into_iter().flat_map(|t| t.split(',')) {
        let tag = tag.trim();
        if tag.is_empty() {
            continue;
        }
        let (key, value) = tag
            .split_once('=')
            .ok_or_else(|| invalid(&format!("tag '{}' has no '='", shorten(tag))))?;
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return Err(invalid("a tag has an empty name"));
        }
        if value.contains(['{', '}']) {
            return Err(invalid(&format!(
                "the value of tag '{key}' contains a brace"
            )));
        }
        if key.starts_with("__") {
            continue;
        }
        out.retain(|(k, _): &(String, String)| k != key);
        out.push((key.to_string(), value.to_string()));
    }
    Ok(AppName {
        app: app.to_string(),
        tags: out,
    })
}

/// Checks one label pair sent by a client (push series labels, pprof
/// sample labels): a name that is not empty, has no control characters and
/// fits [`MAX_LABEL_NAME_BYTES`]; a value that fits [`MAX_LABEL_VALUE_BYTES`].
pub fn check_pair(name: &str, value: &str) -> Result<(), ProfileError> {
    if name.is_empty() {
        return Err(ProfileError::Invalid(format!(
            "a label with an empty name (value '{}')",
            shorten(value)
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ProfileError::Invalid(format!(
            "label name '{}' contains a control character",
            shorten(name).escape_debug()
        )));
    }
    if name.len() > MAX_LABEL_NAME_BYTES {
        return Err(ProfileError::Invalid(format!(
            "label name '{}...' is {} bytes long; the limit is {MAX_LABEL_NAME_BYTES} (max_label_name_length)",
            shorten(name),
            name.len()
        )));
    }
    if value.len() > MAX_LABEL_VALUE_BYTES {
        return Err(ProfileError::Invalid(format!(
            "the value of label '{}' is {} bytes long; the limit is {MAX_LABEL_VALUE_BYTES} (max_label_value_length)",
            shorten(name),
            value.len()
        )));
    }
    Ok(())
}

/// Checks a complete series label set: `__name__` and `service_name`
/// present, at most [`MAX_LABELS_PER_SERIES`] labels besides
/// `__profile_type__`, and every pair per [`check_pair`].
pub fn check_series(labels: &Labels) -> Result<(), ProfileError> {
    for (name, value) in labels.iter() {
        check_pair(name, value)?;
    }
    let count = labels
        .iter()
        .filter(|(n, _)| *n != PROFILE_TYPE_LABEL)
        .count();
    if count > MAX_LABELS_PER_SERIES {
        return Err(ProfileError::Invalid(format!(
            "series {} has {count} labels; the limit is {MAX_LABELS_PER_SERIES} (max_label_names_per_series)",
            describe(labels)
        )));
    }
    match labels.get(METRIC_NAME) {
        None => {
            return Err(ProfileError::Invalid(format!(
                "series {} has no __name__ label (the profile name, e.g. process_cpu)",
                describe(labels)
            )))
        }
        Some(name) if name.contains(':') => {
            return Err(ProfileError::Invalid(format!(
                "profile name (__name__) '{}' must not contain ':'",
                shorten(name)
            )))
        }
        Some(_) => {}
    }
    if labels.get(SERVICE_NAME).is_none() {
        return Err(ProfileError::Invalid(format!(
            "series {} has no service_name label; every profile needs one",
            describe(labels)
        )));
    }
    Ok(())
}

/// `{a="b", ...}` with at most a few labels and short values, for messages.
pub fn describe(labels: &Labels) -> String {
    const SHOWN: usize = 6;
    let mut parts: Vec<String> = labels
        .iter()
        .take(SHOWN)
        .map(|(n, v)| format!("{}=\"{}\"", shorten(n), shorten(v)))
        .collect();
    if labels.len() > SHOWN {
        parts.push(format!("... {} more", labels.len() - SHOWN));
    }
    format!("{{{}}}", parts.join(", "))
}

/// At most 64 bytes of `text` (cut at a character boundary).
pub fn shorten(text: &str) -> &str {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(tags: &[(&str, &str)]) -> Vec<(String, String)> {
        tags.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_with_and_without_tags() {
        let parsed = parse_app_name("my.app.cpu{env=prod, region = eu ,__session_id__=1}").unwrap();
        assert_eq!(parsed.app, "my.app.cpu");
        assert_eq!(parsed.tags, pairs(&[("env", "prod"), ("region", "eu")]));
        let parsed = parse_app_name("app").unwrap();
        assert_eq!((parsed.app.as_str(), parsed.tags.len()), ("app", 0));
        let parsed = parse_app_name("app{}").unwrap();
        assert!(parsed.tags.is_empty());
        let parsed = parse_app_name("app{a=1,a=2}").unwrap();
        assert_eq!(parsed.tags, pairs(&[("a", "2")]));
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in [
            "",
            "{a=b}",
            "app{a=b",
            "app{ab}",
            "app{=b}",
            "a,b",
            "app{a={b}}",
        ] {
            let err = parse_app_name(bad).unwrap_err();
            assert!(matches!(err, ProfileError::Invalid(_)), "{bad}: {err}");
            assert!(err.to_string().contains("invalid name parameter"), "{err}");
        }
    }

    #[test]
    fn series_checks_name_the_limit() {
        let mut many = vec![("__name__", "process_cpu"), ("service_name", "a")];
        let names: Vec<String> = (0..MAX_LABELS_PER_SERIES)
            .map(|i| format!("l{i}"))
            .collect();
        many.extend(names.iter().map(|n| (n.as_str(), "v")));
        let err = check_series(&Labels::from_pairs(many)).unwrap_err();
        assert!(
            err.to_string().contains("max_label_names_per_series"),
            "{err}"
        );

        let long = "x".repeat(MAX_LABEL_VALUE_BYTES + 1);
        let labels = Labels::from_pairs([
            ("__name__", "process_cpu"),
            ("service_name", "a"),
            ("k", long.as_str()),
        ]);
        let err = check_series(&labels).unwrap_err();
        assert!(err.to_string().contains("max_label_value_length"), "{err}");

        let err = check_series(&Labels::from_pairs([("__name__", "p")])).unwrap_err();
        assert!(err.to_string().contains("no service_name"), "{err}");
        let ok = Labels::from_pairs([("__name__", "p"), ("service_name", "a")]);
        check_series(&ok).unwrap();
        assert!(check_pair("", "v").is_err());
        assert_eq!(shorten(&"é".repeat(40)).len(), 64);
    }
}
