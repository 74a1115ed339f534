//! Who may do what on the management API: every route in src/admin/mod.rs × caller (admin,
//! member, no token) × own or someone else's resource where that applies, with the exact
//! status of each. A route missing from the table fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::routes::routes_in_source;
use common::{ADMIN_PASSWORD, Tollgate, rand_suffix};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tollgate_testkit::MockUpstream;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Member,
    Anon,
}

const WHO: [Who; 3] = [Who::Admin, Who::Member, Who::Anon];

/// Which record a `{id}` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The route has no `{id}`.
    No,
    /// A fresh record nobody owns (providers, provider keys, prices).
    Any,
    /// The caller's own (for users: the caller's own account).
    Own,
    /// Another user's (for users: another account).
    Other,
}

use Target::{Any, No, Other, Own};

/// (method, route, target, expected status for [admin, member, no token]).
const TABLE: &[(&str, &str, Target, [u16; 3])] = &[
    ("GET", "/api/health", No, [200, 200, 200]),
    ("GET", "/api/openapi.json", No, [200, 200, 200]),
    // Sessions. Login/refresh/logout/challenge answers need no token; "no token" rows send
    // bad credentials.
    ("POST", "/api/auth/login", No, [200, 200, 401]),
    ("POST", "/api/auth/refresh", No, [200, 200, 401]),
    ("POST", "/api/auth/logout", No, [204, 204, 401]),
    ("POST", "/api/auth/logout-all", No, [204, 204, 401]),
    ("POST", "/api/auth/password", No, [200, 200, 401]),
    ("GET", "/api/auth/me", No, [200, 200, 401]),
    ("GET", "/api/auth/challenge", No, [200, 200, 200]),
    ("POST", "/api/auth/challenge", No, [200, 200, 401]),
    ("GET", "/api/auth/public-keys", No, [200, 200, 401]),
    ("POST", "/api/auth/public-keys", No, [201, 201, 401]),
    ("DELETE", "/api/auth/public-keys/{id}", Own, [204, 204, 401]),
    (
        "DELETE",
        "/api/auth/public-keys/{id}",
        Other,
        [404, 404, 401],
    ),
    // Users: admins only; an admin cannot demote or delete themselves.
    ("GET", "/api/users", No, [200, 403, 401]),
    ("POST", "/api/users", No, [201, 403, 401]),
    ("GET", "/api/users/{id}", Own, [200, 403, 401]),
    ("GET", "/api/users/{id}", Other, [200, 403, 401]),
    ("PATCH", "/api/users/{id}", Own, [409, 403, 401]),
    ("PATCH", "/api/users/{id}", Other, [200, 403, 401]),
    ("DELETE", "/api/users/{id}", Own, [409, 403, 401]),
    ("DELETE", "/api/users/{id}", Other, [204, 403, 401]),
    // Providers: everyone reads, admins write.
    ("GET", "/api/providers", No, [200, 200, 401]),
    ("POST", "/api/providers", No, [201, 403, 401]),
    ("GET", "/api/providers/{id}", Any, [200, 200, 401]),
    ("PATCH", "/api/providers/{id}", Any, [200, 403, 401]),
    ("DELETE", "/api/providers/{id}", Any, [204, 403, 401]),
    // Provider keys: admins only.
    ("GET", "/api/provider-keys", No, [200, 403, 401]),
    ("POST", "/api/provider-keys", No, [201, 403, 401]),
    ("GET", "/api/provider-keys/{id}", Any, [200, 403, 401]),
    ("PATCH", "/api/provider-keys/{id}", Any, [200, 403, 401]),
    ("DELETE", "/api/provider-keys/{id}", Any, [204, 403, 401]),
    (
        "POST",
        "/api/provider-keys/{id}/health-check",
        Any,
        [200, 403, 401],
    ),
    (
        "GET",
        "/api/provider-keys/{id}/trends",
        Any,
        [200, 403, 401],
    ),
    // OAuth2: connecting a provider key is for admins; the provider's callback needs no
    // token (its single-use state is the proof; a missing state is refused for everyone).
    (
        "POST",
        "/api/provider-keys/{id}/oauth/authorize",
        Any,
        [200, 403, 401],
    ),
    ("GET", "/api/oauth/callback", No, [400, 400, 400]),
    // Client keys: members see and change only their own (others' are 404).
    ("GET", "/api/client-keys", No, [200, 200, 401]),
    ("POST", "/api/client-keys", No, [201, 201, 401]),
    ("GET", "/api/client-keys/{id}", Own, [200, 200, 401]),
    ("GET", "/api/client-keys/{id}", Other, [200, 404, 401]),
    ("PATCH", "/api/client-keys/{id}", Own, [200, 200, 401]),
    ("PATCH", "/api/client-keys/{id}", Other, [200, 404, 401]),
    ("POST", "/api/client-keys/{id}/rotate", Own, [200, 200, 401]),
    (
        "POST",
        "/api/client-keys/{id}/rotate",
        Other,
        [200, 404, 401],
    ),
    ("GET", "/api/client-keys/{id}/trends", Own, [200, 200, 401]),
    (
        "GET",
        "/api/client-keys/{id}/trends",
        Other,
        [200, 404, 401],
    ),
    // OAuth clients of a client key follow the key's visibility.
    (
        "POST",
        "/api/client-keys/{id}/oauth-clients",
        Own,
        [201, 201, 401],
    ),
    (
        "POST",
        "/api/client-keys/{id}/oauth-clients",
        Other,
        [201, 404, 401],
    ),
    (
        "GET",
        "/api/client-keys/{id}/oauth-clients",
        Own,
        [200, 200, 401],
    ),
    (
        "GET",
        "/api/client-keys/{id}/oauth-clients",
        Other,
        [200, 404, 401],
    ),
    (
        "DELETE",
        "/api/client-keys/{id}/oauth-clients/{client}",
        Own,
        [204, 204, 401],
    ),
    (
        "DELETE",
        "/api/client-keys/{id}/oauth-clients/{client}",
        Other,
        [204, 404, 401],
    ),
    // JWT issuers: admins only.
    ("GET", "/api/jwt-issuers", No, [200, 403, 401]),
    ("POST", "/api/jwt-issuers", No, [201, 403, 401]),
    ("GET", "/api/jwt-issuers/{id}", Any, [200, 403, 401]),
    ("PATCH", "/api/jwt-issuers/{id}", Any, [200, 403, 401]),
    ("DELETE", "/api/jwt-issuers/{id}", Any, [204, 403, 401]),
    ("DELETE", "/api/client-keys/{id}", Own, [204, 204, 401]),
    ("DELETE", "/api/client-keys/{id}", Other, [204, 404, 401]),
    // Prices: everyone reads, admins write.
    ("GET", "/api/model-prices", No, [200, 200, 401]),
    ("POST", "/api/model-prices", No, [201, 403, 401]),
    ("GET", "/api/model-prices/unpriced", No, [200, 200, 401]),
    ("GET", "/api/model-prices/{id}", Any, [200, 200, 401]),
    ("PUT", "/api/model-prices/{id}", Any, [200, 403, 401]),
    ("DELETE", "/api/model-prices/{id}", Any, [204, 403, 401]),
    // Logs: members see the rows of their own client keys only.
    ("GET", "/api/logs", No, [200, 200, 401]),
    ("GET", "/api/logs/{id}", Own, [200, 200, 401]),
    ("GET", "/api/logs/{id}", Other, [200, 404, 401]),
    // Stats: members see their own client keys' usage only.
    ("GET", "/api/stats/overview", No, [200, 200, 401]),
    ("GET", "/api/stats/trends", No, [200, 200, 401]),
    ("GET", "/api/stats/top-models", No, [200, 200, 401]),
    ("GET", "/api/stats/top-keys", No, [200, 200, 401]),
    // Audit: admins only.
    ("GET", "/api/audit", No, [200, 403, 401]),
];

