//! Tollgate test kit: a mock AI provider upstream, admin-API helpers and the benchmark harness.
//!
//! - [`MockUpstream`]: OpenAI, Anthropic and Gemini wire formats, streaming and not, failing on
//!   demand by credential (see [`mock`]).
//! - [`MockOAuth`], [`TestIssuer`]: an OAuth2 authorization server (PKCE, rotating refresh
//!   tokens, failures on demand) and a JWT issuer with a JWKS endpoint (see [`oauth_mock`]).
//! - [`admin`]: logs in to Tollgate's management API and creates a provider, a provider key and
//!   a client key ([`bench_setup`]).
//! - [`bench`]: the load generator and report behind the `tollgate-bench` binary.
//! - [`translate_bench`]: `tollgate-bench --translate`, the CPU cost of format translation.

pub mod admin;
pub mod bench;
pub mod mock;
pub mod oauth_mock;
pub mod slow_streams;
mod tls;
pub mod translate_bench;

pub use admin::{AdminClient, BenchSetup, bench_setup};
pub use mock::{CredentialCheck, MockOptions, MockUpstream, RecordedRequest, SentUsage};
pub use oauth_mock::{MockOAuth, RefreshMode, TestIssuer};
