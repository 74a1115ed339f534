//! The mock's listener: every connection carries a handle with which a route can reset it
//! (no answer at all, as a crashed or overloaded provider front end does).

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections can be reset from a handler.
pub(crate) struct Conns(pub(crate) TcpListener);

/// One connection, as a handler sees it (`ConnectInfo<Conn>`).
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    /// A duplicate of the socket, to reset it with.
    sock: Option<Arc<std::net::TcpStream>>,
}

impl Conn {
    /// Resets the connection: nothing more is sent, and the peer sees a reset.
    pub(crate) fn reset(&self) {
        if let Some(s) = &self.sock {
            let _ = socket2::SockRef::from(&**s).set_linger(Some(Duration::ZERO));
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Listener for Conns {
    type Io = TcpStream;
    type Addr = (SocketAddr, Conn);

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((tcp, peer)) => {
                    // Best effort: without it streamed events may be held back by Nagle.
                    let _ = tcp.set_nodelay(true);
                    let sock = tcp
                        .as_fd()
                        .try_clone_to_owned()
                        .ok()
                        .map(|fd| Arc::new(std::net::TcpStream::from(fd)));
                    return (tcp, (peer, Conn { sock }));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok((self.0.local_addr()?, Conn { sock: None }))
    }
}

impl Connected<IncomingStream<'_, Conns>> for Conn {
    fn connect_info(stream: IncomingStream<'_, Conns>) -> Self {
        stream.remote_addr().1.clone()
    }
}
