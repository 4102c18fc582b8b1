//! A TCP listener whose connections a handler can cut: the "dropped connection" and "lost
//! create response" faults close the socket without writing a single byte of the answer,
//! which is what a client sees when the real service or a proxy in front of it dies.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Accepts TCP connections that can be cut from inside a handler.
pub struct CuttableListener(pub TcpListener);

/// The handle a handler gets (through `ConnectInfo`) to cut its own connection.
#[derive(Clone, Debug)]
pub struct ConnHandle {
    cut: Arc<AtomicBool>,
    /// NTLM state of this connection (NTLM authenticates connections, not requests).
    pub ntlm: Arc<parking_lot::Mutex<NtlmState>>,
}

/// Where this connection is in the NTLM handshake.
#[derive(Debug, Default)]
pub struct NtlmState {
    /// The server challenge sent in the CHALLENGE message, awaiting AUTHENTICATE.
    pub challenge: Option<[u8; 8]>,
    /// Set once AUTHENTICATE verified: later requests on this connection need no header.
    pub authenticated: bool,
}

impl ConnHandle {
    /// From now on the connection fails every write: the pending answer is never sent.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }

    /// True once cut.
    pub fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

/// A TCP stream that fails once cut.
pub struct CuttableStream {
    inner: TcpStream,
    cut: Arc<AtomicBool>,
}

impl Listener for CuttableListener {
    type Io = CuttableStream;
    type Addr = ConnHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, _)) => {
                    let _ = inner.set_nodelay(true);
                    let cut = Arc::new(AtomicBool::new(false));
                    return (
                        CuttableStream {
                            inner,
                            cut: cut.clone(),
                        },
                        ConnHandle {
                            cut,
                            ntlm: Default::default(),
                        },
                    );
                }
                // Too many open files and the like: wait and go on, as axum's own listener does.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Err(io::Error::other(
            "no connection handle for the listener itself",
        ))
    }
}

impl CuttableListener {
    /// The bound address.
    pub fn addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, CuttableListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, CuttableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

fn reset() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection cut by the simulator",
    )
}

impl AsyncRead for CuttableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.cut.load(Ordering::SeqCst) {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.cut.load(Ordering::SeqCst) {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.cut.load(Ordering::SeqCst) {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
