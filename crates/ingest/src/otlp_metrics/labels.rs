//! OTLP attributes, resources and scopes as Prometheus labels, as
//! Prometheus's OTLP receiver maps them: attribute keys sanitised (values of
//! keys that collide after sanitising are joined with `;` in key order),
//! `job` = `service.namespace/service.name`, `instance` =
//! `service.instance.id`, the scope as `otel_scope_name` and
//! `otel_scope_version`, and the other resource attributes in one
//! `target_info` series per resource.

use super::names::label_name;
use base64::Engine;
use model::metrics::{Label, Labels, METRIC_NAME};
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use std::collections::BTreeMap;

const SERVICE_NAME: &str = "service.name";
const SERVICE_NAMESPACE: &str = "service.namespace";
const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// An attribute value as a label value (what OpenTelemetry's `AsString` gives).
pub fn value_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => float_string(*d),
        Some(any_value::Value::BytesValue(b)) => {
            base64::engine::general_purpose::STANDARD.encode(b)
        }
        Some(any_value::Value::StringValueStrindex(_)) => String::new(),
        Some(other) => json(other).to_string(),
    }
}

/// A float as Go's `FormatFloat(f, 'f', -1, 64)` prints it (`+Inf`, `NaN`).
pub fn float_string(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        f.to_string()
    }
}

fn json(value: &any_value::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        any_value::Value::StringValue(s) => J::from(s.as_str()),
        any_value::Value::BoolValue(b) => J::from(*b),
        any_value::Value::IntValue(i) => J::from(*i),
        any_value::Value::DoubleValue(d) => J::from(*d),
        any_value::Value::BytesValue(b) => {
            J::from(base64::engine::general_purpose::STANDARD.encode(b))
        }
        any_value::Value::ArrayValue(a) => J::Array(
            a.values
                .iter()
                .map(|v| v.value.as_ref().map_or(J::Null, json))
                .collect(),
        ),
        // A profiles-only string table reference; no table here.
        any_value::Value::StringValueStrindex(_) => J::Null,
        any_value::Value::KvlistValue(kvs) => J::Object(
            kvs.values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        kv.value
                            .as_ref()
                            .and_then(|v| v.value.as_ref())
                            .map_or(J::Null, json),
                    )
                })
                .collect(),
        ),
    }
}

