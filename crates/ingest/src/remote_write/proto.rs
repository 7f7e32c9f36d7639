//! The Prometheus remote_write 1.0 messages (`prometheus.WriteRequest` and
//! what it holds, from Prometheus's `prompb/remote.proto` and `types.proto`),
//! written out as prost derives so no `protoc` is needed.
//!
//! Only the fields a 1.0 sender fills are declared; prost skips the others
//! (native histograms, field 4 of `TimeSeries`, are not read).

/// `prometheus.WriteRequest`: the body of `POST /api/v1/write` after snappy.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// Series with their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Family metadata (Prometheus sends it in separate requests).
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Label pairs, sorted by name, `__name__` among them.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Samples, ascending by time.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars.
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Label {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Unix milliseconds.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Exemplar labels (`trace_id`, ...).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Observed value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Unix milliseconds.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct MetricMetadata {
    /// `MetricType`: UNKNOWN=0, COUNTER=1, GAUGE=2, HISTOGRAM=3,
    /// GAUGEHISTOGRAM=4, SUMMARY=5, INFO=6, STATESET=7.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// Family name.
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// HELP text.
    #[prost(string, tag = "4")]
    pub help: String,
    /// Unit.
    #[prost(string, tag = "5")]
    pub unit: String,
}

impl MetricMetadata {
    /// The type as the model names it.
    pub fn metric_type(&self) -> model::metrics::MetricType {
        use model::metrics::MetricType;
        match self.r#type {
            1 => MetricType::Counter,
            2 => MetricType::Gauge,
            3 => MetricType::Histogram,
            4 => MetricType::Gaugehistogram,
            5 => MetricType::Summary,
            6 => MetricType::Info,
            7 => MetricType::Stateset,
            _ => MetricType::Unknown,
        }
    }
}
