//! Tests of the mock OAuth server and the test JWT issuer: PKCE is verified, refresh tokens
//! rotate (each works once), failures on demand, the upstream's credential check, the JWKS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tollgate_testkit::{MockOAuth, MockUpstream, RefreshMode, TestIssuer};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

const VERIFIER: &str = "a-verifier-that-is-long-enough-for-pkce-0123456789";

/// Authorizes with a challenge for VERIFIER; returns the code.
async fn code(oauth: &MockOAuth) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let r = http()
        .get(oauth.authorize_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", "cid"),
            ("redirect_uri", "http://127.0.0.1:1/cb"),
            ("state", "st"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], "st");
    pairs["code"].clone()
}

async fn token(oauth: &MockOAuth, form: &[(&str, &str)]) -> (u16, Value) {
    let r = http()
        .post(oauth.token_url())
        .basic_auth("cid", Some("sec"))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn pkce_is_verified_and_refresh_tokens_work_once() {
    let oauth = MockOAuth::start("cid", Some("sec")).await.unwrap();
    oauth.set_lifetime(Duration::from_secs(60));
    let exchange = |code: String, verifier: &'static str| {
        let oauth = &oauth;
        async move {
            token(
                oauth,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", "http://127.0.0.1:1/cb"),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    let (s, v) = exchange(
        code(&oauth).await,
        "a-wrong-verifier-that-is-long-enough-0123456789",
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    let (s, v) = exchange(code(&oauth).await, VERIFIER).await;
    assert_eq!(s, 200, "{v}");
    let access = v["access_token"].as_str().unwrap().to_string();
    assert!(oauth.is_live(&access));
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    let (s, v) = token(
        &oauth,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = token(
        &oauth,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "spent"
    );
    assert_eq!(oauth.refresh_calls(), 2);
    assert_eq!(oauth.live_refresh_tokens(), 1);

    oauth.set_refresh_mode(RefreshMode::ServerError(1));
    let (s, _) = token(
        &oauth,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!(s, 503);
    oauth.set_refresh_mode(RefreshMode::InvalidGrant);
    let (s, v) = token(
        &oauth,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    let r = http()
        .post(oauth.token_url())
        .basic_auth("cid", Some("wrong"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The upstream takes only live access tokens once told to.
    let upstream = MockUpstream::start().await;
    upstream.set_credential_check(Some(oauth.checker()));
    let call = |key: String| {
        let url = format!("{}/v1/chat/completions", upstream.base_url());
        async move {
            http()
                .post(url)
                .bearer_auth(key)
                .json(&json!({"model": "m", "messages": []}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(call(access).await, 200);
    assert_eq!(call("at_made_up".into()).await, 401);
}

#[tokio::test]
async fn the_issuer_publishes_and_rotates_its_keys() {
    let issuer = TestIssuer::start().await.unwrap();
    let jwks = |url: String| async move {
        reqwest::get(url)
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let v = jwks(issuer.jwks_url()).await;
    assert_eq!(v["keys"][0]["kid"], "k1");
    assert_eq!(v["keys"][0]["kty"], "EC");
    let token = issuer.sign(&json!({"sub": "x", "exp": 4_000_000_000u64}));
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("k1"));
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(v["keys"][0].clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_aud = false;
    assert!(jsonwebtoken::decode::<Value>(&token, &key, &validation).is_ok());

    let kid = issuer.rotate(false);
    let v = jwks(issuer.jwks_url()).await;
    assert_eq!(v["keys"].as_array().unwrap().len(), 1);
    assert_eq!(v["keys"][0]["kid"], kid.as_str());
    assert!(
        jsonwebtoken::decode::<Value>(
            &issuer.sign(&json!({"exp": 4_000_000_000u64})),
            &key,
            &validation
        )
        .is_err()
    );
    assert_eq!(issuer.fetches(), 2);
}
