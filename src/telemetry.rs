//! Log output and traces: the `tracing` subscriber (pretty or JSON lines on stderr, filtered by
//! `log.level`), the bridge that brings Pingora's `log` records into it, and the optional
//! OTLP trace export (`otel.endpoint`).

use crate::config::{Config, LogFormat};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Keeps the trace exporter alive; dropping it sends the spans still queued.
#[must_use]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported (`otel.endpoint` is set).
    pub fn exporting(&self) -> bool {
        self.traces.is_some()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take() {
            if let Err(e) = provider.shutdown() {
                tracing::warn!("trace export did not finish: {e}");
            }
        }
    }
}

type Boxed = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the subscriber once per process. `log` records (Pingora's) are forwarded to it by
/// `tracing-log`'s `LogTracer`, which `try_init` installs. A trace exporter that cannot be
/// built is reported and left out; logging works regardless.
/// `traces`: set up the OTLP export (for `serve`; one-shot commands leave it out).
pub fn init(config: &Config, traces: bool) -> Telemetry {
    let filter = || EnvFilter::new(&config.log.level);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let mut layers: Vec<Boxed> = vec![match config.log.format {
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter())
            .boxed(),
        LogFormat::Pretty => fmt.with_filter(filter()).boxed(),
    }];
    let mut problem = None;
    let endpoint = config.otel.endpoint.as_deref().filter(|_| traces);
    let traces =
        endpoint.and_then(
            |endpoint| match tracer_provider(endpoint, &config.otel.service_name) {
                Ok(provider) => {
                    let tracer = provider.tracer("tollgate");
                    layers.push(
                        tracing_opentelemetry::layer()
                            .with_tracer(tracer)
                            .with_filter(filter())
                            .boxed(),
                    );
                    Some(provider)
                }
                Err(e) => {
                    problem = Some(e);
                    None
                }
            },
        );
    let _ = tracing_subscriber::registry().with(layers).try_init();
    if let Some(e) = problem {
        tracing::error!("OpenTelemetry export is off: cannot set up otel.endpoint: {e}");
    } else if let Some(endpoint) = endpoint.filter(|_| traces.is_some()) {
        tracing::info!(endpoint = %endpoint, "exporting traces over OTLP/HTTP");
    }
    Telemetry { traces }
}

fn tracer_provider(endpoint: &str, service: &str) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .with_timeout(std::time::Duration::from_secs(10))
        .with_headers(std::collections::HashMap::new())
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service.to_string())
                .build(),
        )
        .build())
}
