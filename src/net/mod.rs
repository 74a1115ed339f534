//! Listening sockets as a budgeted resource: the accept loops of both ports, each with its own
//! cap on connections (in total and per client address), request heads read and checked within
//! their timeouts before they reach the HTTP stack, idle keep-alives closed, and the process's
//! file-descriptor limit raised at start.

mod budget;
mod head;
mod io;

pub use budget::{ConnBudget, ConnGuard, Refusal};
pub use head::{HeadError, MAX_HEAD, read_head};

use crate::config::ConnectionLimits;
use io::{Inactivity, Prefixed};
use pingora::apps::HttpServerApp;
use pingora::protocols::http::ServerSession;
use pingora::protocols::l4::stream::Stream as L4Stream;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Renders a port's own error answers (status, machine code, message, request path when known)
/// as a JSON body in the port's error shape.
pub type ErrorRenderer = Arc<dyn Fn(u16, &str, &str, Option<&str>) -> Vec<u8> + Send + Sync>;

/// What a port needs besides its listener.
#[derive(Clone)]
pub struct PortSettings {
    pub limits: ConnectionLimits,
    pub render: ErrorRenderer,
}

impl PortSettings {
    fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.limits.header_timeout_secs)
    }
    fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.limits.idle_timeout_secs)
    }
    fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.limits.body_timeout_secs)
    }
}

/// Raises the soft limit on open files to the hard limit; warns when even that is below what
/// the two ports' connection caps need.
pub fn raise_fd_limit(needed: u64) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < needed => tracing::warn!(
            limit,
            needed,
            "the open-file limit is below what proxy.max_connections + admin.max_connections need; \
             raise the hard limit (ulimit -Hn, LimitNOFILE=) or lower the caps"
        ),
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }
}

/// Writes a complete error answer and closes the connection.
async fn refuse<W: AsyncWriteExt + Unpin>(
    io: &mut W,
    settings: &PortSettings,
    (status, code, message, path): (u16, &str, String, Option<&str>),
    retry_after: Option<u64>,
) {
    let body = (settings.render)(status, code, &message, path);
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let retry = retry_after.map_or(String::new(), |s| format!("retry-after: {s}\r\n"));
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{retry}connection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        io.write_all(head.as_bytes()).await?;
        io.write_all(&body).await?;
        io.flush().await?;
        io.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), write).await;
}

/// Refusals answered at once at most; a connection past them is closed without an answer.
const MAX_REFUSING: usize = 256;
/// How long a refused connection may take to send its request head before the answer.
const REFUSAL_READ: Duration = Duration::from_millis(200);

/// One refusal being answered.
struct Refusing(Arc<AtomicUsize>);

