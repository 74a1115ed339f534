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
    Viewer,
    /// A user of the custom role [`CUSTOM_ROLE`].
    Custom,
    Anon,
}

const WHO: [Who; 5] = [Who::Admin, Who::Member, Who::Viewer, Who::Custom, Who::Anon];

/// A custom role that mixes "all" and "own" permissions: it reads every client key but
/// changes only its own, sees its own keys' logs but everyone's stats, checks provider keys
/// but does not change them, and manages providers.
const CUSTOM_ROLE: &str = "ops";
const CUSTOM_PERMISSIONS: [&str; 9] = [
    "providers:read",
    "providers:write",
    "provider_keys:read",
    "provider_keys:check",
    "client_keys:read",
    "client_keys:write_own",
    "logs:read_own",
    "stats:read",
    "prices:read",
];

/// Which record a `{id}` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The route has no `{id}`.
    No,
    /// A fresh record nobody owns (providers, provider keys, prices, roles).
    Any,
    /// The caller's own (for users: the caller's own account). A viewer owns no client key
    /// or log row: for them it is another user's.
    Own,
    /// Another user's (for users: another account).
    Other,
}

use Target::{Any, No, Other, Own};

/// (method, route, target, expected status for [admin, member, viewer, custom, no token]).
const TABLE: &[(&str, &str, Target, [u16; 5])] = &[
    ("GET", "/api/health", No, [200, 200, 200, 200, 200]),
    ("GET", "/api/openapi.json", No, [200, 200, 200, 200, 200]),
    // Sessions and the caller's own account: any signed-in user. Login/refresh/logout/
    // challenge answers need no token; "no token" rows send bad credentials.
    ("POST", "/api/auth/login", No, [200, 200, 200, 200, 401]),
    ("POST", "/api/auth/refresh", No, [200, 200, 200, 200, 401]),
    ("POST", "/api/auth/logout", No, [204, 204, 204, 204, 401]),
    (
        "POST",
        "/api/auth/logout-all",
        No,
        [204, 204, 204, 204, 401],
    ),
    ("POST", "/api/auth/password", No, [200, 200, 200, 200, 401]),
    ("GET", "/api/auth/me", No, [200, 200, 200, 200, 401]),
    ("GET", "/api/auth/challenge", No, [200, 200, 200, 200, 200]),
    ("POST", "/api/auth/challenge", No, [200, 200, 200, 200, 401]),
    (
        "GET",
        "/api/auth/public-keys",
        No,
        [200, 200, 200, 200, 401],
    ),
    (
        "POST",
        "/api/auth/public-keys",
        No,
        [201, 201, 201, 201, 401],
    ),
    (
        "DELETE",
        "/api/auth/public-keys/{id}",
        Own,
        [204, 204, 204, 204, 401],
    ),
    (
        "DELETE",
        "/api/auth/public-keys/{id}",
        Other,
        [404, 404, 404, 404, 401],
    ),
    // Users: users:manage; nobody changes their own role or deletes themselves.
    ("GET", "/api/users", No, [200, 403, 403, 403, 401]),
    ("POST", "/api/users", No, [201, 403, 403, 403, 401]),
    ("GET", "/api/users/{id}", Own, [200, 403, 403, 403, 401]),
    ("GET", "/api/users/{id}", Other, [200, 403, 403, 403, 401]),
    ("PATCH", "/api/users/{id}", Own, [409, 403, 403, 403, 401]),
    ("PATCH", "/api/users/{id}", Other, [200, 403, 403, 403, 401]),
    ("DELETE", "/api/users/{id}", Own, [409, 403, 403, 403, 401]),
    (
        "DELETE",
        "/api/users/{id}",
        Other,
        [204, 403, 403, 403, 401],
    ),
    // Roles: read with roles:manage or users:manage, changed with roles:manage.
    ("GET", "/api/roles", No, [200, 403, 403, 403, 401]),
    ("POST", "/api/roles", No, [201, 403, 403, 403, 401]),
    ("GET", "/api/roles/{id}", Any, [200, 403, 403, 403, 401]),
    ("PATCH", "/api/roles/{id}", Any, [200, 403, 403, 403, 401]),
    ("DELETE", "/api/roles/{id}", Any, [204, 403, 403, 403, 401]),
    ("GET", "/api/permissions", No, [200, 200, 200, 200, 401]),
    // Providers: providers:read / providers:write.
    ("GET", "/api/providers", No, [200, 200, 200, 200, 401]),
    ("POST", "/api/providers", No, [201, 403, 403, 201, 401]),
    ("GET", "/api/providers/{id}", Any, [200, 200, 200, 200, 401]),
    (
        "PATCH",
        "/api/providers/{id}",
        Any,
        [200, 403, 403, 200, 401],
    ),
    (
        "DELETE",
        "/api/providers/{id}",
        Any,
        [204, 403, 403, 204, 401],
    ),
    // A provider's model list: providers:read / providers:write to fetch it now.
    (
        "GET",
        "/api/providers/{id}/models",
        Any,
        [200, 200, 200, 200, 401],
    ),
    (
        "POST",
        "/api/providers/{id}/models/refresh",
        Any,
        [200, 403, 403, 200, 401],
    ),
    // Model routes: providers:read / routes:write.
    ("GET", "/api/model-routes", No, [200, 200, 200, 200, 401]),
    ("POST", "/api/model-routes", No, [201, 403, 403, 403, 401]),
    (
        "GET",
        "/api/model-routes/{id}",
        Any,
        [200, 200, 200, 200, 401],
    ),
    (
        "PATCH",
        "/api/model-routes/{id}",
        Any,
        [200, 403, 403, 403, 401],
    ),
    (
        "DELETE",
        "/api/model-routes/{id}",
        Any,
        [204, 403, 403, 403, 401],
    ),
    // Provider keys: provider_keys:read / write / check.
    ("GET", "/api/provider-keys", No, [200, 403, 200, 200, 401]),
    ("POST", "/api/provider-keys", No, [201, 403, 403, 403, 401]),
    (
        "GET",
        "/api/provider-keys/{id}",
        Any,
        [200, 403, 200, 200, 401],
    ),
    (
        "PATCH",
        "/api/provider-keys/{id}",
        Any,
        [200, 403, 403, 403, 401],
    ),
    (
        "DELETE",
        "/api/provider-keys/{id}",
        Any,
        [204, 403, 403, 403, 401],
    ),
    (
        "POST",
        "/api/provider-keys/{id}/health-check",
        Any,
        [200, 403, 403, 200, 401],
    ),
    (
        "GET",
        "/api/provider-keys/{id}/trends",
        Any,
        [200, 403, 200, 200, 401],
    ),
    // Client keys: client_keys:read / write, or the _own variants. Another user's key is 404
    // to whoever may only see their own, 403 to whoever sees it but may only change their own.
    ("GET", "/api/client-keys", No, [200, 200, 200, 200, 401]),
    ("POST", "/api/client-keys", No, [201, 201, 403, 201, 401]),
    (
        "GET",
        "/api/client-keys/{id}",
        Own,
        [200, 200, 200, 200, 401],
    ),
    (
        "GET",
        "/api/client-keys/{id}",
        Other,
        [200, 404, 200, 200, 401],
    ),
    (
        "PATCH",
        "/api/client-keys/{id}",
        Own,
        [200, 200, 403, 200, 401],
    ),
    (
        "PATCH",
        "/api/client-keys/{id}",
        Other,
        [200, 404, 403, 403, 401],
    ),
    (
        "POST",
        "/api/client-keys/{id}/rotate",
        Own,
        [200, 200, 403, 200, 401],
    ),
    // OAuth2: connecting a provider key needs provider_keys:write; the provider's callback
    // needs no token (its single-use state is the proof; a missing state is refused for all).
    (
        "POST",
        "/api/provider-keys/{id}/oauth/authorize",
        Any,
        [200, 403, 403, 403, 401],
    ),
    ("GET", "/api/oauth/callback", No, [400, 400, 400, 400, 400]),
    (
        "POST",
        "/api/client-keys/{id}/rotate",
        Other,
        [200, 404, 403, 403, 401],
    ),
    (
        "GET",
        "/api/client-keys/{id}/trends",
        Own,
        [200, 200, 200, 200, 401],
    ),
    (
        "GET",
        "/api/client-keys/{id}/trends",
        Other,
        [200, 404, 200, 200, 401],
    ),
    (
        "DELETE",
        "/api/client-keys/{id}",
        Own,
        [204, 204, 403, 204, 401],
    ),
    (
        "DELETE",
        "/api/client-keys/{id}",
        Other,
        [204, 404, 403, 403, 401],
    ),
    // Prices: prices:read / prices:write.
    ("GET", "/api/model-prices", No, [200, 200, 200, 200, 401]),
    ("POST", "/api/model-prices", No, [201, 403, 403, 403, 401]),
    (
        "GET",
        "/api/model-prices/unpriced",
        No,
        [200, 200, 200, 200, 401],
    ),
    (
        "GET",
        "/api/model-prices/{id}",
        Any,
        [200, 200, 200, 200, 401],
    ),
    (
        "PUT",
        "/api/model-prices/{id}",
        Any,
        [200, 403, 403, 403, 401],
    ),
    (
        "DELETE",
        "/api/model-prices/{id}",
        Any,
        [204, 403, 403, 403, 401],
    ),
    // Logs: logs:read, or logs:read_own (the rows of one's own client keys).
    ("GET", "/api/logs", No, [200, 200, 200, 200, 401]),
    ("GET", "/api/logs/{id}", Own, [200, 200, 200, 200, 401]),
    ("GET", "/api/logs/{id}", Other, [200, 404, 200, 404, 401]),
    // Stats: stats:read, or stats:read_own.
    ("GET", "/api/stats/overview", No, [200, 200, 200, 200, 401]),
    ("GET", "/api/stats/trends", No, [200, 200, 200, 200, 401]),
    (
        "GET",
        "/api/stats/top-models",
        No,
        [200, 200, 200, 200, 401],
    ),
    ("GET", "/api/stats/top-keys", No, [200, 200, 200, 200, 401]),
    (
        "GET",
        "/api/stats/top-providers",
        No,
        [200, 200, 200, 200, 401],
    ),
    // Audit: audit:read.
    ("GET", "/api/audit", No, [200, 403, 200, 403, 401]),
    // OAuth clients of a client key: read with the key, created and deleted with
    // client_keys:write (or write_own on one's own key).
    (
        "POST",
        "/api/client-keys/{id}/oauth-clients",
        Own,
        [201, 201, 403, 201, 401],
    ),
    (
        "POST",
        "/api/client-keys/{id}/oauth-clients",
        Other,
        [201, 404, 403, 403, 401],
    ),
    (
        "GET",
        "/api/client-keys/{id}/oauth-clients",
        Own,
        [200, 200, 200, 200, 401],
    ),
    (
        "GET",
        "/api/client-keys/{id}/oauth-clients",
        Other,
        [200, 404, 200, 200, 401],
    ),
    (
        "DELETE",
        "/api/client-keys/{id}/oauth-clients/{client}",
        Own,
        [204, 204, 403, 204, 401],
    ),
    (
        "DELETE",
        "/api/client-keys/{id}/oauth-clients/{client}",
        Other,
        [204, 404, 403, 403, 401],
    ),
    // JWT issuers map tokens onto any client key: read with client_keys:read, changed with
    // client_keys:write.
    ("GET", "/api/jwt-issuers", No, [200, 403, 200, 200, 401]),
    ("POST", "/api/jwt-issuers", No, [201, 403, 403, 403, 401]),
    (
        "GET",
        "/api/jwt-issuers/{id}",
        Any,
        [200, 403, 200, 200, 401],
    ),
    (
        "PATCH",
        "/api/jwt-issuers/{id}",
        Any,
        [200, 403, 403, 403, 401],
    ),
    (
        "DELETE",
        "/api/jwt-issuers/{id}",
        Any,
        [204, 403, 403, 403, 401],
    ),
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
    admin: Actor,
    member: Actor,
    member2: Actor,
    viewer: Actor,
    custom: Actor,
    /// Log rows of the admin's, member's, member2's and the custom user's client keys.
    logs: [i64; 4],
}

