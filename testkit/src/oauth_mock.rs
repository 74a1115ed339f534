//! A mock OAuth2 authorization server and a test JWT issuer.
//!
//! [`MockOAuth`]: `GET /authorize` (authorization code, PKCE S256 required) redirects back with
//! a code; `POST /token` (RFC 6749 §4.1.3 and §6, client authentication by HTTP Basic or in the
//! body) exchanges the code after checking the verifier, and refreshes with ROTATING refresh
//! tokens (each works once). Access tokens live for a set time; [`MockOAuth::checker`] tells a
//! [`crate::MockUpstream`] to accept only live ones. Refresh calls are counted, and the token
//! endpoint can answer `invalid_grant` or 503 on demand, or slowly.
//!
//! [`TestIssuer`]: ES256 keys published at `GET /jwks` (RFC 7517), rotated by `kid`, and tokens
//! signed with them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// What the token endpoint does with the next refresh requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshMode {
    Normal,
    /// Every refresh is answered `invalid_grant` (consent revoked).
    InvalidGrant,
    /// The next `n` refreshes are answered 503 with an HTML body.
    ServerError(usize),
}

struct Grant {
    challenge: String,
    redirect_uri: String,
}

struct OAuthState {
    client_id: String,
    client_secret: Option<String>,
    lifetime: Mutex<Duration>,
    delay: Mutex<Duration>,
    mode: Mutex<RefreshMode>,
    codes: Mutex<HashMap<String, Grant>>,
    access: Mutex<HashMap<String, Instant>>,
    /// Live refresh tokens; each is removed when used.
    refresh: Mutex<HashMap<String, ()>>,
    refresh_calls: AtomicUsize,
    code_calls: AtomicUsize,
    seq: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl OAuthState {
    fn token(&self, prefix: &str) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let random: [u8; 16] = rand::random();
        format!("{prefix}{n}_{}", URL_SAFE_NO_PAD.encode(random))
    }
}

/// A running mock authorization server; dropping it stops it.
pub struct MockOAuth {
    pub addr: SocketAddr,
    state: Arc<OAuthState>,
    task: JoinHandle<()>,
}

impl Drop for MockOAuth {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `app` on a free loopback port.
async fn serve(app: Router) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

fn oauth_error(status: StatusCode, code: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": code}).to_string(),
    )
        .into_response()
}

impl MockOAuth {
    /// Starts on 127.0.0.1; a confidential client when `client_secret` is given.
    pub async fn start(client_id: &str, client_secret: Option<&str>) -> std::io::Result<MockOAuth> {
        let state = Arc::new(OAuthState {
            client_id: client_id.to_string(),
            client_secret: client_secret.map(str::to_string),
            lifetime: Mutex::new(Duration::from_secs(3600)),
            delay: Mutex::new(Duration::ZERO),
            mode: Mutex::new(RefreshMode::Normal),
            codes: Mutex::default(),
            access: Mutex::default(),
            refresh: Mutex::default(),
            refresh_calls: AtomicUsize::new(0),
            code_calls: AtomicUsize::new(0),
            seq: AtomicUsize::new(1),
        });
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(state.clone());
        let (addr, task) = serve(app).await?;
        Ok(MockOAuth { addr, state, task })
    }

