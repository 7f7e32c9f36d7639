//! OTLP/JSON `ExportMetricsServiceRequest` decoding: the `opentelemetry-proto`
//! crate's serde mapping after a small normalising pass (enum names such as
//! `"AGGREGATION_TEMPORALITY_DELTA"` to numbers, uint32 fields sent as
//! strings, explicit `null` dropped). Errors name the JSON path.

use crate::otlp_json::OtlpJson;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;

/// Decodes an OTLP/JSON metrics request; the error says where and what is wrong.
pub fn decode_request(body: &[u8]) -> Result<ExportMetricsServiceRequest, String> {
    crate::otlp_json::decode(body, &METRICS_JSON)
}

const METRICS_JSON: OtlpJson = OtlpJson {
    message: "ExportMetricsServiceRequest",
    top_field: "resourceMetrics",
    uint32_fields: &["droppedAttributesCount", "flags"],
    enum_number: |key, name| match key {
        "aggregationTemporality" => AggregationTemporality::from_str_name(name).map(|n| n as i32),
        _ => None,
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};

    #[test]
    fn sums_with_enum_names_and_string_ints() {
        let body = br#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},
            "scopeMetrics":[{"metrics":[{"name":"c","unit":"1","sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA",
            "isMonotonic":true,"dataPoints":[{"timeUnixNano":"1700000000000000000","asInt":"7","flags":"1","attributes":null}]}}]}]}]}"#;
        let request = decode_request(body).expect("decodes");
        let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
        let Some(Data::Sum(sum)) = &metric.data else {
            panic!("not a sum: {metric:?}");
        };
        assert_eq!(sum.aggregation_temporality, 1);
        assert_eq!(sum.data_points[0].flags, 1);
        assert_eq!(
            sum.data_points[0].value,
            Some(number_data_point::Value::AsInt(7))
        );
    }

    #[test]
    fn gauges_with_doubles() {
        let body = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"1","asDouble":1.5}]}}]}]}]}"#;
        let request = decode_request(body).expect("decodes");
        let metric = &request.resource_metrics[0].scope_metrics[0].metrics[0];
        let Some(Data::Gauge(gauge)) = &metric.data else {
            panic!("not a gauge: {metric:?}");
        };
        assert_eq!(
            gauge.data_points[0].value,
            Some(number_data_point::Value::AsDouble(1.5))
        );
    }

    #[test]
    fn errors_name_the_path() {
        let body = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":5}]}]}]}"#;
        let err = decode_request(body).unwrap_err();
        assert!(
            err.contains("resourceMetrics[0].scopeMetrics[0].metrics[0]"),
            "{err}"
        );
        assert!(decode_request(b"[]").is_err());
    }
}