fn new_signing_key() -> SigningKey {
    SigningKey::from_bytes(&rand::random::<[u8; 32]>())
}

fn public_of(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().as_bytes())
}

fn nobody() -> Actor {
    Actor {
        id: 0,
        username: String::new(),
        password: String::new(),
        token: String::new(),
        signing: new_signing_key(),
    }
}

fn role_of(who: Who) -> &'static str {
    match who {
        Who::Admin => "admin",
        Who::Member | Who::Anon => "member",
        Who::Viewer => "viewer",
        Who::Custom => CUSTOM_ROLE,
    }
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
        let (s, v) = tg
            .api(
                "POST",
                "/api/roles",
                Some(json!({"name": CUSTOM_ROLE, "permissions": CUSTOM_PERMISSIONS})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
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
            admin,
            member: nobody(),
            member2: nobody(),
            viewer: nobody(),
            custom: nobody(),
            logs: [0; 4],
            tg,
        };
        world.member = world.new_actor("member").await;
        world.member2 = world.new_actor("member").await;
        world.viewer = world.new_actor("viewer").await;
        world.custom = world.new_actor(CUSTOM_ROLE).await;
        for actor in [
            &world.admin,
            &world.member,
            &world.member2,
            &world.viewer,
            &world.custom,
        ] {
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
        let mut logs = [0; 4];
        for (i, token) in [
            world.admin.token.clone(),
            world.member.token.clone(),
            world.member2.token.clone(),
            world.custom.token.clone(),
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

    /// A new user of the role, logged in.
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
            Who::Viewer => Some(&self.viewer),
            Who::Custom => Some(&self.custom),
            Who::Anon => None,
        }
    }

    /// Whose records count as "another user's" for the caller.
    fn other(&self, who: Who) -> &Actor {
        match who {
            Who::Admin => &self.member,
            _ => &self.member2,
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
        let owner = match (target, who) {
            // A viewer cannot own client keys: "own" is another user's for them.
            (Own, Who::Viewer) if route.contains("client-keys") => &self.member2,
            (Own, _) => self.actor(who).unwrap_or(&self.member2),
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
            "model-routes" => {
                self.admin_post(
                    "/api/model-routes",
                    json!({"name": format!("r-{}", rand_suffix()),
                           "targets": [{"target": "openai/gpt-4o-mini"}]}),
                )
                .await
            }
            "roles" => {
                self.admin_post(
                    "/api/roles",
                    json!({"name": format!("r-{}", rand_suffix()), "permissions": ["logs:read"]}),
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
                // [admin, member, member2, custom]; a viewer owns none.
                let index = match (target, who) {
                    (Own, Who::Admin) => 0,
                    (Own, Who::Member) => 1,
                    (Own, Who::Custom) => 3,
                    (Own, _) => 2,
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
            ("/api/auth/logout-all" | "/api/auth/password", w) if w != Who::Anon => {
                fresh = self.new_actor(role_of(w)).await;
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
            ("POST", "/api/roles") => Some(json!({
                "name": format!("r-{}", rand_suffix()), "permissions": ["stats:read"]
            })),
            ("PATCH", "/api/roles/{id}") => Some(json!({"description": "changed"})),
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
            ("POST", "/api/model-routes") => Some(json!({
                "name": format!("r-{}", rand_suffix()),
                "targets": [{"target": "openai/gpt-4o-mini", "weight": 2}],
            })),
            ("PATCH", "/api/model-routes/{id}") => Some(json!({"strategy": "random"})),
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
    assert_eq!(checked, TABLE.len() * WHO.len());

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
    assert_eq!(logs["total"], 4);
    // Likewise the stats: one request is the member's, four are everyone's.
    let (_, stats) = world
        .tg
        .call(Some(&member.token), "GET", "/api/stats/overview", None)
        .await;
    assert_eq!(stats["requests"], 1, "{stats}");
    let (_, stats) = world.tg.api("GET", "/api/stats/overview", None).await;
    assert_eq!(stats["requests"], 4, "{stats}");
    // Members read providers and prices, never secrets (provider objects hold none).
    let (_, providers) = world
        .tg
        .call(Some(&member.token), "GET", "/api/providers", None)
        .await;
    assert!(!providers.to_string().contains("sk-"));

    // `me` tells each user what their role grants.
    for who in [Who::Admin, Who::Member, Who::Viewer, Who::Custom] {
        let actor = world.actor(who).unwrap();
        let (s, me) = world
            .tg
            .call(Some(&actor.token), "GET", "/api/auth/me", None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(me["role"], role_of(who));
        let got: BTreeSet<String> = me["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        match who {
            Who::Admin => assert_eq!(got.len(), 19, "{got:?}"),
            Who::Custom => assert_eq!(
                got,
                CUSTOM_PERMISSIONS.iter().map(|p| p.to_string()).collect()
            ),
            Who::Viewer => assert!(got.iter().all(|p| p.ends_with(":read")), "{got:?}"),
            _ => assert!(got.contains("client_keys:write_own") && !got.contains("logs:read")),
        }
    }
    // The viewer reads provider keys, masked.
    let (_, keys) = world
        .tg
        .call(Some(&world.viewer.token), "GET", "/api/provider-keys", None)
        .await;
    assert!(!keys.as_array().unwrap().is_empty());
    assert!(!keys.to_string().contains("sk-permissions-xyz"), "{keys}");
}

/// Nobody grants, or manages a user holding, a permission they lack; roles change what their
/// users may do on the next request; a role someone holds is not deleted.
#[tokio::test]
async fn roles_cannot_escalate_and_apply_at_once() {
    let tg = Tollgate::start().await;
    let role = |name: &str, perms: &[&str]| json!({"name": name, "description": "test", "permissions": perms});
    let (s, hr) = tg
        .api(
            "POST",
            "/api/roles",
            Some(role("hr", &["users:manage", "roles:manage", "stats:read"])),
        )
        .await;
    assert_eq!(s, 201, "{hr}");
    assert_eq!(hr["builtin"], false);
    let hr_id = hr["id"].as_i64().unwrap();
    tg.create_user("harriet", "harriet-password-1", "hr").await;
    let harriet = tg.session("harriet", "harriet-password-1").await;
    let call = |method: &'static str, path: &'static str, body: Value| {
        let harriet = harriet.clone();
        let tg = &tg;
        async move { tg.call(Some(&harriet), method, path, Some(body)).await }
    };
    // Creating users of a role with more than hr has: refused; of a subset: fine.
    let user = |role: &str| json!({"username": format!("n{}", rand_suffix()), "password": "password-for-new-user", "role": role});
    for r in ["admin", "viewer", "member"] {
        let (s, v) = call("POST", "/api/users", user(r)).await;
        assert_eq!(s, 403, "{r}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("you do not have"),
            "{v}"
        );
    }
    let (s, v) = call("POST", "/api/roles", role("stats-only", &["stats:read"])).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = call("POST", "/api/users", user("stats-only")).await;
    assert_eq!(s, 201, "{v}");
    // Nor a role granting more than hr has.
    let (s, v) = call("POST", "/api/roles", role("sneaky", &["audit:read"])).await;
    assert_eq!(s, 403, "{v}");
    // Nor managing the admin (resetting their password would take their account).
    let (_, users) = tg.api("GET", "/api/users", None).await;
    let admin_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "admin")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, v) = tg
        .call(
            Some(&harriet),
            "PATCH",
            &format!("/api/users/{admin_id}"),
            Some(json!({"password": "taken-over-password"})),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    // Unknown permissions and built-in names are refused.
    let (s, _) = tg
        .api("POST", "/api/roles", Some(role("odd", &["logs:write"])))
        .await;
    assert_eq!(s, 400);
    let (s, _) = tg
        .api("POST", "/api/roles", Some(role("viewer", &["logs:read"])))
        .await;
    assert_eq!(s, 409);
    // Changing the role applies to its user at once.
    let (s, _) = tg
        .call(Some(&harriet), "GET", "/api/stats/overview", None)
        .await;
    assert_eq!(s, 200);
    let (s, v) = tg
        .api(
            "PATCH",
            &format!("/api/roles/{hr_id}"),
            Some(json!({"permissions": ["users:manage", "roles:manage"]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = tg
        .call(Some(&harriet), "GET", "/api/stats/overview", None)
        .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(
        v["error"]["message"],
        "requires the `stats:read_own` permission"
    );
    // Held roles stay; the list has the built-in ones first.
    let (s, _) = tg.api("DELETE", &format!("/api/roles/{hr_id}"), None).await;
    assert_eq!(s, 409);
    let (_, roles) = tg.api("GET", "/api/roles", None).await;
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..3], ["admin", "member", "viewer"]);
    assert!(names.contains(&"hr") && names.contains(&"stats-only"));
    let (_, perms) = tg.api("GET", "/api/permissions", None).await;
    assert_eq!(perms.as_array().unwrap().len(), 19);
}
