//! OAuth2 against the real binary: provider credentials connected with authorization code +
//! PKCE and kept fresh (one refresh across instances, rotation-safe, `invalid_grant` handled),
//! abandoned and replayed authorizations, client-credentials tokens on the proxy, and external
//! JWTs from a JWKS issuer. A mock OAuth server issues short-lived rotating tokens; the mock
//! upstream accepts only live ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Options, Tollgate};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate_testkit::{MockOAuth, MockUpstream, RefreshMode, TestIssuer};

const CLIENT_ID: &str = "tollgate-test-client";
const CLIENT_SECRET: &str = "mock-oauth-client-secret-XYZ";

fn no_redirect() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An OpenAI-format provider on `upstream` with the mock's OAuth client, and one OAuth2 key.
/// Returns (provider id, provider key id).
async fn oauth_provider(tg: &Tollgate, oauth: &MockOAuth, upstream: &MockUpstream) -> (i64, i64) {
    let pid = tg
        .create_provider(
            &format!("oauth-{}", common::rand_suffix()),
            "openai",
            &upstream.base_url(),
        )
        .await;
    let (s, v) = tg
        .api(
            "PATCH",
            &format!("/api/providers/{pid}"),
            Some(json!({"oauth": {
                "authorize_url": oauth.authorize_url(),
                "token_url": oauth.token_url(),
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scopes": ["api.read", "api.write"],
                "extra_params": {"access_type": "offline"},
                "redirect_uri": format!("{}/api/oauth/callback", tg.admin),
            }})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["oauth"]["has_client_secret"], true, "{v}");
    assert!(!v.to_string().contains(CLIENT_SECRET));
    let kid = oauth_key(tg, pid).await;
    (pid, kid)
}

async fn oauth_key(tg: &Tollgate, pid: i64) -> i64 {
    let (s, v) = tg
        .api(
            "POST",
            "/api/provider-keys",
            Some(json!({"provider_id": pid, "name": "oauth account", "kind": "oauth2"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["kind"], "oauth2");
    assert_eq!(v["oauth"]["status"], "pending", "{v}");
    v["id"].as_i64().unwrap()
}

/// Starts an authorization; returns the authorize URL.
async fn authorize_url(tg: &Tollgate, key: i64) -> String {
    let (s, v) = tg
        .api(
            "POST",
            &format!("/api/provider-keys/{key}/oauth/authorize"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v["authorize_url"].as_str().unwrap().to_string()
}

/// What the admin's browser does: follows the authorize URL to the provider, which redirects
/// to the callback. Returns the callback URL.
async fn provider_redirect(url: &str) -> String {
    let r = no_redirect().get(url).send().await.unwrap();
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn open_callback(callback: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let r = no_redirect().get(callback).send().await.unwrap();
    let headers = r.headers().clone();
    (r.status().as_u16(), r.text().await.unwrap(), headers)
}

/// The whole connect flow; asserts the page says it worked.
async fn connect(tg: &Tollgate, key: i64) {
    let url = authorize_url(tg, key).await;
    let callback = provider_redirect(&url).await;
    let (status, page, _) = open_callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Connected"), "{page}");
}

async fn key_view(tg: &Tollgate, key: i64) -> Value {
    let (s, v) = tg
        .api("GET", &format!("/api/provider-keys/{key}"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn chat(http: &reqwest::Client, proxy: &str, key: &str) -> (u16, Value) {
    let r = http
        .post(format!("{proxy}/v1/chat/completions"))
        .bearer_auth(key)
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Waits until `f` holds, polling.
async fn eventually<F, Fut>(what: &str, within: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every byte of an SQLite database, WAL included.
fn sqlite_bytes(tg: &Tollgate) -> Vec<u8> {
    let mut out = Vec::new();
    for name in ["tollgate.db", "tollgate.db-wal"] {
        if let Ok(b) = std::fs::read(tg.dir.path().join(name)) {
            out.extend(b);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn sqlite_query_i64(tg: &Tollgate, sql: &str) -> Vec<i64> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let url = format!("sqlite://{}/tollgate.db?mode=ro", tg.dir.path().display());
    let db = Database::connect(&url).await.unwrap();
    let rows = db
        .query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let out = rows
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0).unwrap())
        .collect();
    db.close().await.unwrap();
    out
}

fn upstream_tokens(upstream: &MockUpstream) -> BTreeSet<String> {
    upstream
        .requests()
        .iter()
        .filter_map(|r| r.credential.clone())
        .collect()
}

/// A mock OAuth server issuing tokens that live `lifetime_secs`, and a mock upstream that
/// accepts only its live access tokens.
async fn oauth_and_upstream(lifetime_secs: u64) -> (MockOAuth, MockUpstream) {
    let oauth = MockOAuth::start(CLIENT_ID, Some(CLIENT_SECRET))
        .await
        .unwrap();
    oauth.set_lifetime(Duration::from_secs(lifetime_secs));
    let upstream = MockUpstream::start().await;
    upstream.set_credential_check(Some(oauth.checker()));
    (oauth, upstream)
}

/// Refresh `margin_secs` ahead of expiry, looking every 100 ms.
fn refreshing(opts: Options, margin_secs: u64) -> Options {
    opts.env(
        "TOLLGATE__OAUTH__REFRESH_MARGIN_SECS",
        &margin_secs.to_string(),
    )
    .env("TOLLGATE__OAUTH__SYNC_INTERVAL_MS", "100")
}

#[tokio::test]
async fn connect_then_1000_requests_across_three_token_lifetimes_without_a_client_error() {
    let (oauth, upstream) = oauth_and_upstream(3).await;
    let tg = Tollgate::start_with(refreshing(Options::default(), 1)).await;
    let (pid, kid) = oauth_provider(&tg, &oauth, &upstream).await;

    // The authorize URL carries a PKCE S256 challenge, a state, the scopes and extras.
    let url = url::Url::parse(&authorize_url(&tg, kid).await).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(q["state"].len() >= 16);
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["scope"], "api.read api.write");
    assert_eq!(q["access_type"], "offline");
    assert!(!url.as_str().contains(CLIENT_SECRET));
    // A key that is not connected yet is not used.
    let (_, client_key) = tg.create_client_key(pid, &[kid]).await;
    assert_eq!(chat(&tg.http, &tg.proxy, &client_key).await.0, 503);

    let callback = provider_redirect(url.as_str()).await;
    let (status, page, headers) = open_callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Connected") && !page.contains("<script"),
        "{page}"
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let view = key_view(&tg, kid).await;
    assert_eq!(view["oauth"]["status"], "connected", "{view}");
    assert_eq!(view["oauth"]["connected"], true);
    assert_eq!(view["oauth"]["needs_reconnect"], false);
    assert!(view["oauth"]["expires_at"].is_string(), "{view}");
    assert_eq!(oauth.code_calls(), 1);

    // 1,000 requests over more than three lifetimes of 3 s, four at a time.
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (http, proxy, key) = (tg.http.clone(), tg.proxy.clone(), client_key.clone());
        workers.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for _ in 0..250 {
                let (s, v) = chat(&http, &proxy, &key).await;
                if s != 200 {
                    failures.push(format!("{s} {v}"));
                }
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for w in workers {
        failures.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(elapsed > Duration::from_secs(9), "ran only {elapsed:?}");
    assert!(
        oauth.refresh_calls() >= 3,
        "{} refreshes",
        oauth.refresh_calls()
    );
    let tokens = upstream_tokens(&upstream);
    assert!(tokens.len() >= 4, "{} distinct access tokens", tokens.len());
    assert!(tokens.iter().all(|t| t.starts_with("at_")));
    // Rotation: only the newest refresh token still works.
    assert_eq!(oauth.live_refresh_tokens(), 1);

    // No token in the database (encrypted), the log, or the API.
    let db = sqlite_bytes(&tg);
    let log = tg.log();
    let (_, keys) = tg.api("GET", "/api/provider-keys", None).await;
    let (_, audit) = tg.api("GET", "/api/audit?per_page=500", None).await;
    for t in &tokens {
        assert!(!contains(&db, t), "token in the database");
        assert!(!log.contains(t.as_str()), "token in the log");
        assert!(!keys.to_string().contains(t.as_str()));
        assert!(!audit.to_string().contains(t.as_str()));
    }
    assert!(
        !contains(&db, CLIENT_SECRET),
        "client secret in the database"
    );
    assert!(!audit.to_string().contains(CLIENT_SECRET));
}

#[tokio::test]
async fn two_instances_200_requests_at_expiry_make_exactly_one_refresh_call() {
    let Some(cluster) = common::Cluster::create().await else {
        return;
    };
    let opts = || refreshing(cluster.options(), 0);
    let (oauth, upstream) = oauth_and_upstream(4).await;
    // A slow token endpoint: everyone arriving during the refresh must wait for it.
    oauth.set_delay(Duration::from_millis(400));
    let a = Tollgate::start_with(opts()).await;
    let b = Tollgate::start_with(opts()).await;
    let (pid, kid) = oauth_provider(&a, &oauth, &upstream).await;
    let (_, client_key) = a.create_client_key(pid, &[kid]).await;
    connect(&a, kid).await;
    // B learns the key and its token from the shared database.
    eventually("B to use the key", Duration::from_secs(10), || async {
        chat(&b.http, &b.proxy, &client_key).await.0 == 200
    })
    .await;
    assert_eq!(oauth.refresh_calls(), 0);

    // Fire 200 requests, half at each instance, as the token reaches its expiry (Tollgate
    // treats it as expired 1 s early).
    let expiry = oauth.latest_expiry().unwrap();
    tokio::time::sleep_until((expiry - Duration::from_millis(950)).into()).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let tg = if i % 2 == 0 { &a } else { &b };
        let (http, proxy, key) = (tg.http.clone(), tg.proxy.clone(), client_key.clone());
        tasks.push(tokio::spawn(async move { chat(&http, &proxy, &key).await }));
    }
    let mut failed = Vec::new();
    for t in tasks {
        let (s, v) = t.await.unwrap();
        if s != 200 {
            failed.push(format!("{s} {v}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    assert_eq!(
        oauth.refresh_calls(),
        1,
        "refresh calls at the token endpoint"
    );
    // Both instances now send the new token, and it is the only refresh token alive.
    let before = upstream.request_count();
    for tg in [&a, &b] {
        assert_eq!(chat(&tg.http, &tg.proxy, &client_key).await.0, 200);
    }
    let recent: Vec<_> = upstream.requests().into_iter().skip(before).collect();
    let newest: BTreeSet<_> = recent.iter().filter_map(|r| r.credential.clone()).collect();
    assert_eq!(newest.len(), 1, "{newest:?}");
    assert_eq!(oauth.live_refresh_tokens(), 1);
    assert_eq!(oauth.refresh_calls(), 1);
}

#[tokio::test]
async fn a_crash_between_refresh_and_use_leaves_a_working_credential() {
    let (oauth, upstream) = oauth_and_upstream(3).await;
    // A short lease, so that one a killed instance held does not outlive the test's patience.
    let opts = || {
        refreshing(Options::default(), 1)
            .env("TOLLGATE__OAUTH__HTTP_TIMEOUT_SECS", "2")
            .env("TOLLGATE__OAUTH__LOCK_TTL_SECS", "3")
    };
    let mut first = Tollgate::start_with(opts()).await;
    let (pid, kid) = oauth_provider(&first, &oauth, &upstream).await;
    let (_, client_key) = first.create_client_key(pid, &[kid]).await;
    connect(&first, kid).await;
    let sql = format!("SELECT generation FROM provider_key_tokens WHERE provider_key_id = {kid}");
    let connected_generation = sqlite_query_i64(&first, &sql).await[0];

    // The background refresh stores a new pair; kill -9 the instant it is in the database,
    // before any request used it.
    eventually(
        "the first refresh to be stored",
        Duration::from_secs(10),
        || async { sqlite_query_i64(&first, &sql).await[0] > connected_generation },
    )
    .await;
    first.signal("KILL");
    let status = first.child.take().unwrap().wait().unwrap();
    assert!(!status.success());
    assert_eq!(oauth.refresh_calls(), 1);
    // The provider rotated: the refresh token Tollgate held before is spent.
    assert_eq!(oauth.live_refresh_tokens(), 1);

    // A new instance on the same database serves with the stored pair and keeps refreshing
    // with the rotated refresh token.
    let second = Tollgate::start_with(Options {
        database_url: Some(format!(
            "sqlite://{}/tollgate.db",
            first.dir.path().display()
        )),
        ..opts()
    })
    .await;
    let refreshes = oauth.refresh_calls();
    let deadline = Instant::now() + Duration::from_secs(15);
    while oauth.refresh_calls() < refreshes + 2 {
        let (s, v) = chat(&second.http, &second.proxy, &client_key).await;
        assert_eq!(s, 200, "{v}");
        assert!(Instant::now() < deadline, "no refresh after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let view = key_view(&second, kid).await;
    assert_eq!(view["oauth"]["status"], "connected", "{view}");
    assert_eq!(oauth.live_refresh_tokens(), 1);
}

#[tokio::test]
async fn invalid_grant_marks_the_credential_invalid_and_requests_fail_over() {
    let (oauth, upstream) = oauth_and_upstream(3).await;
    let live = oauth.checker();
    upstream.set_credential_check(Some(Arc::new(move |t: &str| {
        t == "sk-static-fallback-key" || live(t)
    })));
    let tg = Tollgate::start_with(refreshing(Options::default(), 1)).await;
    let (pid, kid) = oauth_provider(&tg, &oauth, &upstream).await;
    let static_key = tg.create_provider_key(pid, "sk-static-fallback-key").await;
    let (_, client_key) = tg.create_client_key(pid, &[kid, static_key]).await;
    connect(&tg, kid).await;
    for _ in 0..6 {
        assert_eq!(chat(&tg.http, &tg.proxy, &client_key).await.0, 200);
    }
    assert!(
        upstream_tokens(&upstream)
            .iter()
            .any(|t| t.starts_with("at_"))
    );

    // The user revokes consent: the next refresh is refused.
    oauth.set_refresh_mode(RefreshMode::InvalidGrant);
    eventually(
        "the key to need a reconnect",
        Duration::from_secs(10),
        || async { key_view(&tg, kid).await["oauth"]["needs_reconnect"] == true },
    )
    .await;
    let view = key_view(&tg, kid).await;
    assert_eq!(view["oauth"]["status"], "invalid");
    assert_eq!(view["oauth"]["connected"], false);
    let reason = view["oauth"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("reconnect needed") && reason.contains("invalid_grant"),
        "{reason}"
    );
    let refreshes = oauth.refresh_calls();

    // Every request now goes to the other credential, without an error.
    upstream.clear_requests();
    for _ in 0..20 {
        let (s, v) = chat(&tg.http, &tg.proxy, &client_key).await;
        assert_eq!(s, 200, "{v}");
    }
    let used = upstream_tokens(&upstream);
    assert_eq!(used, BTreeSet::from(["sk-static-fallback-key".to_string()]));
    // An invalid credential is not refreshed again and again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(oauth.refresh_calls(), refreshes);

    // Connecting again brings it back.
    oauth.set_refresh_mode(RefreshMode::Normal);
    connect(&tg, kid).await;
    let view = key_view(&tg, kid).await;
    assert_eq!(view["oauth"]["status"], "connected", "{view}");
    assert!(view["oauth"]["reason"].is_null());
}

#[tokio::test]
async fn network_and_5xx_refresh_failures_back_off_and_keep_the_current_token() {
    let (oauth, upstream) = oauth_and_upstream(6).await;
    let tg = Tollgate::start_with(refreshing(Options::default(), 5)).await;
    let (pid, kid) = oauth_provider(&tg, &oauth, &upstream).await;
    let (_, client_key) = tg.create_client_key(pid, &[kid]).await;
    oauth.set_refresh_mode(RefreshMode::ServerError(2));
    connect(&tg, kid).await;
    // Due at once (margin 5 s of 6): two 503s, then a success after backing off 1 s and 2 s.
    upstream.clear_requests();
    eventually("a successful refresh", Duration::from_secs(10), || async {
        let (s, v) = chat(&tg.http, &tg.proxy, &client_key).await;
        assert_eq!(s, 200, "{v}");
        oauth.refresh_calls() >= 3 && oauth.live_refresh_tokens() == 1 && {
            let view = key_view(&tg, kid).await;
            view["oauth"]["status"] == "connected"
        }
    })
    .await;
    assert_eq!(oauth.refresh_calls(), 3, "backed off between attempts");
    assert!(!upstream_tokens(&upstream).is_empty());
    assert!(tg.log().contains("keeping the current token"));
}

#[tokio::test]
async fn abandoned_authorizations_are_removed_and_states_are_single_use() {
    let oauth = MockOAuth::start(CLIENT_ID, Some(CLIENT_SECRET))
        .await
        .unwrap();
    let upstream = MockUpstream::start().await;
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__OAUTH__AUTHORIZATION_TTL_SECS", "2")
            .env("TOLLGATE__OAUTH__SYNC_INTERVAL_MS", "100"),
    )
    .await;
    let (_, kid) = oauth_provider(&tg, &oauth, &upstream).await;
    let count = "SELECT COUNT(*) FROM oauth_authorizations";

    // Abandoned: the browser never comes back.
    let abandoned = provider_redirect(&authorize_url(&tg, kid).await).await;
    assert_eq!(sqlite_query_i64(&tg, count).await, [1]);
    eventually(
        "the abandoned authorization to be removed",
        Duration::from_secs(10),
        || async { sqlite_query_i64(&tg, count).await == [0] },
    )
    .await;
    let (s, page, _) = open_callback(&abandoned).await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("unknown or was already used"), "{page}");
    assert_eq!(oauth.code_calls(), 0, "no exchange for a stale state");

    // Completed once; the same callback again is refused.
    let callback = provider_redirect(&authorize_url(&tg, kid).await).await;
    let (s, page, _) = open_callback(&callback).await;
    assert_eq!(s, 200, "{page}");
    let (s, page, _) = open_callback(&callback).await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("Not connected"), "{page}");
    assert_eq!(oauth.code_calls(), 1);

    // Forged states: made up, altered, missing.
    let pending = provider_redirect(&authorize_url(&tg, kid).await).await;
    let real_state = url::Url::parse(&pending)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let code = url::Url::parse(&pending)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let mut altered = real_state.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for forged in [
        format!(
            "{}/api/oauth/callback?code={code}&state=made-up-state",
            tg.admin
        ),
        format!(
            "{}/api/oauth/callback?code={code}&state={altered}",
            tg.admin
        ),
        format!("{}/api/oauth/callback?code={code}", tg.admin),
    ] {
        let (s, page, _) = open_callback(&forged).await;
        assert_eq!(s, 400, "{forged}: {page}");
    }
    assert_eq!(oauth.code_calls(), 1);
    // The real one still works once, and the provider's refusal is reported.
    let (s, _, _) = open_callback(&pending).await;
    assert_eq!(s, 200);
    let denied_state = url::Url::parse(&provider_redirect(&authorize_url(&tg, kid).await).await)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let (s, page, _) = open_callback(&format!(
        "{}/api/oauth/callback?error=access_denied&state={denied_state}",
        tg.admin
    ))
    .await;
    assert_eq!(s, 400);
    assert!(page.contains("access_denied"), "{page}");
    // The audit trail has the connects, without codes or states.
    let (_, audit) = tg.api("GET", "/api/audit?per_page=500", None).await;
    let text = audit.to_string();
    assert!(text.contains("oauth_connect"), "{text}");
    assert!(text.contains("oauth_connect_failed"));
    assert!(!text.contains(&code) && !text.contains(&real_state));
}

/// `POST /oauth/token` on the proxy port, form-encoded.
async fn token_request(
    tg: &Tollgate,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = tg.http.post(format!("{}/oauth/token", tg.proxy)).form(form);
    if let Some((id, secret)) = basic {
        req = req.header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        );
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn client_credentials_tokens_are_issued_used_expired_and_revoked() {
    let upstream = MockUpstream::start().await;
    let tg =
        Tollgate::start_with(Options::default().env("TOLLGATE__OAUTH__ACCESS_TOKEN_TTL_SECS", "3"))
            .await;
    let (pid, pkid, _) = tg
        .setup("openai", &upstream.base_url(), "sk-upstream-123456")
        .await;
    let (ck, _) = tg.create_client_key(pid, &[pkid]).await;
    let (s, v) = tg
        .api(
            "PATCH",
            &format!("/api/client-keys/{ck}"),
            Some(json!({"rpm": 5})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, created) = tg
        .api(
            "POST",
            &format!("/api/client-keys/{ck}/oauth-clients"),
            Some(json!({"name": "batch job"})),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let client_id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let oauth_client = created["id"].as_i64().unwrap();
    let (_, listed) = tg
        .api("GET", &format!("/api/client-keys/{ck}/oauth-clients"), None)
        .await;
    assert_eq!(listed[0]["client_id"], client_id.as_str());
    assert!(!listed.to_string().contains(&secret));

    // client_secret_basic.
    let (s, h, v) = token_request(
        &tg,
        Some((&client_id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3);
    assert_eq!(h["cache-control"], "no-store");
    let token = v["access_token"].as_str().unwrap().to_string();
    // client_secret_post.
    let (s, _, v) = token_request(
        &tg,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let token2 = v["access_token"].as_str().unwrap().to_string();
    assert_ne!(token, token2);

    // Used as a Bearer: it acts as the client key, with its limits (5 per minute).
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&token)
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(tg.log_row(&request_id).await["client_key_id"], ck);
    assert_eq!(
        upstream.last_request().unwrap().credential.as_deref(),
        Some("sk-upstream-123456"),
        "the token never goes upstream"
    );
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(chat(&tg.http, &tg.proxy, &token2).await.0);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429], "the key's rpm applies");

    // RFC 6749 §5.2 errors.
    let (s, h, v) = token_request(
        &tg,
        Some((&client_id, "wrong-secret")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_client")),
        "{v}"
    );
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let (s, _, v) = token_request(&tg, None, &[("grant_type", "client_credentials")]).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    let (s, _, v) = token_request(
        &tg,
        Some((&client_id, &secret)),
        &[
            ("grant_type", "password"),
            ("username", "x"),
            ("password", "y"),
        ],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unsupported_grant_type")),
        "{v}"
    );
    let (s, _, v) = token_request(&tg, Some((&client_id, &secret)), &[]).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")));
    let (s, _, v) = token_request(
        &tg,
        Some((&client_id, &secret)),
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "two methods"
    );
    let r = tg
        .http
        .post(format!("{}/oauth/token", tg.proxy))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");

    // A forged token (one character changed) is refused, in the caller's format.
    let mut forged = token.clone().into_bytes();
    let i = forged.len() - 5;
    forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let (s, v) = chat(&tg.http, &tg.proxy, &forged).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "invalid_api_key", "{v}");

    // Revoked through RFC 7009 by its client.
    let (_, _, v) = token_request(
        &tg,
        Some((&client_id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let token3 = v["access_token"].as_str().unwrap().to_string();
    let r = tg
        .http
        .post(format!("{}/oauth/revoke", tg.proxy))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("token", token3.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(chat(&tg.http, &tg.proxy, &token3).await.0, 401);

    // Expired.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let (s, v) = chat(&tg.http, &tg.proxy, &token).await;
    assert_eq!(s, 401, "{v}");
    // In the Anthropic format too, where the Anthropic SDK puts its key.
    let r = tg
        .http
        .post(format!("{}/v1/messages", tg.proxy))
        .header("x-api-key", &token)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "claude-x", "max_tokens": 5, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["type"], "error", "{v}");

    // Deleting the client revokes every token it holds.
    let (_, _, v) = token_request(
        &tg,
        Some((&client_id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let token4 = v["access_token"].as_str().unwrap().to_string();
    let (s, _) = tg
        .api(
            "DELETE",
            &format!("/api/client-keys/{ck}/oauth-clients/{oauth_client}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(chat(&tg.http, &tg.proxy, &token4).await.0, 401);
    let (s, _, v) = token_request(
        &tg,
        Some((&client_id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));

    // Secrets and tokens are stored hashed only.
    let db = sqlite_bytes(&tg);
    for t in [&secret, &token, &token2, &token3, &token4] {
        assert!(!contains(&db, t), "a secret or token in the database");
        assert!(!tg.log().contains(t.as_str()));
    }
    let (_, audit) = tg.api("GET", "/api/audit?per_page=500", None).await;
    assert!(!audit.to_string().contains(&secret));
    // Rows hold 64-hex keyed hashes (expired rows are dropped as new tokens come).
    let rows = sqlite_query_i64(&tg, "SELECT COUNT(*) FROM oauth_access_tokens").await[0];
    let hashed = sqlite_query_i64(
        &tg,
        "SELECT COUNT(*) FROM oauth_access_tokens WHERE length(token_hash) = 64",
    )
    .await[0];
    assert!(rows >= 1 && rows == hashed, "{rows} rows, {hashed} hashed");
    let secrets = sqlite_query_i64(
        &tg,
        "SELECT COUNT(*) FROM oauth_clients WHERE length(secret_hash) = 64",
    )
    .await;
    assert_eq!(secrets, [1]);
}

fn jwt_claims(sub: &str, iss: &str, aud: &str, exp_in: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + exp_in})
}

fn unsigned(header: Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[tokio::test]
async fn external_jwts_from_a_jwks_issuer_with_kid_rotation_and_every_forgery_refused() {
    const ISS: &str = "https://idp.example.test";
    let issuer = TestIssuer::start().await.unwrap();
    let upstream = MockUpstream::start().await;
    let tg =
        Tollgate::start_with(Options::default().env("TOLLGATE__OAUTH__JWKS_REFETCH_MIN_SECS", "0"))
            .await;
    let (pid, pkid, _) = tg
        .setup("openai", &upstream.base_url(), "sk-upstream-jwt-1")
        .await;
    let (ck, _) = tg.create_client_key(pid, &[pkid]).await;
    // HMAC algorithms cannot be allowed at all.
    let (s, v) = tg
        .api(
            "POST",
            "/api/jwt-issuers",
            Some(json!({"name": "bad", "issuer": ISS, "audience": "tollgate",
                        "jwks_url": issuer.jwks_url(), "algorithms": ["HS256"]})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = tg
        .api(
            "POST",
            "/api/jwt-issuers",
            Some(json!({"name": "idp", "issuer": ISS, "audience": "tollgate",
                        "jwks_url": issuer.jwks_url(), "algorithms": ["ES256"],
                        "client_key_claim": "sub", "client_keys": {"svc-a": ck},
                        "clock_skew_secs": 5})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let issuer_id = v["id"].as_i64().unwrap();

    let ok = issuer.sign(&jwt_claims("svc-a", ISS, "tollgate", 60));
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions", tg.proxy))
        .bearer_auth(&ok)
        .json(&json!({"model": "gpt-4o", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rid = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(tg.log_row(&rid).await["client_key_id"], ck);
    assert_eq!(
        upstream.last_request().unwrap().credential.as_deref(),
        Some("sk-upstream-jwt-1")
    );
    let fetches = issuer.fetches();
    assert_eq!(fetches, 1);
    // Cached: no fetch per request.
    assert_eq!(chat(&tg.http, &tg.proxy, &ok).await.0, 200);
    assert_eq!(issuer.fetches(), fetches);
    // Within the clock skew.
    let just_expired = issuer.sign(&jwt_claims("svc-a", ISS, "tollgate", -2));
    assert_eq!(chat(&tg.http, &tg.proxy, &just_expired).await.0, 200);

    // Key rotation: a token under a new kid makes Tollgate fetch the JWKS again.
    let old_kid = issuer.current_kid();
    let new_kid = issuer.rotate(false);
    assert_ne!(old_kid, new_kid);
    let rotated = issuer.sign(&jwt_claims("svc-a", ISS, "tollgate", 60));
    assert_eq!(chat(&tg.http, &tg.proxy, &rotated).await.0, 200);
    assert!(issuer.fetches() > fetches);
    // The retired key no longer works.
    let (s, v) = chat(&tg.http, &tg.proxy, &ok).await;
    assert_eq!(s, 401, "{v}");

    // Every forgery is refused with the caller's 401.
    let now = chrono::Utc::now().timestamp();
    let pem = issuer.public_pem();
    let hs256_with_public_key = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some(new_kid.clone()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &jwt_claims("svc-a", ISS, "tollgate", 60),
        &jsonwebtoken::EncodingKey::from_secret(pem.as_bytes()),
    )
    .unwrap();
    let forged = [
        ("alg none", unsigned(json!({"alg": "none", "typ": "JWT"}), &jwt_claims("svc-a", ISS, "tollgate", 60))),
        ("alg none with kid", unsigned(json!({"alg": "none", "kid": new_kid}), &jwt_claims("svc-a", ISS, "tollgate", 60))),
        ("HS256 with the public key", hs256_with_public_key),
        ("wrong issuer", issuer.sign(&jwt_claims("svc-a", "https://evil.test", "tollgate", 60))),
        ("wrong audience", issuer.sign(&jwt_claims("svc-a", ISS, "someone-else", 60))),
        ("expired", issuer.sign(&jwt_claims("svc-a", ISS, "tollgate", -60))),
        ("not yet valid", issuer.sign(&json!({"iss": ISS, "aud": "tollgate", "sub": "svc-a", "nbf": now + 60, "exp": now + 120}))),
        ("no exp", issuer.sign(&json!({"iss": ISS, "aud": "tollgate", "sub": "svc-a"}))),
        ("no aud", issuer.sign(&json!({"iss": ISS, "sub": "svc-a", "exp": now + 60}))),
        ("unmapped subject", issuer.sign(&jwt_claims("svc-b", ISS, "tollgate", 60))),
        ("a stranger's key under a known kid", issuer.sign_with_stranger(&new_kid, &jwt_claims("svc-a", ISS, "tollgate", 60))),
        ("a stranger's key under an unknown kid", issuer.sign_with_stranger("k999", &jwt_claims("svc-a", ISS, "tollgate", 60))),
        ("tampered claims", {
            let mut parts: Vec<String> = rotated.split('.').map(str::to_string).collect();
            let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
            claims["exp"] = json!(now + 100_000);
            parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
            parts.join(".")
        }),
    ];
    for (what, token) in &forged {
        let (s, v) = chat(&tg.http, &tg.proxy, token).await;
        assert_eq!(s, 401, "{what}: {v}");
        assert_eq!(v["error"]["code"], "invalid_api_key", "{what}: {v}");
    }
    let r = tg
        .http
        .post(format!("{}/v1/messages", tg.proxy))
        .header("x-api-key", &forged[0].1)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "claude-x", "max_tokens": 5, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["type"],
        "authentication_error"
    );

    // A static public key instead of a JWKS.
    let (s, v) = tg
        .api(
            "POST",
            "/api/jwt-issuers",
            Some(
                json!({"name": "static", "issuer": "https://static.test", "audience": "tg",
                        "public_key_pem": pem, "algorithms": ["ES256"],
                        "client_keys": {"svc-s": ck}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let static_ok = issuer.sign(&jwt_claims("svc-s", "https://static.test", "tg", 60));
    assert_eq!(chat(&tg.http, &tg.proxy, &static_ok).await.0, 200);

    // Disabled or deleted issuers are no longer trusted.
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/jwt-issuers/{issuer_id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(chat(&tg.http, &tg.proxy, &rotated).await.0, 401);
    let (s, _) = tg
        .api("DELETE", &format!("/api/jwt-issuers/{issuer_id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, list) = tg.api("GET", "/api/jwt-issuers", None).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// The refresh service on its own, as the proxy calls it after a credential-invalid verdict:
/// two services (two instances without Redis: the database lease) on one database, 100
/// concurrent `refresh_now` calls for the rejected token → one call at the token endpoint,
/// everyone on the new token; a stale rejection refreshes nothing; a restarted service reads
/// the stored pair; `invalid_grant` reaches the other instance as "reconnect needed".
#[tokio::test]
async fn refresh_now_is_single_flight_across_services_on_one_database() {
    use tollgate::auth::MasterKey;
    use tollgate::cluster::Cluster as Redisless;
    use tollgate::config::{DatabaseKind, OAuthConfig};
    use tollgate::oauth::{OAuth, RefreshError, TokenStatus};
    use tollgate::store::{NewProvider, NewProviderKey, ProviderOAuthRow, Store};

    let oauth = MockOAuth::start(CLIENT_ID, Some(CLIENT_SECRET))
        .await
        .unwrap();
    oauth.set_delay(Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url, DatabaseKind::Sqlite, Some(&path), 8)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let master = MasterKey::generate();
    let provider = store
        .create_provider(NewProvider {
            name: "p".into(),
            api_format: "openai".into(),
            base_url: "http://127.0.0.1:9".into(),
            auth_scheme: "bearer".into(),
            enabled: true,
            connect_timeout_ms: 1000,
            first_byte_timeout_ms: 1000,
            health_check_path: None,
            retry_after_send: false,
            forward_headers: None,
            drop_unsupported_params: false,
            path_template: None,
            models_path: None,
        })
        .await
        .unwrap();
    store
        .put_provider_oauth(
            provider.id,
            ProviderOAuthRow {
                authorize_url: oauth.authorize_url(),
                token_url: oauth.token_url(),
                client_id: CLIENT_ID.into(),
                client_secret_ciphertext: Some(Some(master.encrypt(CLIENT_SECRET).unwrap())),
                scopes: "[]".into(),
                extra_params: "{}".into(),
                redirect_uri: "http://127.0.0.1:9/api/oauth/callback".into(),
                client_auth: "post".into(),
            },
        )
        .await
        .unwrap();
    let key = store
        .create_provider_key(NewProviderKey {
            provider_id: provider.id,
            name: "k".into(),
            secret_ciphertext: master.encrypt("").unwrap(),
            secret_preview: String::new(),
            enabled: true,
            weight: 1,
            rpm: None,
            tpm: None,
            kind: "oauth2".into(),
        })
        .await
        .unwrap()
        .id;
    let cfg = OAuthConfig {
        authorization_ttl_secs: 60,
        refresh_margin_secs: 0,
        sync_interval_ms: 1000,
        refresh_backoff_max_secs: 10,
        http_timeout_secs: 5,
        lock_ttl_secs: 10,
        access_token_ttl_secs: 60,
        jwks_cache_secs: 60,
        jwks_refetch_min_secs: 1,
    };
    let service = || {
        Arc::new(
            OAuth::new(
                store.clone(),
                master.clone(),
                Redisless::in_process("t:"),
                &cfg,
                Arc::new(|_| {}),
            )
            .unwrap(),
        )
    };
    let (a, b) = (service(), service());

    // Connect through A (client_secret_post this time).
    let auth = a.provider.authorize(key, None).await.unwrap();
    let callback = url::Url::parse(&provider_redirect(&auth.authorize_url).await).unwrap();
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .unwrap()
            .1
            .into_owned()
    };
    let (code, state) = (param("code"), param("state"));
    assert_eq!(
        a.provider
            .complete(&state, Some(&code), None)
            .await
            .unwrap(),
        key
    );
    assert!(matches!(
        a.provider.complete(&state, Some(&code), None).await,
        Err(tollgate::oauth::ConnectError::UnknownState)
    ));
    b.sync().await.unwrap();
    let first = a.provider.cell(key).access_token().expose().clone();
    assert_eq!(b.provider.cell(key).access_token().expose(), &first);
    assert!(oauth.is_live(&first));

    // Both instances see the provider reject `first`, 50 requests each.
    let mut tasks = Vec::new();
    for i in 0..100 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        let rejected = first.clone();
        tasks.push(tokio::spawn(async move {
            s.provider.refresh_now(key, &rejected).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(()));
    }
    assert_eq!(oauth.refresh_calls(), 1);
    let second = a.provider.cell(key).access_token().expose().clone();
    assert_ne!(second, first);
    assert_eq!(b.provider.cell(key).access_token().expose(), &second);
    // A late rejection of the old token: the new one is already there.
    assert_eq!(b.provider.refresh_now(key, &first).await, Ok(()));
    assert_eq!(oauth.refresh_calls(), 1);

    // A restarted instance reads the stored pair and refreshes with the rotated token.
    drop(a);
    let c = service();
    c.sync().await.unwrap();
    assert_eq!(c.provider.cell(key).access_token().expose(), &second);
    assert_eq!(c.provider.refresh_now(key, &second).await, Ok(()));
    assert_eq!(oauth.refresh_calls(), 2);
    let third = c.provider.cell(key).access_token().expose().clone();
    assert!(oauth.is_live(&third) && third != second);

    // invalid_grant: invalid with its reason, on the other instance too.
    oauth.set_refresh_mode(RefreshMode::InvalidGrant);
    match c.provider.refresh_now(key, &third).await {
        Err(RefreshError::Invalid(reason)) => {
            assert!(reason.contains("reconnect needed"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    b.sync().await.unwrap();
    let seen = b.provider.status(key).unwrap();
    assert_eq!(seen.status, TokenStatus::Invalid);
    assert!(!b.provider.cell(key).usable());
    assert!(seen.reason.as_deref().unwrap().contains("invalid_grant"));
    // Not retried: an invalid credential waits for a new connection.
    let calls = oauth.refresh_calls();
    assert_eq!(
        b.provider.refresh_now(key, &third).await,
        Err(RefreshError::NotConnected)
    );
    assert_eq!(oauth.refresh_calls(), calls);

    // Deleting the key deletes its tokens and pending authorizations with it.
    b.provider.authorize(key, None).await.unwrap();
    store.delete_provider_key(key).await.unwrap();
    assert!(store.get_key_token(key).await.unwrap().is_none());
    assert!(store.list_key_tokens().await.unwrap().is_empty());
    assert_eq!(
        store
            .delete_expired_authorizations(chrono::Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap(),
        0
    );
}