    pub fn authorize_url(&self) -> String {
        format!("http://{}/authorize", self.addr)
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// Lifetime of access tokens issued from now on (`expires_in`, whole seconds).
    pub fn set_lifetime(&self, d: Duration) {
        *lock(&self.state.lifetime) = d;
    }

    /// Pause before answering a token request.
    pub fn set_delay(&self, d: Duration) {
        *lock(&self.state.delay) = d;
    }

    pub fn set_refresh_mode(&self, mode: RefreshMode) {
        *lock(&self.state.mode) = mode;
    }

    /// Refresh-token grants received (answered or not).
    pub fn refresh_calls(&self) -> usize {
        self.state.refresh_calls.load(Ordering::SeqCst)
    }

    /// Authorization-code grants received.
    pub fn code_calls(&self) -> usize {
        self.state.code_calls.load(Ordering::SeqCst)
    }

    /// Whether an access token was issued here and has not expired.
    pub fn is_live(&self, token: &str) -> bool {
        lock(&self.state.access)
            .get(token)
            .is_some_and(|exp| Instant::now() < *exp)
    }

    /// When the most recently issued access token expires.
    pub fn latest_expiry(&self) -> Option<Instant> {
        lock(&self.state.access).values().max().copied()
    }

    /// Refresh tokens that still work (a rotating server keeps one per connection).
    pub fn live_refresh_tokens(&self) -> usize {
        lock(&self.state.refresh).len()
    }

    /// For [`crate::MockUpstream::set_credential_check`]: only live access tokens pass.
    pub fn checker(&self) -> crate::mock::CredentialCheck {
        let state = self.state.clone();
        Arc::new(move |token: &str| {
            lock(&state.access)
                .get(token)
                .is_some_and(|exp| Instant::now() < *exp)
        })
    }
}

#[derive(serde::Deserialize)]
struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

async fn authorize(State(s): State<Arc<OAuthState>>, Query(q): Query<AuthorizeQuery>) -> Response {
    let ok = q.response_type.as_deref() == Some("code")
        && q.client_id.as_deref() == Some(s.client_id.as_str())
        && q.code_challenge_method.as_deref() == Some("S256")
        && q.code_challenge.as_deref().is_some_and(|c| c.len() >= 43)
        && q.state.is_some();
    let (Some(redirect), true) = (q.redirect_uri.clone(), ok) else {
        return (StatusCode::BAD_REQUEST, "invalid authorization request").into_response();
    };
    let code = s.token("code_");
    lock(&s.codes).insert(
        code.clone(),
        Grant {
            challenge: q.code_challenge.unwrap_or_default(),
            redirect_uri: redirect.clone(),
        },
    );
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let location = format!(
        "{redirect}{sep}code={code}&state={}",
        url_encode(q.state.as_deref().unwrap_or_default())
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form(body: &[u8]) -> HashMap<String, String> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let text = String::from_utf8_lossy(pair);
            let (k, v) = text.split_once('=').unwrap_or((&text, ""));
            (
                crate::mock::percent_decode(k),
                crate::mock::percent_decode(v),
            )
        })
        .collect()
}

/// RFC 6749 §2.3.1: HTTP Basic with form-encoded parts, or both in the body.
fn client_ok(s: &OAuthState, headers: &HeaderMap, params: &HashMap<String, String>) -> bool {
    let (id, secret) = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        Some(b64) => {
            let Some(text) = STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
            else {
                return false;
            };
            let Some((id, secret)) = text.split_once(':') else {
                return false;
            };
            (
                crate::mock::percent_decode(id),
                Some(crate::mock::percent_decode(secret)),
            )
        }
        None => match params.get("client_id") {
            Some(id) => (id.clone(), params.get("client_secret").cloned()),
            None => return false,
        },
    };
    id == s.client_id && secret == s.client_secret
}

fn issue(s: &OAuthState) -> Response {
    let lifetime = *lock(&s.lifetime);
    let access = s.token("at_");
    let refresh = s.token("rt_");
    lock(&s.access).insert(access.clone(), Instant::now() + lifetime);
    lock(&s.refresh).insert(refresh.clone(), ());
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        json!({
            "access_token": access, "token_type": "Bearer",
            "expires_in": lifetime.as_secs(), "refresh_token": refresh
        })
        .to_string(),
    )
        .into_response()
}

async fn token(State(s): State<Arc<OAuthState>>, headers: HeaderMap, body: Bytes) -> Response {
    let delay = *lock(&s.delay);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let params = form(&body);
    if !client_ok(&s, &headers, &params) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    match params.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            s.code_calls.fetch_add(1, Ordering::SeqCst);
            let Some(grant) = params.get("code").and_then(|c| lock(&s.codes).remove(c)) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let verifier = params.get("code_verifier").cloned().unwrap_or_default();
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if verifier.len() < 43
                || computed != grant.challenge
                || params.get("redirect_uri") != Some(&grant.redirect_uri)
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            issue(&s)
        }
        Some("refresh_token") => {
            s.refresh_calls.fetch_add(1, Ordering::SeqCst);
            let mode = *lock(&s.mode);
            match mode {
                RefreshMode::InvalidGrant => {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
                RefreshMode::ServerError(n) if n > 0 => {
                    *lock(&s.mode) = if n > 1 {
                        RefreshMode::ServerError(n - 1)
                    } else {
                        RefreshMode::Normal
                    };
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [(header::CONTENT_TYPE, "text/html")],
                        "<html><body>503 Service Unavailable</body></html>",
                    )
                        .into_response();
                }
                _ => {}
            }
            // Rotating: the presented refresh token is spent whatever happens next.
            let used = params
                .get("refresh_token")
                .and_then(|t| lock(&s.refresh).remove(t));
            if used.is_none() {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            issue(&s)
        }
        Some(_) => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
        None => oauth_error(StatusCode::BAD_REQUEST, "invalid_request"),
    }
}

