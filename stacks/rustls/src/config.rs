//! The rustls configuration of one run (one cell): built fresh each time,
//! so nothing one cell did (sessions, tickets, ticket keys) reaches the next.
//!
//! Needs: the command line. Gives: `TlsSetup` (the client or server config
//! every connection of the run shares, so a `resume` offers or accepts the
//! first connection's session), the new connection, and two counters that
//! tell a resumed handshake from a full one (rustls 0.20 has no call for it).
//! Never: verifies the peer's certificate (closure is under test, not PKI).
//!
//! How a resumption is told apart: in a full handshake the client checks the
//! server's certificate (ServerCertVerifier::verify_server_cert) and the
//! server signs (Signer::sign: CertificateVerify in TLS 1.3, the
//! ServerKeyExchange in TLS 1.2); a resumed handshake does neither
//! (client/tls12.rs ExpectServerHelloOrHelloRetryRequest → ExpectCcs,
//! client/tls13.rs ExpectEncryptedExtensions → ExpectFinished when the PSK
//! was accepted; server/tls12.rs start_resumption, server/tls13.rs
//! ExpectClientHello with a resumed PSK emit no certificate).

use std::collections::HashMap;
use std::convert::TryFrom;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::client::{ServerCertVerified, ServerCertVerifier, StoresClientSessions};
use rustls::server::{ClientHello, ResolvesServerCert, ServerSessionMemoryCache};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{Certificate, PrivateKey, ServerName, SignatureAlgorithm, SignatureScheme,
             SupportedCipherSuite};

use crate::args::Args;
use crate::output::Exit;
use crate::pem;

/// The name the client asks for; it also keys the client's session store.
pub const SERVER_NAME: &str = "localhost";

/// The six suites the mock peer's record layer can take over, plus the
/// ECDHE-RSA forms rustls also has, by IANA and OpenSSL name.
fn suite_by_name(name: &str) -> Option<SupportedCipherSuite> {
    use rustls::cipher_suite::*;
    let table: &[(&str, &str, SupportedCipherSuite)] = &[
        ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", TLS13_AES_128_GCM_SHA256),
        ("TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", TLS13_AES_256_GCM_SHA384),
        ("TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
         TLS13_CHACHA20_POLY1305_SHA256),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
         TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
        ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
         TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
        ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
         TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
         TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
        ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
         TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
        ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
         TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
    ];
    table.iter().find(|e| e.0 == name || e.1 == name).map(|e| e.2)
}

/// The suites to enable: the version's own, or the one --cipher names; a
/// name rustls does not have for this version is a skip (77, step 0).
pub fn suites(args: &Args) -> Result<Vec<SupportedCipherSuite>, Exit> {
    let of_version = |s: &SupportedCipherSuite| matches!(s, SupportedCipherSuite::Tls13(_)) == args.tls13;
    match &args.cipher {
        None => Ok(rustls::ALL_CIPHER_SUITES.iter().copied().filter(of_version).collect()),
        Some(name) => match suite_by_name(name) {
            Some(s) if of_version(&s) => Ok(vec![s]),
            _ => Err(Exit::skip(0, format!("--cipher {}: not a TLS {} suite rustls has",
                                           name, args.tls()))),
        },
    }
}

/// Accepts any server certificate, and counts how often it was asked.
struct AcceptAnyCert {
    checks: Arc<AtomicUsize>,
}

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(&self, _end_entity: &Certificate, _intermediates: &[Certificate],
                          _server_name: &ServerName, _scts: &mut dyn Iterator<Item = &[u8]>,
                          _ocsp_response: &[u8], _now: SystemTime)
                          -> Result<ServerCertVerified, rustls::Error> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        Ok(ServerCertVerified::assertion())
    }
}

/// The client's session store: a map of its own per run (rustls's keys and
/// values are opaque), which session_resumable and --session-out read.
#[derive(Default)]
pub struct SessionStore {
    map: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

/// rustls 0.20 keys a client session "session" + the encoded server name
/// (msgs/persist.rs ClientSessionKey::session_for_server_name); "kx-hint"
/// keys only remember a key-exchange group.
const SESSION_KEY_PREFIX: &[u8] = b"session";

impl SessionStore {
    pub fn session(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        let map = self.map.lock().unwrap();
        map.iter()
            .find(|(k, _)| k.starts_with(SESSION_KEY_PREFIX))
            .map(|(k, v)| (k.clone(), v.clone()))
    }
    fn insert(&self, key: Vec<u8>, value: Vec<u8>) {
        self.map.lock().unwrap().insert(key, value);
    }
}

impl StoresClientSessions for SessionStore {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.insert(key, value);
        true
    }
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.map.lock().unwrap().get(key).cloned()
    }
}

/// The server's key, counting its signatures.
struct CountingKey {
    inner: Arc<dyn SigningKey>,
    signs: Arc<AtomicUsize>,
}

struct CountingSigner {
    inner: Box<dyn Signer>,
    signs: Arc<AtomicUsize>,
}

impl SigningKey for CountingKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let inner = self.inner.choose_scheme(offered)?;
        Some(Box::new(CountingSigner { inner, signs: self.signs.clone() }))
    }
    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }
}

impl Signer for CountingSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.signs.fetch_add(1, Ordering::SeqCst);
        self.inner.sign(message)
    }
    fn scheme(&self) -> SignatureScheme {
        self.inner.scheme()
    }
}

struct OneCert(Arc<CertifiedKey>);