impl Refusing {
    fn enter(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for Refusing {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn refusal_response(r: Refusal) -> (u16, &'static str, String, Option<&'static str>) {
    let message = match r {
        Refusal::Total => "Too many connections to this gateway; retry shortly.",
        Refusal::PerAddress => "Too many connections from this address; retry shortly.",
    };
    (503, "too_many_connections", message.to_string(), None)
}

/// Accepts connections until `shutdown`, each within the port's budget, and calls `serve` for
/// each one admitted (on its own task).
async fn accept_loop<F, Fut>(
    listener: TcpListener,
    budget: Arc<ConnBudget>,
    settings: PortSettings,
    mut shutdown: watch::Receiver<bool>,
    serve: F,
) where
    F: Fn(TcpStream, SocketAddr, ConnGuard) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let refusing = Arc::new(AtomicUsize::new(0));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let (mut tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors, mostly: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        match budget.try_acquire(peer.ip()) {
            Ok(guard) => {
                tokio::spawn(serve(tcp, peer, guard));
            }
            Err(r) => {
                // A refusal holds a descriptor only briefly, and only so many at once: past
                // that a flood is simply closed.
                if refusing.load(Ordering::Relaxed) >= MAX_REFUSING {
                    drop(tcp);
                    continue;
                }
                let settings = settings.clone();
                let slot = Refusing::enter(&refusing);
                tokio::spawn(async move {
                    let _slot = slot;
                    // Read the request first (briefly), so the answer is not lost to a reset
                    // caused by unread bytes.
                    let _ = read_head(&mut tcp, REFUSAL_READ, REFUSAL_READ).await;
                    refuse(&mut tcp, &settings, refusal_response(r), Some(1)).await;
                });
            }
        }
    }
}

/// Serves the proxy port: Pingora's HTTP proxy app behind our accept loop, one task per
/// connection, every request's head checked first, idle keep-alives closed.
pub async fn serve_proxy<A>(
    listener: TcpListener,
    app: Arc<A>,
    budget: Arc<ConnBudget>,
    settings: PortSettings,
    shutdown: watch::Receiver<bool>,
) where
    A: HttpServerApp + Send + Sync + 'static,
{
    let serve = {
        let settings = settings.clone();
        let shutdown = shutdown.clone();
        move |tcp: TcpStream, _peer: SocketAddr, guard: ConnGuard| {
            proxy_connection(app.clone(), tcp, guard, settings.clone(), shutdown.clone())
        }
    };
    accept_loop(listener, budget, settings, shutdown, serve).await;
}

async fn proxy_connection<A>(
    app: Arc<A>,
    tcp: TcpStream,
    _guard: ConnGuard,
    settings: PortSettings,
    mut shutdown: watch::Receiver<bool>,
) where
    A: HttpServerApp + Send + Sync + 'static,
{
    let mut stream = L4Stream::from(tcp);
    let mut persistent = None;
    let mut wait_first = settings.header_timeout();
    loop {
        let head = tokio::select! {
            h = read_head(&mut stream, wait_first, settings.header_timeout()) => h,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match head {
            Ok(bytes) => stream.rewind(&bytes),
            Err(e) => {
                if let Some(response) = e.response() {
                    refuse(&mut stream, &settings, response, None).await;
                }
                return;
            }
        }
        let mut session = ServerSession::new_http1(Box::new(stream));
        if let Some(p) = persistent.take() {
            pingora::apps::HttpPersistentSettings::apply_to_session(p, &mut session);
        }
        // Bounds each read of the body; a stalled body is answered 408 by the gateway.
        session.set_read_timeout(Some(settings.body_timeout()));
        let Some(reused) = app.process_new_http(session, &shutdown).await else {
            return;
        };
        let (io, p) = reused.consume();
        stream = match io.into_any().downcast::<L4Stream>() {
            Ok(s) => *s,
            Err(_) => return,
        };
        persistent = p;
        wait_first = settings.idle_timeout();
    }
}

/// Serves the management port: the axum app on hyper, one task per connection, the first
/// request's head checked, a header timeout (which also closes idle keep-alives) and an
/// inactivity timeout for stalled bodies. Stops accepting at `shutdown` and lets connections
/// finish their requests for up to `grace`.
pub async fn serve_admin(
    listener: TcpListener,
    app: axum::Router,
    budget: Arc<ConnBudget>,
    settings: PortSettings,
    shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let graceful = Arc::new(hyper_util::server::graceful::GracefulShutdown::new());
    let serve = {
        let settings = settings.clone();
        let graceful = graceful.clone();
        move |tcp: TcpStream, peer: SocketAddr, guard: ConnGuard| {
            admin_connection(
                app.clone(),
                tcp,
                peer,
                guard,
                settings.clone(),
                graceful.clone(),
            )
        }
    };
    accept_loop(listener, budget, settings, shutdown, serve).await;
    if let Some(g) = Arc::into_inner(graceful) {
        let _ = tokio::time::timeout(grace, g.shutdown()).await;
    } else {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn admin_connection(
    app: axum::Router,
    mut tcp: TcpStream,
    peer: SocketAddr,
    _guard: ConnGuard,
    settings: PortSettings,
    graceful: Arc<hyper_util::server::graceful::GracefulShutdown>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;
    let head = match read_head(
        &mut tcp,
        settings.header_timeout(),
        settings.header_timeout(),
    )
    .await
    {
        Ok(bytes) => bytes,
        Err(e) => {
            if let Some(response) = e.response() {
                refuse(&mut tcp, &settings, response, None).await;
            }
            return;
        }
    };
    let io = Inactivity::new(Prefixed::new(head, tcp), settings.body_timeout());
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout())
        .keep_alive(true);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    let conn = graceful.watch(conn.into_owned());
    drop(graceful);
    if let Err(e) = conn.await {
        tracing::debug!("admin connection ended: {e}");
    }
}