// --- test JWT issuer ---

struct IssuerKey {
    kid: String,
    signing: p256::ecdsa::SigningKey,
}

struct IssuerState {
    keys: Mutex<Vec<IssuerKey>>,
    fetches: AtomicUsize,
}

/// A JWT issuer with a JWKS endpoint; dropping it stops it.
pub struct TestIssuer {
    pub addr: SocketAddr,
    state: Arc<IssuerState>,
    task: JoinHandle<()>,
    next_kid: AtomicUsize,
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn new_key(kid: String) -> IssuerKey {
    IssuerKey {
        kid,
        signing: p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng),
    }
}

fn jwk_of(k: &IssuerKey) -> Value {
    let point = k.signing.verifying_key().to_encoded_point(false);
    let b64 = |b: Option<&p256::FieldBytes>| {
        URL_SAFE_NO_PAD.encode(b.map(|x| x.as_slice()).unwrap_or(&[]))
    };
    json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": k.kid,
           "x": b64(point.x()), "y": b64(point.y())})
}

fn pem_private(k: &p256::ecdsa::SigningKey) -> String {
    use p256::pkcs8::EncodePrivateKey;
    k.to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .map(|p| p.to_string())
        .unwrap_or_default()
}

impl TestIssuer {
    /// Starts with one key, `k1`.
    pub async fn start() -> std::io::Result<TestIssuer> {
        let state = Arc::new(IssuerState {
            keys: Mutex::new(vec![new_key("k1".into())]),
            fetches: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/jwks", get(jwks))
            .with_state(state.clone());
        let (addr, task) = serve(app).await?;
        Ok(TestIssuer {
            addr,
            state,
            task,
            next_kid: AtomicUsize::new(2),
        })
    }

    pub fn jwks_url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }

    /// Times the JWKS was fetched.
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// A new signing key with a new `kid`; the old keys leave the JWKS unless `keep_old`.
    pub fn rotate(&self, keep_old: bool) -> String {
        let kid = format!("k{}", self.next_kid.fetch_add(1, Ordering::SeqCst));
        let mut keys = lock(&self.state.keys);
        if !keep_old {
            keys.clear();
        }
        keys.push(new_key(kid.clone()));
        kid
    }

    /// The current key's `kid`.
    pub fn current_kid(&self) -> String {
        lock(&self.state.keys)
            .last()
            .map(|k| k.kid.clone())
            .unwrap_or_default()
    }

    /// The current key's public key, PEM (SubjectPublicKeyInfo).
    pub fn public_pem(&self) -> String {
        use p256::pkcs8::EncodePublicKey;
        lock(&self.state.keys)
            .last()
            .and_then(|k| {
                k.signing
                    .verifying_key()
                    .to_public_key_pem(p256::pkcs8::LineEnding::LF)
                    .ok()
            })
            .unwrap_or_default()
    }

    /// ES256-signed with the current key, `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        let keys = lock(&self.state.keys);
        let Some(k) = keys.last() else {
            return String::new();
        };
        sign_es256(&k.signing, Some(&k.kid), claims)
    }

    /// ES256-signed with a key the JWKS does not have, under `kid` (a forgery).
    pub fn sign_with_stranger(&self, kid: &str, claims: &Value) -> String {
        let stranger = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        sign_es256(&stranger, Some(kid), claims)
    }
}

fn sign_es256(key: &p256::ecdsa::SigningKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = kid.map(str::to_string);
    let Ok(enc) = jsonwebtoken::EncodingKey::from_ec_pem(pem_private(key).as_bytes()) else {
        return String::new();
    };
    jsonwebtoken::encode(&header, claims, &enc).unwrap_or_default()
}

async fn jwks(State(s): State<Arc<IssuerState>>) -> Response {
    s.fetches.fetch_add(1, Ordering::SeqCst);
    let keys: Vec<Value> = lock(&s.keys).iter().map(jwk_of).collect();
    (
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "keys": keys }).to_string(),
    )
        .into_response()
}