impl ResolvesServerCert for OneCert {
    fn resolve(&self, _hello: ClientHello) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn read_pem(path: &str) -> Result<Vec<(String, Vec<u8>)>, Exit> {
    let text = std::fs::read_to_string(path).map_err(|e| Exit::failure(format!("{}: {}", path, e)))?;
    pem::blocks(&text).map_err(|e| Exit::failure(format!("{}: {}", path, e)))
}

fn server_key(args: &Args, signs: Arc<AtomicUsize>) -> Result<Arc<CertifiedKey>, Exit> {
    let cert_path = args.cert.as_deref().unwrap_or("");
    let key_path = args.key.as_deref().unwrap_or("");
    let certs: Vec<Certificate> = read_pem(cert_path)?
        .into_iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .map(|(_, der)| Certificate(der))
        .collect();
    if certs.is_empty() {
        return Err(Exit::failure(format!("{}: no CERTIFICATE block", cert_path)));
    }
    let der = read_pem(key_path)?
        .into_iter()
        .find(|(label, _)| label == "PRIVATE KEY" || label == "EC PRIVATE KEY" || label == "RSA PRIVATE KEY")
        .map(|(_, der)| der)
        .ok_or_else(|| Exit::failure(format!("{}: no private key block", key_path)))?;
    let inner = rustls::sign::any_supported_type(&PrivateKey(der))
        .map_err(|_| Exit::failure(format!("{}: a key rustls cannot use", key_path)))?;
    Ok(Arc::new(CertifiedKey::new(certs, Arc::new(CountingKey { inner, signs }))))
}

pub enum Config {
    Client(Arc<rustls::ClientConfig>),
    Server(Arc<rustls::ServerConfig>),
}

pub struct TlsSetup {
    pub config: Config,
    pub store: Arc<SessionStore>,
    /// Full handshakes so far: server certificate checks (client) or
    /// signatures (server).
    pub full_handshakes: Arc<AtomicUsize>,
}

static TLS12_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];

fn versions(args: &Args) -> &'static [&'static rustls::SupportedProtocolVersion] {
    if args.tls13 {
        &TLS13_ONLY
    } else {
        &TLS12_ONLY
    }
}

pub fn setup(args: &Args) -> Result<TlsSetup, Exit> {
    let suites = suites(args)?;
    let full = Arc::new(AtomicUsize::new(0));
    let store = Arc::new(SessionStore::default());
    let config = if args.server {
        let key = server_key(args, full.clone())?;
        let mut c = rustls::ServerConfig::builder()
            .with_cipher_suites(&suites)
            .with_safe_default_kx_groups()
            .with_protocol_versions(versions(args))
            .map_err(|e| Exit::failure(format!("rustls config: {}", e)))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(OneCert(key)));
        // A session-ID cache and ticket keys of this run only.
        c.session_storage = ServerSessionMemoryCache::new(256);
        c.ticketer = rustls::Ticketer::new().map_err(|e| Exit::failure(format!("ticketer: {}", e)))?;
        Config::Server(Arc::new(c))
    } else {
        let mut c = rustls::ClientConfig::builder()
            .with_cipher_suites(&suites)
            .with_safe_default_kx_groups()
            .with_protocol_versions(versions(args))
            .map_err(|e| Exit::failure(format!("rustls config: {}", e)))?
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert { checks: full.clone() }))
            .with_no_client_auth();
        c.session_storage = store.clone();
        Config::Client(Arc::new(c))
    };
    Ok(TlsSetup { config, store, full_handshakes: full })
}

impl TlsSetup {
    pub fn connection(&self) -> Result<rustls::Connection, Exit> {
        let conn = match &self.config {
            Config::Client(c) => {
                let name = ServerName::try_from(SERVER_NAME).expect("a valid DNS name");
                rustls::ClientConnection::new(c.clone(), name).map(rustls::Connection::Client)
            }
            Config::Server(c) => rustls::ServerConnection::new(c.clone()).map(rustls::Connection::Server),
        };
        conn.map_err(|e| Exit::failure(format!("rustls connection: {}", e)))
    }

    pub fn full_handshakes(&self) -> usize {
        self.full_handshakes.load(Ordering::SeqCst)
    }
}

// ---- session files (--session-in / --session-out) --------------------------

const SESSION_FILE_HEADER: &str = "tlsclose-rustls-session 1";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// A client offers the --session-in session on its first connection: the
/// file's key and value go into the store rustls reads. A file that does
/// not load is exit 4.
pub fn load_session(store: &SessionStore, path: &str) -> Result<(), Exit> {
    let text = std::fs::read_to_string(path).map_err(|e| Exit::failure(format!("{}: {}", path, e)))?;
    let mut lines = text.lines();
    let entry = match (lines.next(), lines.next(), lines.next()) {
        (Some(SESSION_FILE_HEADER), Some(k), Some(v)) => unhex(k).zip(unhex(v)),
        _ => None,
    };
    let (key, value) = entry.ok_or_else(|| Exit::failure(format!("{}: not a session file of this shim", path)))?;
    store.insert(key, value);
    Ok(())
}

/// Writes the client's current session, if it has one, to --session-out.
pub fn save_session(store: &SessionStore, path: &str) -> Result<(), Exit> {
    match store.session() {
        None => {
            eprintln!("shim: no session to write to {}", path);
            Ok(())
        }
        Some((k, v)) => std::fs::write(path, format!("{}\n{}\n{}\n", SESSION_FILE_HEADER, hex(&k), hex(&v)))
            .map_err(|e| Exit::failure(format!("{}: {}", path, e))),
    }
}