/// Attributes as label pairs: sanitised names, colliding values joined with
/// `;` in the order of the original keys.
pub fn attribute_labels<'a>(attributes: impl IntoIterator<Item = &'a KeyValue>) -> Vec<Label> {
    let mut sorted: Vec<&KeyValue> = attributes.into_iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for kv in sorted {
        let Some(name) = label_name(&kv.key) else {
            continue;
        };
        let value = value_string(kv.value.as_ref());
        out.entry(name)
            .and_modify(|v| {
                v.push(';');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out.into_iter()
        .map(|(name, value)| Label { name, value })
        .collect()
}

/// What a resource and a scope contribute to every series under them.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `job` and `instance` (override data point attributes).
    pub identity: Vec<Label>,
    /// `otel_scope_name`, `otel_scope_version`.
    pub scope: Vec<Label>,
    /// The `target_info` labels (without `__name__`), when the resource has
    /// attributes besides the identifying ones.
    pub target_info: Option<Vec<Label>>,
}

impl Context {
    /// The resource part.
    pub fn for_resource(resource: Option<&Resource>) -> Self {
        let attributes: &[KeyValue] = resource.map_or(&[], |r| &r.attributes);
        let get = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key == key)
                .map(|kv| value_string(kv.value.as_ref()))
                .filter(|v| !v.is_empty())
        };
        let job = match (get(SERVICE_NAMESPACE), get(SERVICE_NAME)) {
            (Some(namespace), Some(name)) => Some(format!("{namespace}/{name}")),
            (_, name) => name,
        };
        let mut identity = Vec::new();
        if let Some(job) = job {
            identity.push(Label {
                name: "job".into(),
                value: job,
            });
        }
        if let Some(instance) = get(SERVICE_INSTANCE_ID) {
            identity.push(Label {
                name: "instance".into(),
                value: instance,
            });
        }
        let others: Vec<&KeyValue> = attributes
            .iter()
            .filter(|kv| {
                ![SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID].contains(&kv.key.as_str())
            })
            .collect();
        let target_info = (!others.is_empty()).then(|| {
            let mut labels = attribute_labels(others);
            labels.retain(|l| l.name != "job" && l.name != "instance");
            labels.extend(identity.iter().cloned());
            labels
        });
        Self {
            identity,
            scope: Vec::new(),
            target_info,
        }
    }

    /// The same resource under a scope.
    pub fn with_scope(&self, scope: Option<&InstrumentationScope>) -> Self {
        let mut out = self.clone();
        out.scope.clear();
        if let Some(scope) = scope {
            for (name, value) in [
                ("otel_scope_name", &scope.name),
                ("otel_scope_version", &scope.version),
            ] {
                if !value.is_empty() {
                    out.scope.push(Label {
                        name: name.into(),
                        value: value.clone(),
                    });
                }
            }
        }
        out
    }

    /// A data point's series labels: its attributes, then the scope, the
    /// resource identity and finally `extra` (`__name__`, `le`, `quantile`),
    /// each overriding the ones before.
    pub fn series_labels(&self, attributes: &[KeyValue], name: &str, extra: &[Label]) -> Labels {
        let mut pairs = attribute_labels(attributes);
        pairs.extend(self.scope.iter().cloned());
        pairs.extend(self.identity.iter().cloned());
        pairs.push(Label {
            name: METRIC_NAME.into(),
            value: name.into(),
        });
        pairs.extend(extra.iter().cloned());
        Labels::new(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    fn s(text: &str) -> any_value::Value {
        any_value::Value::StringValue(text.into())
    }

    #[test]
    fn values_print_like_opentelemetry() {
        assert_eq!(value_string(None), "");
        let v = |value| value_string(Some(&AnyValue { value: Some(value) }));
        assert_eq!(v(any_value::Value::IntValue(-3)), "-3");
        assert_eq!(v(any_value::Value::DoubleValue(0.25)), "0.25");
        assert_eq!(
            v(any_value::Value::DoubleValue(1e21)),
            "1000000000000000000000"
        );
        assert_eq!(v(any_value::Value::BoolValue(true)), "true");
        assert_eq!(v(any_value::Value::BytesValue(vec![1, 2, 3])), "AQID");
        let array =
            any_value::Value::ArrayValue(opentelemetry_proto::tonic::common::v1::ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(s("a")),
                    },
                    AnyValue {
                        value: Some(any_value::Value::IntValue(1)),
                    },
                ],
            });
        assert_eq!(v(array), r#"["a",1]"#);
    }

    #[test]
    fn colliding_keys_are_joined_in_key_order() {
        let labels = attribute_labels(&[kv("a/b", s("2")), kv("a.b", s("1")), kv("c", s("3"))]);
        let pairs: Vec<(&str, &str)> = labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(pairs, [("a_b", "1;2"), ("c", "3")]);
    }

    #[test]
    fn resource_gives_job_instance_and_target_info() {
        let resource = Resource {
            attributes: vec![
                kv("service.name", s("cart")),
                kv("service.namespace", s("shop")),
                kv("service.instance.id", s("i-1")),
                kv("host.name", s("h1")),
            ],
            ..Default::default()
        };
        let context =
            Context::for_resource(Some(&resource)).with_scope(Some(&InstrumentationScope {
                name: "lib".into(),
                version: "1.0".into(),
                ..Default::default()
            }));
        let labels = context.series_labels(
            &[kv("job", s("overridden")), kv("http.route", s("/x"))],
            "requests_total",
            &[],
        );
        assert_eq!(
            labels.to_string(),
            r#"requests_total{http_route="/x", instance="i-1", job="shop/cart", otel_scope_name="lib", otel_scope_version="1.0"}"#
        );
        let info = Labels::new(context.target_info.unwrap());
        assert_eq!(
            info.to_string(),
            r#"{host_name="h1", instance="i-1", job="shop/cart"}"#
        );
        let bare = Context::for_resource(Some(&Resource {
            attributes: vec![kv("service.name", s("cart"))],
            ..Default::default()
        }));
        assert!(bare.target_info.is_none());
    }
}
