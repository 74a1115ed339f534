//! Logging in to the management API: forged and expired tokens, database-checked roles,
//! refresh-token rotation and theft detection, logout, password change, lockout, key-pair
//! login, the users API's rules and the audit trail — all through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::accounts::{MASTER_KEY, claims, jwt_secret, sign_jwt};
use common::{ADMIN_PASSWORD, Options, Tollgate};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use std::time::Duration;

const MEMBER_PASSWORD: &str = "member-password-1";

fn with_master_key() -> Options {
    Options::default().env("TOLLGATE__SECURITY__MASTER_KEY", MASTER_KEY)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn refresh(tg: &Tollgate, token: &str) -> (u16, Value) {
    tg.call(
        None,
        "POST",
        "/api/auth/refresh",
        Some(json!({"refresh_token": token})),
    )
    .await
}

#[tokio::test]
async fn forged_unsigned_and_expired_tokens_are_refused() {
    let tg = Tollgate::start_with(with_master_key()).await;
    let member = tg.create_user("mallory", MEMBER_PASSWORD, "member").await;
    let key = jwt_secret();

    // The test's forging is right: a token made with Tollgate's key works.
    let good = sign_jwt(&claims(1, "admin", now(), now() + 600), &key);
    let (s, v) = tg.call(Some(&good), "GET", "/api/auth/me", None).await;
    assert_eq!((s, v["username"].as_str()), (200, Some("admin")));

    let wrong_key = sign_jwt(&claims(1, "admin", now(), now() + 600), b"not the key");
    let expired = sign_jwt(&claims(1, "admin", now() - 120, now() - 60), &key);
    let payload = good.split('.').nth(1).unwrap();
    let alg_none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    );
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(1, "admin", now(), now() + 600),
        &jsonwebtoken::EncodingKey::from_secret(&key),
    )
    .unwrap();
    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(claims(member, "admin", now(), now() + 600).to_string());
        parts.join(".")
    };
    let no_user = sign_jwt(&claims(999_999, "admin", now(), now() + 600), &key);
    for (what, token) in [
        ("wrong signature", wrong_key),
        ("alg none", alg_none),
        ("HS512", hs512),
        ("expired", expired),
        ("tampered payload", tampered),
        ("deleted user", no_user),
    ] {
        for path in ["/api/auth/me", "/api/providers", "/api/users"] {
            let (s, v) = tg.call(Some(&token), "GET", path, None).await;
            assert_eq!(s, 401, "{what} on {path}: {v}");
            assert_eq!(v["error"]["code"], "unauthorized");
        }
    }

    // The role claim is not trusted: a correctly signed "admin" token of a member is a member.
    let lying = sign_jwt(&claims(member, "admin", now(), now() + 600), &key);
    let (s, _) = tg.call(Some(&lying), "GET", "/api/users", None).await;
    assert_eq!(s, 403);
    let (s, v) = tg.call(Some(&lying), "GET", "/api/auth/me", None).await;
    assert_eq!((s, v["role"].as_str()), (200, Some("member")));
}

