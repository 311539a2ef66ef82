//! Serving HTTPS directly (rustls, ring provider), for deployments without a TLS proxy:
//! the certificate chain and key read once at start into a [`TlsAcceptor`], which
//! `http::serve` uses for every connection.

use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// A TLS acceptor for the PEM certificate chain and key in `files`.
///
/// # Errors
/// If the certificate or key cannot be read or do not match.
pub fn acceptor(files: &TlsFiles) -> anyhow::Result<TlsAcceptor> {
    // Ignore "already installed": tests may start several servers in one process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let reading = || {
        format!(
            "reading TLS certificate {} and key {}",
            files.cert.display(),
            files.key.display()
        )
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .with_context(reading)?
        .collect::<Result<Vec<_>, _>>()
        .with_context(reading)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).with_context(reading)?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(reading)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
