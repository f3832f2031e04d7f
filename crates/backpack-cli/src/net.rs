//! Listening sockets with clear errors, and graceful shutdown on Ctrl-C / SIGTERM.

use std::io::ErrorKind;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::error::CliError;

/// Resolves `HOST:PORT` (an IP address or a name such as `localhost`).
pub async fn resolve(listen: &str) -> Result<SocketAddr, CliError> {
    let invalid = || CliError::InvalidAddress {
        addr: listen.to_owned(),
    };
    if let Ok(addr) = listen.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let (host, port) = listen.rsplit_once(':').ok_or_else(invalid)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(invalid());
    }
    let mut found = tokio::net::lookup_host(listen)
        .await
        .map_err(|_| invalid())?;
    found.next().ok_or_else(invalid)
}

/// Binds `listen`, mapping the usual failures to one-line errors (exit code 2).
pub async fn bind(listen: &str) -> Result<TcpListener, CliError> {
    let addr = resolve(listen).await?;
    TcpListener::bind(addr)
        .await
        .map_err(|source| match source.kind() {
            ErrorKind::AddrInUse => CliError::AddressInUse {
                addr: addr.to_string(),
            },
            _ => CliError::Bind {
                addr: addr.to_string(),
                source,
            },
        })
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

/// Announces the bound address on stderr as `listening on ADDR` (scripts and tests read it).
pub fn announce(listener: &TcpListener) -> Result<SocketAddr, CliError> {
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Server(e.to_string()))?;
    announce_addr(addr);
    Ok(addr)
}

/// Announces `addr` on stderr as `listening on ADDR`.
pub fn announce_addr(addr: SocketAddr) {
    eprintln!("listening on {addr}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_ips_and_names_and_refuses_garbage() {
        assert_eq!(
            resolve("127.0.0.1:80").await.unwrap(),
            "127.0.0.1:80".parse().unwrap()
        );
        assert!(resolve("[::1]:0").await.is_ok());
        assert!(resolve("localhost:8080").await.is_ok());
        for bad in ["nope", "127.0.0.1", ":80", "127.0.0.1:99999", "host:port"] {
            assert!(
                matches!(resolve(bad).await, Err(CliError::InvalidAddress { .. })),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn port_in_use_is_reported() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let err = bind(&addr).await.unwrap_err();
        assert!(matches!(err, CliError::AddressInUse { .. }), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
}