#[test]
fn the_table_covers_every_route() {
    let in_source = routes_in_source();
    assert!(
        in_source.len() >= 35,
        "parsed too few routes: {in_source:?}"
    );
    let in_table: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|(m, r, _, _)| (m.to_string(), r.to_string()))
        .collect();
    let missing: Vec<_> = in_source.difference(&in_table).collect();
    let extra: Vec<_> = in_table.difference(&in_source).collect();
    assert!(missing.is_empty(), "routes without rows: {missing:?}");
    assert!(
        extra.is_empty(),
        "rows for routes that do not exist: {extra:?}"
    );
}

struct Actor {
    id: i64,
    username: String,
    password: String,
    token: String,
    signing: SigningKey,
}

struct World {
    tg: Tollgate,
    _mock: MockUpstream,
    base_url: String,
    provider: i64,
    pool_key: i64,
    member: Actor,
    member2: Actor,
    admin: Actor,
    /// Log rows of the admin's, member's and member2's client keys.
    logs: [i64; 3],
}

fn new_signing_key() -> SigningKey {
    SigningKey::from_bytes(&rand::random::<[u8; 32]>())
}

fn public_of(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().as_bytes())
}

impl World {
    async fn build() -> World {
        let mock = MockUpstream::start().await;
        let tg = Tollgate::start().await;
        let base_url = mock.base_url();
        let provider = tg
            .create_provider("perm-provider", "openai", &base_url)
            .await;
        let pool_key = tg.create_provider_key(provider, "sk-permissions-xyz").await;
        // An OAuth client configuration, so that oauth2 keys of the provider can be connected.
        let (s, v) = tg
            .api(
                "PATCH",
                &format!("/api/providers/{provider}"),
                Some(json!({"oauth": {
                    "authorize_url": "https://auth.example.test/authorize",
                    "token_url": "https://auth.example.test/token",
                    "client_id": "perm-client",
                    "redirect_uri": format!("{}/api/oauth/callback", tg.admin),
                }})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (_, me) = tg.api("GET", "/api/auth/me", None).await;
        let admin = Actor {
            id: me["id"].as_i64().unwrap(),
            username: "admin".into(),
            password: ADMIN_PASSWORD.into(),
            token: tg.token.clone(),
            signing: new_signing_key(),
        };
        let mut world = World {
            _mock: mock,
            base_url,
            provider,
            pool_key,
            member: Actor {
                id: 0,
                username: String::new(),
                password: String::new(),
                token: String::new(),
                signing: new_signing_key(),
            },
            member2: Actor {
                id: 0,
                username: String::new(),
                password: String::new(),
                token: String::new(),
                signing: new_signing_key(),
            },
            admin,
            logs: [0; 3],
            tg,
        };
        world.member = world.new_actor("member").await;
        world.member2 = world.new_actor("member").await;
        for actor in [&world.admin, &world.member, &world.member2] {
            let (s, v) = world
                .tg
                .call(
                    Some(&actor.token),
                    "POST",
                    "/api/auth/public-keys",
                    Some(json!({"name": "login", "public_key": public_of(&actor.signing)})),
                )
                .await;
            assert_eq!(s, 201, "{v}");
        }
        // One proxied request per user's client key, for the log rows.
        let mut logs = [0; 3];
        for (i, token) in [
            world.admin.token.clone(),
            world.member.token.clone(),
            world.member2.token.clone(),
        ]
        .iter()
        .enumerate()
        {
            let (s, v) = world
                .tg
                .call(
                    Some(token),
                    "POST",
                    "/api/client-keys",
                    Some(json!({"name": "traffic", "provider_id": provider, "provider_key_ids": [pool_key]})),
                )
                .await;
            assert_eq!(s, 201, "{v}");
            let r = world
                .tg
                .http
                .post(format!("{}/v1/chat/completions", world.tg.proxy))
                .bearer_auth(v["key"].as_str().unwrap())
                .json(&json!({"model": "gpt-4o", "messages": []}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
            logs[i] = world.tg.log_row(&request_id).await["id"].as_i64().unwrap();
        }
        world.logs = logs;
        world
    }

    /// A new user of the role, logged in, with a registered key-pair.
    async fn new_actor(&self, role: &str) -> Actor {
        let username = format!("u{}", rand_suffix());
        let password = format!("pw-{}-long-enough", rand_suffix());
        let id = self.tg.create_user(&username, &password, role).await;
        let token = self.tg.session(&username, &password).await;
        Actor {
            id,
            username,
            password,
            token,
            signing: new_signing_key(),
        }
    }

    fn actor(&self, who: Who) -> Option<&Actor> {
        match who {
            Who::Admin => Some(&self.admin),
            Who::Member => Some(&self.member),
            Who::Anon => None,
        }
    }

    /// Whose records count as "another user's" for the caller.
    fn other(&self, who: Who) -> &Actor {
        match who {
            Who::Admin => &self.member,
            Who::Member | Who::Anon => &self.member2,
        }
    }

    async fn admin_post(&self, path: &str, body: Value) -> i64 {
        let (s, v) = self.tg.api("POST", path, Some(body)).await;
        assert_eq!(s, 201, "{path}: {v}");
        v["id"].as_i64().unwrap()
    }

    async fn owned_post(&self, owner: &Actor, path: &str, body: Value) -> i64 {
        let (s, v) = self
            .tg
            .call(Some(&owner.token), "POST", path, Some(body))
            .await;
        assert_eq!(s, 201, "{path}: {v}");
        v["id"].as_i64().unwrap()
    }

    fn jwt_issuer_body(&self) -> Value {
        json!({"name": format!("i-{}", rand_suffix()), "issuer": "https://idp.example.test",
               "audience": "tollgate", "jwks_url": "https://idp.example.test/jwks",
               "algorithms": ["RS256"]})
    }

    fn client_key_body(&self) -> Value {
        json!({"name": "c", "provider_id": self.provider, "provider_key_ids": [self.pool_key]})
    }

    /// The id a row's `{id}` stands for: a fresh record where the call may consume it.
    async fn resolve_id(&self, route: &str, target: Target, who: Who) -> i64 {
        let owner = match target {
            Own => self.actor(who).unwrap_or(&self.member2),
            _ => self.other(who),
        };
        match route.split('/').nth(2).unwrap() {
            "providers" => {
                self.admin_post(
                    "/api/providers",
                    json!({"name": format!("p-{}", rand_suffix()), "api_format": "openai",
                           "base_url": self.base_url}),
                )
                .await
            }
            "provider-keys" if route.ends_with("/oauth/authorize") => {
                self.admin_post(
                    "/api/provider-keys",
                    json!({"provider_id": self.provider, "name": "o", "kind": "oauth2"}),
                )
                .await
            }
            "jwt-issuers" => {
                self.admin_post("/api/jwt-issuers", self.jwt_issuer_body()).await
            }
            "provider-keys" => {
                self.admin_post(
                    "/api/provider-keys",
                    json!({"provider_id": self.provider, "name": "k", "secret": "sk-fresh-0123456789"}),
                )
                .await
            }
            "model-prices" => {
                self.admin_post(
                    "/api/model-prices",
                    json!({"model": format!("m-{}", rand_suffix()), "input_per_mtok": "1",
                           "output_per_mtok": "2"}),
                )
                .await
            }
            "client-keys" => {
                self.owned_post(owner, "/api/client-keys", self.client_key_body())
                    .await
            }
            "auth" => {
                let key = public_of(&new_signing_key());
                self.owned_post(
                    owner,
                    "/api/auth/public-keys",
                    json!({"name": "k", "public_key": key}),
                )
                .await
            }
            "users" => match target {
                Own => owner.id,
                _ => self.new_actor("member").await.id,
            },
            "logs" => {
                let index = match (target, who) {
                    (Own, Who::Admin) => 0,
                    (Own, _) => 1,
                    (_, Who::Admin) => 1,
                    _ => 2,
                };
                self.logs[index]
            }
            other => panic!("no fixture for {other}"),
        }
    }

    /// Runs one row for one caller; returns the status.
    async fn run(&self, method: &str, route: &str, target: Target, who: Who) -> u16 {
        // Calls that end the caller's sessions run as a fresh user of the same role.
        let fresh;
        let caller = match (route, who) {
            ("/api/auth/logout-all" | "/api/auth/password", Who::Admin) => {
                fresh = self.new_actor("admin").await;
                Some(&fresh)
            }
            ("/api/auth/logout-all" | "/api/auth/password", Who::Member) => {
                fresh = self.new_actor("member").await;
                Some(&fresh)
            }
            _ => self.actor(who),
        };
        let token = caller.map(|c| c.token.as_str());
        let mut path = route.to_string();
        if route.contains("{id}") {
            let id = self.resolve_id(route, target, who).await;
            path = route.replace("{id}", &id.to_string());
            if route.contains("{client}") {
                let client = self
                    .admin_post(&format!("/api/client-keys/{id}/oauth-clients"), json!({}))
                    .await;
                path = path.replace("{client}", &client.to_string());
            }
        }
        let body = match (method, route) {
            ("POST", "/api/auth/login") => Some(match caller {
                Some(c) => json!({"username": c.username, "password": c.password}),
                None => json!({"username": "nobody", "password": "wrong-password"}),
            }),
            ("POST", "/api/auth/refresh" | "/api/auth/logout") => {
                let refresh = match caller {
                    Some(c) => {
                        let (_, v) = self.tg.login_user(&c.username, &c.password).await;
                        v["refresh_token"].as_str().unwrap().to_string()
                    }
                    None => "not-a-refresh-token".to_string(),
                };
                Some(json!({"refresh_token": refresh}))
            }
            ("POST", "/api/auth/password") => Some(json!({
                "current_password": caller.map_or("whatever-password", |c| c.password.as_str()),
                "new_password": "a-brand-new-password"
            })),
            ("GET", "/api/auth/challenge") => {
                let name = caller.map_or("nobody", |c| c.username.as_str());
                path = format!("{route}?username={name}");
                None
            }
            ("POST", "/api/auth/challenge") => {
                let name = caller.map_or("nobody", |c| c.username.as_str());
                let (_, v) = self
                    .tg
                    .call(
                        None,
                        "GET",
                        &format!("/api/auth/challenge?username={name}"),
                        None,
                    )
                    .await;
                let nonce = v["nonce"].as_str().unwrap().to_string();
                let signer = caller.map_or_else(new_signing_key, |c| c.signing.clone());
                let signature =
                    STANDARD.encode(signer.sign(&STANDARD.decode(&nonce).unwrap()).to_bytes());
                Some(json!({"username": name, "nonce": nonce, "signature": signature}))
            }
            ("POST", "/api/auth/public-keys") => Some(json!({
                "name": "k", "public_key": public_of(&new_signing_key())
            })),
            ("POST", "/api/users") => Some(json!({
                "username": format!("n{}", rand_suffix()), "password": "password-for-new-user",
                "role": "member"
            })),
            ("PATCH", "/api/users/{id}") => Some(json!({"role": "member"})),
            ("POST", "/api/providers") => Some(json!({
                "name": format!("p-{}", rand_suffix()), "api_format": "openai",
                "base_url": self.base_url
            })),
            ("PATCH", "/api/providers/{id}") => Some(json!({"enabled": true})),
            ("POST", "/api/provider-keys") => Some(json!({
                "provider_id": self.provider, "name": "k", "secret": "sk-new-0123456789"
            })),
            ("PATCH", "/api/provider-keys/{id}") => Some(json!({"weight": 2})),
            ("POST", "/api/client-keys/{id}/oauth-clients") => Some(json!({"name": "svc"})),
            ("POST", "/api/jwt-issuers") => Some(self.jwt_issuer_body()),
            ("PATCH", "/api/jwt-issuers/{id}") => Some(json!({"enabled": false})),
            ("POST", "/api/client-keys") => Some(self.client_key_body()),
            ("PATCH", "/api/client-keys/{id}") => Some(json!({"name": "renamed"})),
            ("PUT", "/api/model-prices/{id}") => Some(json!({
                "model": format!("m-{}", rand_suffix()), "input_per_mtok": "3",
                "output_per_mtok": "4"
            })),
            ("POST", "/api/model-prices") => Some(json!({
                "model": format!("m-{}", rand_suffix()), "input_per_mtok": "1",
                "output_per_mtok": "2"
            })),
            _ => None,
        };
        let (status, v) = self.tg.call(token, method, &path, body).await;
        if status >= 500 {
            panic!("{method} {path} as {who:?}: {status} {v}");
        }
        status
    }
}

#[tokio::test]
async fn every_route_answers_each_role_as_documented() {
    let world = World::build().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, route, target, expected) in TABLE {
        for (who, want) in WHO.iter().zip(expected) {
            let got = world.run(method, route, *target, *who).await;
            checked += 1;
            if got != *want {
                failures.push(format!(
                    "{method} {route} ({target:?}) as {who:?}: expected {want}, got {got}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, TABLE.len() * 3);

    // What a member's lists contain: only their own client keys and log rows.
    let member = &world.member;
    let (_, keys) = world
        .tg
        .call(Some(&member.token), "GET", "/api/client-keys", None)
        .await;
    let keys = keys.as_array().unwrap();
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| k["owner_id"] == member.id));
    let (_, logs) = world
        .tg
        .call(Some(&member.token), "GET", "/api/logs", None)
        .await;
    let ids: Vec<i64> = logs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [world.logs[1]]);
    let (_, logs) = world.tg.api("GET", "/api/logs", None).await;
    assert_eq!(logs["total"], 3);
    // Likewise the stats: one request is the member's, three are everyone's.
    let (_, stats) = world
        .tg
        .call(Some(&member.token), "GET", "/api/stats/overview", None)
        .await;
    assert_eq!(stats["requests"], 1, "{stats}");
    let (_, stats) = world.tg.api("GET", "/api/stats/overview", None).await;
    assert_eq!(stats["requests"], 3, "{stats}");
    // Members read providers and prices, never secrets (provider objects hold none).
    let (_, providers) = world
        .tg
        .call(Some(&member.token), "GET", "/api/providers", None)
        .await;
    assert!(!providers.to_string().contains("sk-"));
}