#[tokio::test]
async fn role_changes_disabling_and_deletion_apply_at_once() {
    let tg = Tollgate::start().await;
    let id = tg.create_user("bob", MEMBER_PASSWORD, "member").await;
    let token = tg.session("bob", MEMBER_PASSWORD).await;
    let bob = |m: &'static str, p: &'static str| {
        let t = token.clone();
        let tg = &tg;
        async move { tg.call(Some(&t), m, p, None).await.0 }
    };
    assert_eq!(bob("GET", "/api/users").await, 403);

    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/users/{id}"),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(bob("GET", "/api/users").await, 200);

    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/users/{id}"),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(bob("GET", "/api/users").await, 403);
    assert_eq!(bob("GET", "/api/providers").await, 200);

    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/users/{id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(bob("GET", "/api/providers").await, 401);
    assert_eq!(tg.login_user("bob", MEMBER_PASSWORD).await.0, 401);

    // Re-enabled: old tokens stay dead (disabling ended the sessions), new logins work.
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/users/{id}"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(bob("GET", "/api/providers").await, 401);
    let fresh = tg.session("bob", MEMBER_PASSWORD).await;
    assert_eq!(
        tg.call(Some(&fresh), "GET", "/api/providers", None).await.0,
        200
    );

    let (s, _) = tg.api("DELETE", &format!("/api/users/{id}"), None).await;
    assert_eq!(s, 204);
    assert_eq!(
        tg.call(Some(&fresh), "GET", "/api/providers", None).await.0,
        401
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_login() {
    let tg = Tollgate::start().await;
    let (s, first) = tg.login_user("admin", ADMIN_PASSWORD).await;
    assert_eq!(s, 200);
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 3600);
    let r0 = first["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(URL_SAFE_NO_PAD.decode(&r0).unwrap().len(), 32);

    let (s, second) = refresh(&tg, &r0).await;
    assert_eq!(s, 200, "{second}");
    let r1 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r0, r1);
    let access1 = second["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        tg.call(Some(&access1), "GET", "/api/auth/me", None).await.0,
        200
    );

    let (s, third) = refresh(&tg, &r1).await;
    assert_eq!(s, 200);
    let r2 = third["refresh_token"].as_str().unwrap().to_string();

    // Another, independent login.
    let (_, other) = tg.login_user("admin", ADMIN_PASSWORD).await;
    let other_refresh = other["refresh_token"].as_str().unwrap().to_string();

    // r0 was rotated: presenting it again is theft; the whole login (r2 too) is revoked.
    let (s, v) = refresh(&tg, &r0).await;
    assert_eq!(s, 401, "{v}");
    assert_eq!(refresh(&tg, &r2).await.0, 401);
    assert_eq!(refresh(&tg, &r1).await.0, 401);
    // The other login is untouched.
    assert_eq!(refresh(&tg, &other_refresh).await.0, 200);
    // Garbage is refused the same way.
    assert_eq!(refresh(&tg, "not-a-token").await.0, 401);

    // The reuse is in the audit trail, with whose login it was.
    let (_, audit) = tg
        .api("GET", "/api/audit?action=refresh_failed", None)
        .await;
    let reuse = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["details"]["reuse_detected"] == true)
        .unwrap_or_else(|| panic!("no reuse entry: {audit}"));
    assert_eq!(reuse["user_id"], 1);
    let text = audit.to_string();
    for t in [&r0, &r1, &r2] {
        assert!(!text.contains(t.as_str()));
    }
}

#[tokio::test]
async fn expired_refresh_tokens_are_refused() {
    let tg = Tollgate::start_with(Options::default().env("TOLLGATE__ADMIN__REFRESH_TTL_SECS", "1"))
        .await;
    let (_, v) = tg.login_user("admin", ADMIN_PASSWORD).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (s, _) = refresh(&tg, v["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn logout_and_logout_all_end_sessions() {
    let tg = Tollgate::start().await;
    let (_, a) = tg.login_user("admin", ADMIN_PASSWORD).await;
    let (_, b) = tg.login_user("admin", ADMIN_PASSWORD).await;
    let a_refresh = a["refresh_token"].as_str().unwrap();
    let (s, _) = tg
        .call(
            None,
            "POST",
            "/api/auth/logout",
            Some(json!({"refresh_token": a_refresh})),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(refresh(&tg, a_refresh).await.0, 401);
    let (s, _) = tg
        .call(
            None,
            "POST",
            "/api/auth/logout",
            Some(json!({"refresh_token": "unknown"})),
        )
        .await;
    assert_eq!(s, 401);

    // Logout-all: b's access and refresh tokens die, including the caller's own.
    let b_access = b["access_token"].as_str().unwrap();
    assert_eq!(
        tg.call(Some(b_access), "GET", "/api/auth/me", None).await.0,
        200
    );
    let (s, _) = tg
        .call(Some(b_access), "POST", "/api/auth/logout-all", None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        tg.call(Some(b_access), "GET", "/api/auth/me", None).await.0,
        401
    );
    assert_eq!(
        tg.call(Some(&tg.token), "GET", "/api/auth/me", None)
            .await
            .0,
        401
    );
    assert_eq!(
        refresh(&tg, b["refresh_token"].as_str().unwrap()).await.0,
        401
    );
    // A new login right after works.
    let fresh = tg.session("admin", ADMIN_PASSWORD).await;
    assert_eq!(
        tg.call(Some(&fresh), "GET", "/api/auth/me", None).await.0,
        200
    );
}

#[tokio::test]
async fn password_change_ends_the_other_sessions() {
    let tg = Tollgate::start().await;
    tg.create_user("carol", MEMBER_PASSWORD, "member").await;
    let (_, mine) = tg.login_user("carol", MEMBER_PASSWORD).await;
    let (_, other) = tg.login_user("carol", MEMBER_PASSWORD).await;
    let my_access = mine["access_token"].as_str().unwrap();
    let my_refresh = mine["refresh_token"].as_str().unwrap();
    let new_password = "carol-new-password";

    let change = |current: &str, new: &str, refresh: Option<&str>| {
        let mut body = json!({"current_password": current, "new_password": new});
        if let Some(r) = refresh {
            body["refresh_token"] = json!(r);
        }
        body
    };
    let (s, v) = tg
        .call(
            Some(my_access),
            "POST",
            "/api/auth/password",
            Some(change("wrong-password!!", new_password, None)),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("current_password")
    );
    let (s, v) = tg
        .call(
            Some(my_access),
            "POST",
            "/api/auth/password",
            Some(change(MEMBER_PASSWORD, "short", None)),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("new_password")
    );

    let (s, fresh) = tg
        .call(
            Some(my_access),
            "POST",
            "/api/auth/password",
            Some(change(MEMBER_PASSWORD, new_password, Some(my_refresh))),
        )
        .await;
    assert_eq!(s, 200, "{fresh}");
    let fresh_access = fresh["access_token"].as_str().unwrap();
    let fresh_refresh = fresh["refresh_token"].as_str().unwrap();

    // Every access token issued before the change is refused, the caller's old one included.
    for token in [my_access, other["access_token"].as_str().unwrap()] {
        assert_eq!(
            tg.call(Some(token), "GET", "/api/auth/me", None).await.0,
            401
        );
    }
    assert_eq!(
        tg.call(Some(fresh_access), "GET", "/api/auth/me", None)
            .await
            .0,
        200
    );
    // The other login's refresh token is revoked; the caller's login lives on, rotated.
    assert_eq!(
        refresh(&tg, other["refresh_token"].as_str().unwrap())
            .await
            .0,
        401
    );
    assert_eq!(refresh(&tg, fresh_refresh).await.0, 200);
    // Only the new password logs in.
    assert_eq!(tg.login_user("carol", MEMBER_PASSWORD).await.0, 401);
    assert_eq!(tg.login_user("carol", new_password).await.0, 200);
    // An admin resetting a password also ends that user's sessions.
    let (_, d) = tg.login_user("carol", new_password).await;
    let id = tg
        .call(
            Some(d["access_token"].as_str().unwrap()),
            "GET",
            "/api/auth/me",
            None,
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/users/{id}"),
            Some(json!({"password": "reset-by-the-admin"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        tg.call(
            Some(d["access_token"].as_str().unwrap()),
            "GET",
            "/api/auth/me",
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        refresh(&tg, d["refresh_token"].as_str().unwrap()).await.0,
        401
    );
    assert_eq!(tg.login_user("carol", "reset-by-the-admin").await.0, 200);
}

#[tokio::test]
async fn repeated_failures_lock_a_username_and_look_like_a_wrong_password() {
    let tg = Tollgate::start_with(
        Options::default()
            .env("TOLLGATE__ADMIN__LOCKOUT_ATTEMPTS", "3")
            .env("TOLLGATE__ADMIN__LOCKOUT_SECS", "10"),
    )
    .await;
    let (wrong_status, wrong_body) = tg.login_user("admin", "wrong-password").await;
    assert_eq!(wrong_status, 401);
    for _ in 0..2 {
        assert_eq!(tg.login_user("admin", "wrong-password").await.0, 401);
    }
    // Locked: the right password gets exactly the wrong-password answer.
    let locked = tg.login_user("admin", ADMIN_PASSWORD).await;
    assert_eq!(locked, (wrong_status, wrong_body.clone()));
    // Other usernames are not affected.
    tg.create_user("dave", MEMBER_PASSWORD, "member").await;
    assert_eq!(tg.login_user("dave", MEMBER_PASSWORD).await.0, 200);

    // An unknown username is locked out just the same, and answers identically throughout.
    for _ in 0..4 {
        assert_eq!(
            tg.login_user("ghost", "whatever-password").await,
            (wrong_status, wrong_body.clone())
        );
    }

    // The audit trail tells the admin what the caller was not told: one row per lockout
    // (admin, and ghost), none per failed attempt.
    let (_, audit) = tg.api("GET", "/api/audit?action=lockout", None).await;
    let items = audit["items"].as_array().unwrap();
    let admin_lockouts: Vec<_> = items.iter().filter(|e| e["username"] == "admin").collect();
    assert_eq!(admin_lockouts.len(), 1, "{audit}");
    assert_eq!(admin_lockouts[0]["resource"], "sessions");
    assert_eq!(admin_lockouts[0]["address"], "127.0.0.1");
    assert_eq!(admin_lockouts[0]["details"]["status"], 401);
    assert_eq!(items.len(), 2, "{audit}");
    let (_, failed) = tg.api("GET", "/api/audit?action=login_failed", None).await;
    assert_eq!(failed["total"], 0, "{failed}");
    assert!(!audit.to_string().contains(ADMIN_PASSWORD));
    assert!(!audit.to_string().contains("wrong-password"));

    tokio::time::sleep(Duration::from_millis(10_200)).await;
    assert_eq!(tg.login_user("admin", ADMIN_PASSWORD).await.0, 200);
}

fn keypair(seed: u8) -> (SigningKey, String) {
    let mut bytes: [u8; 32] = rand::random();
    bytes[0] = seed;
    let key = SigningKey::from_bytes(&bytes);
    let public = STANDARD.encode(key.verifying_key().as_bytes());
    (key, public)
}

async fn challenge(tg: &Tollgate, username: &str) -> String {
    let (s, v) = tg
        .call(
            None,
            "GET",
            &format!("/api/auth/challenge?username={username}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["expires_at"].is_string());
    let nonce = v["nonce"].as_str().unwrap().to_string();
    assert_eq!(STANDARD.decode(&nonce).unwrap().len(), 32);
    nonce
}

fn sign(key: &SigningKey, nonce: &str) -> String {
    STANDARD.encode(key.sign(&STANDARD.decode(nonce).unwrap()).to_bytes())
}

async fn answer(tg: &Tollgate, username: &str, nonce: &str, signature: &str) -> (u16, Value) {
    tg.call(
        None,
        "POST",
        "/api/auth/challenge",
        Some(json!({"username": username, "nonce": nonce, "signature": signature})),
    )
    .await
}

#[tokio::test]
async fn key_pair_login_with_single_use_challenges() {
    let tg =
        Tollgate::start_with(Options::default().env("TOLLGATE__ADMIN__CHALLENGE_TTL_SECS", "1"))
            .await;
    tg.create_user("erin", MEMBER_PASSWORD, "member").await;
    let erin = tg.session("erin", MEMBER_PASSWORD).await;
    let (key, public) = keypair(1);
    let (other_key, other_public) = keypair(2);

    for bad in ["", "AAAA", "not base64!", &STANDARD.encode([0u8; 31])] {
        let (s, v) = tg
            .call(
                Some(&erin),
                "POST",
                "/api/auth/public-keys",
                Some(json!({"name": "laptop", "public_key": bad})),
            )
            .await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("public_key")
        );
    }
    let (s, created) = tg
        .call(
            Some(&erin),
            "POST",
            "/api/auth/public-keys",
            Some(json!({"name": "laptop", "public_key": public})),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["public_key"], public.as_str());
    assert_eq!(created["fingerprint"].as_str().unwrap().len(), 16);
    let key_id = created["id"].as_i64().unwrap();
    // The same key cannot be registered twice.
    let (s, _) = tg
        .call(
            Some(&erin),
            "POST",
            "/api/auth/public-keys",
            Some(json!({"name": "again", "public_key": public})),
        )
        .await;
    assert_eq!(s, 409);
    let (_, list) = tg
        .call(Some(&erin), "GET", "/api/auth/public-keys", None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The admin does not see erin's keys in their own list.
    let (_, list) = tg.api("GET", "/api/auth/public-keys", None).await;
    assert_eq!(list.as_array().unwrap().len(), 0);

    // A good answer logs in with the usual token pair.
    let nonce = challenge(&tg, "erin").await;
    let signature = sign(&key, &nonce);
    let (s, v) = answer(&tg, "erin", &nonce, &signature).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    let access = v["access_token"].as_str().unwrap();
    let (_, me) = tg.call(Some(access), "GET", "/api/auth/me", None).await;
    assert_eq!(me["username"], "erin");
    assert_eq!(
        refresh(&tg, v["refresh_token"].as_str().unwrap()).await.0,
        200
    );
    let (_, list) = tg
        .call(Some(&erin), "GET", "/api/auth/public-keys", None)
        .await;
    assert!(list[0]["last_used_at"].is_string());

    // Replayed: refused.
    assert_eq!(answer(&tg, "erin", &nonce, &signature).await.0, 401);
    // Signed by a key erin does not have, or over other bytes: refused (and used up).
    let nonce = challenge(&tg, "erin").await;
    assert_eq!(
        answer(&tg, "erin", &nonce, &sign(&other_key, &nonce))
            .await
            .0,
        401
    );
    assert_eq!(
        answer(&tg, "erin", &nonce, &sign(&key, &nonce)).await.0,
        401
    );
    // A challenge issued for another username does not log erin in.
    let nonce = challenge(&tg, "admin").await;
    assert_eq!(
        answer(&tg, "erin", &nonce, &sign(&key, &nonce)).await.0,
        401
    );
    // A nonce never issued.
    let made_up = STANDARD.encode([9u8; 32]);
    assert_eq!(
        answer(&tg, "erin", &made_up, &sign(&key, &made_up)).await.0,
        401
    );
    // Expired (challenge_ttl_secs = 1).
    let nonce = challenge(&tg, "erin").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        answer(&tg, "erin", &nonce, &sign(&key, &nonce)).await.0,
        401
    );
    // Unknown users get a challenge too, and the same refusal.
    let nonce = challenge(&tg, "nobody-here").await;
    assert_eq!(
        answer(&tg, "nobody-here", &nonce, &sign(&key, &nonce))
            .await
            .0,
        401
    );

    // Another user cannot delete erin's key; erin can, and then it no longer logs in.
    let (s, _) = tg
        .api("DELETE", &format!("/api/auth/public-keys/{key_id}"), None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = tg
        .call(
            Some(&erin),
            "DELETE",
            &format!("/api/auth/public-keys/{key_id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let nonce = challenge(&tg, "erin").await;
    assert_eq!(
        answer(&tg, "erin", &nonce, &sign(&key, &nonce)).await.0,
        401
    );
    let _ = other_public;

    // Key-pair logins are audited, the public key's value is not.
    let (_, audit) = tg.api("GET", "/api/audit?resource=sessions", None).await;
    let items = audit["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["action"] == "keypair_login"
        && e["username"] == "erin"
        && e["details"]["public_key_id"] == key_id));
    // Failed answers are counted, not audited one by one.
    assert!(!items.iter().any(|e| e["action"] == "keypair_login_failed"));
    let (_, all) = tg.api("GET", "/api/audit?per_page=500", None).await;
    assert!(!all.to_string().contains(&public));
}

#[tokio::test]
async fn openssh_public_key_lines_register_with_their_comment_as_name() {
    let tg = Tollgate::start().await;
    tg.create_user("olga", MEMBER_PASSWORD, "member").await;
    let olga = tg.session("olga", MEMBER_PASSWORD).await;
    let add = |body: Value| {
        let (tg, olga) = (&tg, olga.clone());
        async move {
            tg.call(Some(&olga), "POST", "/api/auth/public-keys", Some(body))
                .await
        }
    };
    let (key, public) = keypair(3);
    let line = tollgate_tui::keys::public_line(key.verifying_key().as_bytes(), "olga@laptop");
    assert!(line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));

    // The OpenSSH line alone: stored as the raw key, named by its comment.
    let (s, created) = add(json!({"public_key": format!("{line}\n")})).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["name"], "olga@laptop");
    assert_eq!(created["public_key"], public.as_str());
    // The same key again, in either form, is a conflict.
    assert_eq!(
        add(json!({"name": "b64", "public_key": public})).await.0,
        409
    );
    assert_eq!(add(json!({"public_key": line})).await.0, 409);

    // A name given wins over the comment; a line without a comment needs one.
    let (key2, _) = keypair(4);
    let bare = tollgate_tui::keys::public_line(key2.verifying_key().as_bytes(), "");
    let (s, v) = add(json!({"public_key": bare})).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("`name`"));
    let (s, v) =
        add(json!({"name": "desk", "public_key": format!("{bare} ignored-comment")})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["name"], "desk");

    // Other algorithms and damaged lines are refused like bad base64.
    for bad in [
        line.replacen("ssh-ed25519", "ssh-rsa", 1),
        line.replacen("AAAAC3", "AAAAC4", 1),
        "ssh-ed25519 c2hvcnQ= x".to_string(),
    ] {
        let (s, v) = add(json!({"name": "x", "public_key": bad})).await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("public_key")
        );
    }

    // The key registered from its OpenSSH line signs in.
    let nonce = challenge(&tg, "olga").await;
    let (s, v) = answer(&tg, "olga", &nonce, &sign(&key, &nonce)).await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn users_api_validates_and_keeps_an_admin_in_charge() {
    let tg = Tollgate::start().await;
    let (_, me) = tg.api("GET", "/api/auth/me", None).await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    let admin_id = me["id"].as_i64().unwrap();

    for (body, field) in [
        (
            json!({"username": "ab", "password": MEMBER_PASSWORD}),
            "username",
        ),
        (
            json!({"username": "a b c", "password": MEMBER_PASSWORD}),
            "username",
        ),
        (
            json!({"username": "x".repeat(65), "password": MEMBER_PASSWORD}),
            "username",
        ),
        (
            json!({"username": "frank", "password": "elevenchars"}),
            "password",
        ),
        (
            json!({"username": "frank", "password": MEMBER_PASSWORD, "role": "root"}),
            "role",
        ),
    ] {
        let (s, v) = tg.api("POST", "/api/users", Some(body.clone())).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{v}"
        );
    }
    let (s, frank) = tg
        .api(
            "POST",
            "/api/users",
            Some(json!({"username": "frank.o-k_1", "password": MEMBER_PASSWORD})),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(frank["role"], "member");
    assert_eq!(frank["enabled"], true);
    assert!(frank.get("password").is_none() && frank.get("password_hash").is_none());
    let (s, _) = tg
        .api(
            "POST",
            "/api/users",
            Some(json!({"username": "frank.o-k_1", "password": MEMBER_PASSWORD})),
        )
        .await;
    assert_eq!(s, 409);
    let (_, list) = tg.api("GET", "/api/users", None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains("argon2"));

    // An admin cannot demote, disable or delete themselves.
    for body in [json!({"role": "member"}), json!({"enabled": false})] {
        let (s, v) = tg
            .api("PATCH", &format!("/api/users/{admin_id}"), Some(body))
            .await;
        assert_eq!(s, 409, "{v}");
    }
    let (s, _) = tg
        .api("DELETE", &format!("/api/users/{admin_id}"), None)
        .await;
    assert_eq!(s, 409);
    // Renaming yourself is fine.
    let (s, v) = tg
        .api(
            "PATCH",
            &format!("/api/users/{admin_id}"),
            Some(json!({"username": "root-admin", "role": "admin"})),
        )
        .await;
    assert_eq!((s, v["username"].as_str()), (200, Some("root-admin")));
    let (s, _) = tg.api("GET", "/api/users/999999", None).await;
    assert_eq!(s, 404);

    // A deleted user's client keys stay, without an owner.
    let frank_id = frank["id"].as_i64().unwrap();
    let frank_token = tg.session("frank.o-k_1", MEMBER_PASSWORD).await;
    let (s, ck) = tg
        .call(
            Some(&frank_token),
            "POST",
            "/api/client-keys",
            Some(json!({"name": "f", "provider_id": 1, "provider_key_ids": []})),
        )
        .await;
    assert_eq!(s, 201, "{ck}");
    assert_eq!(ck["owner_id"], frank_id);
    let (s, _) = tg
        .api("DELETE", &format!("/api/users/{frank_id}"), None)
        .await;
    assert_eq!(s, 204);
    let (_, ck) = tg
        .api("GET", &format!("/api/client-keys/{}", ck["id"]), None)
        .await;
    assert_eq!(ck["owner_id"], Value::Null);
}

#[tokio::test]
async fn every_write_is_audited_and_secrets_never_appear() {
    let tg = Tollgate::start().await;
    let secret = "sk-audited-secret-0123456789";
    let pid = tg
        .create_provider("audited", "openai", "http://127.0.0.1:9")
        .await;
    let (s, pk) = tg
        .api(
            "POST",
            "/api/provider-keys",
            Some(json!({"provider_id": pid, "name": "main", "secret": secret, "weight": 2})),
        )
        .await;
    assert_eq!(s, 201);
    let kid = pk["id"].as_i64().unwrap();
    let rotated = "sk-rotated-audited-secret-xyz";
    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/provider-keys/{kid}"),
            Some(json!({"secret": rotated})),
        )
        .await;
    assert_eq!(s, 200);
    let (ckid, client_key) = tg.create_client_key(pid, &[kid]).await;
    let user_password = "new-user-password-42";
    let uid = tg.create_user("grace", user_password, "member").await;
    assert_eq!(tg.login_user("admin", "bad-password-guess").await.0, 401);
    let (s, _) = tg
        .api("DELETE", &format!("/api/client-keys/{ckid}"), None)
        .await;
    assert_eq!(s, 204);
    // A member's refused write is audited too.
    let grace = tg.session("grace", user_password).await;
    let (s, _) = tg
        .call(
            Some(&grace),
            "DELETE",
            &format!("/api/providers/{pid}"),
            None,
        )
        .await;
    assert_eq!(s, 403);

    let (s, audit) = tg.api("GET", "/api/audit?per_page=500", None).await;
    assert_eq!(s, 200);
    let text = audit.to_string();
    for value in [
        secret,
        rotated,
        client_key.as_str(),
        user_password,
        ADMIN_PASSWORD,
        "bad-password-guess",
        grace.as_str(),
    ] {
        assert!(!text.contains(value), "{value} leaked into the audit trail");
    }
    let items = audit["items"].as_array().unwrap();
    let find = |action: &str, resource: &str| {
        items
            .iter()
            .find(|e| e["action"] == action && e["resource"] == resource)
            .unwrap_or_else(|| panic!("no {action} {resource} in {audit}"))
            .clone()
    };
    let created = find("create", "provider-keys");
    assert_eq!(created["resource_id"], kid.to_string());
    assert_eq!(created["user_id"], 1);
    assert_eq!(created["username"], "admin");
    assert_eq!(created["address"], "127.0.0.1");
    assert_eq!(created["details"]["status"], 201);
    let fields: Vec<&str> = created["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "provider_id", "secret", "weight"]);
    assert_eq!(created["details"]["values"]["name"], "main");
    assert!(created["details"]["values"].get("secret").is_none());
    assert!(chrono::DateTime::parse_from_rfc3339(created["created_at"].as_str().unwrap()).is_ok());

    let updated = find("update", "provider-keys");
    assert_eq!(updated["resource_id"], kid.to_string());
    assert_eq!(updated["details"]["fields"], json!(["secret"]));
    assert_eq!(find("create", "providers")["resource_id"], pid.to_string());
    assert_eq!(
        find("create", "client-keys")["resource_id"],
        ckid.to_string()
    );
    assert_eq!(
        find("delete", "client-keys")["resource_id"],
        ckid.to_string()
    );
    assert_eq!(find("create", "users")["resource_id"], uid.to_string());
    // A failed login by nobody known is counted, not audited.
    assert!(
        !items.iter().any(|e| e["action"] == "login_failed"),
        "{audit}"
    );
    let login = find("login", "sessions");
    assert_eq!(login["address"], "127.0.0.1");
    let refused = find("delete_failed", "providers");
    assert_eq!(refused["username"], "grace");
    assert_eq!(refused["user_id"], uid);
    assert_eq!(refused["details"]["status"], 403);
    // Reads are not audited.
    assert!(
        items
            .iter()
            .all(|e| e["action"] != "list" && e["action"] != "get")
    );

    // Filters and pages.
    let (_, v) = tg
        .api("GET", "/api/audit?resource=provider-keys", None)
        .await;
    assert_eq!(v["total"], 2);
    let (_, v) = tg
        .api(
            "GET",
            "/api/audit?resource=provider-keys&action=create",
            None,
        )
        .await;
    assert_eq!(v["total"], 1);
    let (_, v) = tg
        .api("GET", &format!("/api/audit?user_id={uid}"), None)
        .await;
    assert!(v["total"].as_u64().unwrap() >= 2, "{v}");
    let (_, v) = tg.api("GET", "/api/audit?per_page=2&page=2", None).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        (v["page"].as_u64(), v["per_page"].as_u64()),
        (Some(2), Some(2))
    );
    let (_, v) = tg
        .api("GET", "/api/audit?from=2999-01-01T00:00:00Z", None)
        .await;
    assert_eq!(v["total"], 0);
    let (_, v) = tg
        .api("GET", "/api/audit?to=2000-01-01T00:00:00Z", None)
        .await;
    assert_eq!(v["total"], 0);
    let (s, _) = tg.api("GET", "/api/audit?per_page=0", None).await;
    assert_eq!(s, 400);
    let (s, _) = tg.api("GET", "/api/audit?bogus=1", None).await;
    assert_eq!(s, 400);
    // Newest first.
    let (_, v) = tg.api("GET", "/api/audit", None).await;
    let ids: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]));

    // Nothing secret in the log file or the database either.
    let log = tg.log();
    for value in [secret, rotated, user_password, "bad-password-guess"] {
        assert!(!log.contains(value));
    }
}

#[tokio::test]
async fn accounts_and_audit_work_on_postgres() {
    let Some(admin_url) = common::postgres_url() else {
        return;
    };
    let db = common::PgDatabase::create(&admin_url).await;
    let tg = Tollgate::start_with(Options {
        database_url: Some(db.url.clone()),
        ..with_master_key()
    })
    .await;
    let id = tg.create_user("heidi", MEMBER_PASSWORD, "member").await;
    let (s, v) = tg.login_user("heidi", MEMBER_PASSWORD).await;
    assert_eq!(s, 200);
    let r0 = v["refresh_token"].as_str().unwrap().to_string();
    let (s, v) = refresh(&tg, &r0).await;
    assert_eq!(s, 200);
    assert_eq!(refresh(&tg, &r0).await.0, 401);
    assert_eq!(
        refresh(&tg, v["refresh_token"].as_str().unwrap()).await.0,
        401
    );

    let heidi = tg.session("heidi", MEMBER_PASSWORD).await;
    let (key, public) = keypair(3);
    let (s, _) = tg
        .call(
            Some(&heidi),
            "POST",
            "/api/auth/public-keys",
            Some(json!({"name": "k", "public_key": public})),
        )
        .await;
    assert_eq!(s, 201);
    let nonce = challenge(&tg, "heidi").await;
    let signature = sign(&key, &nonce);
    assert_eq!(answer(&tg, "heidi", &nonce, &signature).await.0, 200);
    assert_eq!(answer(&tg, "heidi", &nonce, &signature).await.0, 401);

    let (s, _) = tg
        .api(
            "PATCH",
            &format!("/api/users/{id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        tg.call(Some(&heidi), "GET", "/api/auth/me", None).await.0,
        401
    );
    let (s, _) = tg.api("DELETE", &format!("/api/users/{id}"), None).await;
    assert_eq!(s, 204);

    let (s, audit) = tg
        .api(
            "GET",
            &format!("/api/audit?user_id={id}&per_page=500"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert!(audit["total"].as_u64().unwrap() >= 4, "{audit}");
    let (_, v) = tg.api("GET", "/api/audit?resource=users", None).await;
    assert!(v["total"].as_u64().unwrap() >= 3);
    assert!(!v.to_string().contains(MEMBER_PASSWORD));
}
