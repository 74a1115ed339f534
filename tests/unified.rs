//! Unified API, black box: one client key reaching several providers, models addressed as
//! `provider/model`, by model route or by the providers' model lists; requests translated
//! between OpenAI, Anthropic and Gemini formats (the mock upstream speaks each for real),
//! fallback across a route's targets, the model list and the key's balance on :8080.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Options, Tollgate};
use serde_json::{Value, json};
use tollgate_testkit::MockUpstream;

/// Three providers on one mock (it speaks all three formats), one key each, and a client key
/// reaching all three.
struct World {
    mock: MockUpstream,
    tg: Tollgate,
    openai: i64,
    anthropic: i64,
    gemini: i64,
    key: String,
    key_id: i64,
}

async fn world_with(tg: Tollgate, anthropic_secret: &str) -> World {
    let mock = MockUpstream::start().await;
    let openai = tg.provider_at("openai", "openai", &mock.base_url()).await;
    let anthropic = tg
        .provider_at("anthropic", "anthropic", &mock.base_url())
        .await;
    let gemini = tg.provider_at("gemini", "gemini", &mock.base_url()).await;
    let k1 = tg.create_provider_key(openai, "sk-openai-1").await;
    let k2 = tg.create_provider_key(anthropic, anthropic_secret).await;
    let k3 = tg.create_provider_key(gemini, "goog-1").await;
    let (s, v) = tg
        .api(
            "POST",
            "/api/client-keys",
            Some(json!({
                "name": "unified",
                "provider_ids": [openai, anthropic, gemini],
                "provider_key_ids": [k1, k2, k3],
            })),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["provider_ids"], json!([openai, anthropic, gemini]));
    assert_eq!(v["provider_id"], openai);
    World {
        mock,
        tg,
        openai,
        anthropic,
        gemini,
        key: v["key"].as_str().unwrap().to_string(),
        key_id: v["id"].as_i64().unwrap(),
    }
}

async fn world() -> World {
    world_with(Tollgate::start().await, "sk-ant-1").await
}

impl World {
    async fn chat(&self, body: Value) -> (u16, String, Value) {
        let r = self
            .tg
            .http
            .post(format!("{}/v1/chat/completions", self.tg.proxy))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let text = r.text().await.unwrap();
        (
            status,
            id,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn messages(&self, body: Value) -> (u16, String, Value) {
        let r = self
            .tg
            .http
            .post(format!("{}/v1/messages", self.tg.proxy))
            .header("x-api-key", &self.key)
            .header("anthropic-version", "2023-06-01")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let text = r.text().await.unwrap();
        (
            status,
            id,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn refresh_models(&self, provider: i64) -> Value {
        let (s, v) = self
            .tg
            .api(
                "POST",
                &format!("/api/providers/{provider}/models/refresh"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }
}

fn sse_data(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[tokio::test]
async fn openai_requests_reach_anthropic_translated_with_the_back_ends_usage() {
    let w = world().await;
    w.tg.set_price("claude-haiku-4-5", "1", "5", "1.25", "0.1")
        .await;
    let (s, id, v) = w
        .chat(json!({
            "model": "anthropic/claude-haiku-4-5",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
            "max_tokens": 50,
        }))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "anthropic/claude-haiku-4-5");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("mock")
    );
    let req = w.mock.last_request().unwrap();
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.credential.as_deref(), Some("sk-ant-1"));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    let sent = req.json().unwrap();
    assert_eq!(sent["model"], "claude-haiku-4-5");
    assert_eq!(sent["system"], "Be brief.");
    assert_eq!(sent["max_tokens"], 50);
    let usage = req.usage_sent.unwrap();
    assert_eq!(
        v["usage"]["completion_tokens"].as_u64().unwrap(),
        usage.completion_tokens
    );
    assert_eq!(
        v["usage"]["prompt_tokens"].as_u64().unwrap(),
        usage.prompt_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    );

    let row = w.tg.log_row(&id).await;
    assert_eq!(row["model"], "anthropic/claude-haiku-4-5");
    assert_eq!(row["resolved_model"], "claude-haiku-4-5");
    assert_eq!(row["translated"], true);
    assert_eq!(row["provider_id"], w.anthropic);
    assert_eq!(row["usage_source"], "provider");
    assert_eq!(row["completion_tokens"], usage.completion_tokens);
    assert_eq!(row["prompt_tokens"], usage.prompt_tokens);
    assert_eq!(row["priced"], true, "priced by the resolved model: {row}");
    let attempts = row["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["provider_id"], w.anthropic);
    assert_eq!(attempts[0]["model"], "claude-haiku-4-5");
    assert_eq!(attempts[0]["translated"], true);
}

#[tokio::test]
async fn streams_are_translated_event_by_event_from_gemini_and_anthropic() {
    let w = world().await;
    for (model, path) in [
        (
            "gemini/gemini-2.5-flash",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        ),
        ("anthropic/claude-haiku-4-5", "/v1/messages"),
    ] {
        let (s, id, v) = w
            .chat(json!({
                "model": model,
                "messages": [{"role": "user", "content": "hi"}],
                "stream": true,
                "stream_options": {"include_usage": true},
            }))
            .await;
        assert_eq!(s, 200, "{v}");
        let text = v.as_str().unwrap();
        assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
        let chunks = sse_data(text);
        assert!(chunks.len() > 3, "{text}");
        assert!(
            chunks
                .iter()
                .all(|c| c["object"] == "chat.completion.chunk")
        );
        let content: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert!(content.contains("mock"), "{content}");
        let req = w.mock.last_request().unwrap();
        assert_eq!(req.path, path);
        let usage = req.usage_sent.unwrap();
        let last = chunks.last().unwrap();
        assert_eq!(last["choices"], json!([]));
        assert_eq!(
            last["usage"]["completion_tokens"].as_u64().unwrap(),
            usage.completion_tokens
        );
        let row = w.tg.log_row(&id).await;
        assert_eq!(row["stream"], true);
        assert_eq!(row["partial"], false, "{row}");
        assert_eq!(row["completion_tokens"], usage.completion_tokens);
        assert_eq!(row["translated"], true);
    }
}

#[tokio::test]
async fn anthropic_clients_reach_openai_and_gemini() {
    let w = world().await;
    let (s, _, v) = w
        .messages(json!({
            "model": "openai/gpt-4o-mini",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "hi"}],
        }))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["type"], "message");
    assert_eq!(v["content"][0]["type"], "text");
    let req = w.mock.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.credential.as_deref(), Some("sk-openai-1"));
    assert_eq!(req.json().unwrap()["model"], "gpt-4o-mini");
    let usage = req.usage_sent.unwrap();
    assert_eq!(
        v["usage"]["output_tokens"].as_u64().unwrap(),
        usage.completion_tokens
    );

    // Streaming from Gemini.
    let (s, _, v) = w
        .messages(json!({
            "model": "gemini/gemini-2.5-flash",
            "max_tokens": 100,
            "stream": true,
            "messages": [{"role": "user", "content": "hi"}],
        }))
        .await;
    assert_eq!(s, 200, "{v}");
    let text = v.as_str().unwrap();
    assert!(text.contains("event: message_start"), "{text}");
    assert!(text.contains("event: content_block_delta"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("data: {\"type\":\"message_stop\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn same_format_targets_only_get_the_model_renamed() {
    let w = world().await;
    let body = json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5});
    let (s, id, v) = w.chat(body).await;
    assert_eq!(s, 200, "{v}");
    let req = w.mock.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        String::from_utf8(req.body.to_vec()).unwrap(),
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5})
            .to_string()
    );
    let row = w.tg.log_row(&id).await;
    assert_eq!(row["translated"], false);
    assert_eq!(row["resolved_model"], "gpt-4o-mini");
    assert_eq!(row["provider_id"], w.openai);
}

#[tokio::test]
async fn unknown_models_are_404_in_the_callers_format_naming_what_the_key_reaches() {
    let w = world().await;
    let (s, _, v) = w
        .chat(json!({"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 404, "{v}");
    assert_eq!(v["error"]["code"], "model_not_found");
    let msg = v["error"]["message"].as_str().unwrap();
    for name in ["openai", "anthropic", "gemini", "no-such-model"] {
        assert!(msg.contains(name), "{msg}");
    }
    let (s, _, v) = w
        .messages(json!({"model": "nope", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 404, "{v}");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "not_found_error");
    assert!(w.mock.requests().is_empty());
}

#[tokio::test]
async fn bare_names_find_the_providers_whose_model_list_has_them() {
    let w = world().await;
    let listed = w.refresh_models(w.gemini).await;
    assert!(
        listed["models"]
            .as_array()
            .unwrap()
            .contains(&json!("gemini-2.5-pro")),
        "{listed}"
    );
    assert!(listed["fetched_at"].is_string());
    w.refresh_models(w.anthropic).await;
    w.refresh_models(w.openai).await;
    let (s, v) =
        w.tg.api(
            "GET",
            &format!("/api/providers/{}/models", w.anthropic),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        v["models"]
            .as_array()
            .unwrap()
            .contains(&json!("claude-sonnet-4-6")),
        "{v}"
    );
    // The mock's requests: each provider's own list endpoint with its own credential.
    let lists: Vec<_> = w
        .mock
        .requests()
        .into_iter()
        .map(|r| (r.path, r.credential.unwrap_or_default()))
        .collect();
    assert!(
        lists.contains(&("/v1beta/models".into(), "goog-1".into())),
        "{lists:?}"
    );
    assert!(
        lists.contains(&("/v1/models".into(), "sk-ant-1".into())),
        "{lists:?}"
    );

    w.mock.clear_requests();
    let (s, id, v) = w
        .chat(json!({"model": "gemini-2.5-pro", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        w.mock.last_request().unwrap().path,
        "/v1beta/models/gemini-2.5-pro:generateContent"
    );
    let row = w.tg.log_row(&id).await;
    assert_eq!(row["provider_id"], w.gemini);
    assert_eq!(row["resolved_model"], Value::Null, "same name as asked");

    // GET /v1/models: every provider/model the key reaches, plus routes, in OpenAI's format.
    let (s, _) =
        w.tg.api(
            "POST",
            "/api/model-routes",
            Some(json!({"name": "smart", "targets": [{"target": "anthropic/claude-sonnet-4-6"}]})),
        )
        .await;
    assert_eq!(s, 201);
    let r =
        w.tg.http
            .get(format!("{}/v1/models", w.tg.proxy))
            .bearer_auth(&w.key)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["object"], "list");
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for want in [
        "openai/gpt-4o-mini",
        "anthropic/claude-sonnet-4-6",
        "gemini/gemini-2.5-flash",
        "smart",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
}

#[tokio::test]
async fn a_route_falls_back_to_its_next_target_and_the_ledger_shows_both_attempts() {
    // The anthropic provider's only credential is refused (401 authentication_error).
    let w = world_with(Tollgate::start().await, "fail-401").await;
    let (s, v) =
        w.tg.api(
            "POST",
            "/api/model-routes",
            Some(json!({
                "name": "fast",
                "strategy": "first_available",
                "targets": [
                    {"target": "anthropic/claude-haiku-4-5"},
                    {"target": "openai/gpt-4o-mini"},
                ],
            })),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["targets"][1]["weight"], 1);
    let (s, id, v) = w
        .chat(json!({"model": "fast", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["object"], "chat.completion");
    let paths: Vec<String> = w.mock.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/messages", "/v1/chat/completions"]);
    let row = w.tg.log_row(&id).await;
    assert_eq!(row["model"], "fast");
    assert_eq!(row["route"], "fast");
    assert_eq!(row["resolved_model"], "gpt-4o-mini");
    assert_eq!(row["provider_id"], w.openai);
    assert_eq!(row["translated"], false);
    let attempts = row["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{row}");
    assert_eq!(attempts[0]["provider_id"], w.anthropic);
    assert_eq!(attempts[0]["model"], "claude-haiku-4-5");
    assert_eq!(attempts[0]["translated"], true);
    assert_eq!(attempts[0]["status"], 401);
    assert_eq!(attempts[0]["error_kind"], "credential_invalid");
    assert_eq!(attempts[1]["provider_id"], w.openai);
    assert_eq!(attempts[1]["model"], "gpt-4o-mini");
    assert_eq!(attempts[1]["status"], 200);

    // The anthropic key is now invalid: the route skips it without a request.
    w.mock.clear_requests();
    let (s, id, _) = w
        .chat(json!({"model": "fast", "messages": [{"role": "user", "content": "hi"}], "stream": true}))
        .await;
    assert_eq!(s, 200);
    let paths: Vec<String> = w.mock.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/chat/completions"]);
    let row = w.tg.log_row(&id).await;
    assert_eq!(row["attempts"].as_array().unwrap().len(), 1);

    // Routes are data: a change is used by the next request.
    let route_id = v_id(&w, "fast").await;
    let (s, _) =
        w.tg.api(
            "PATCH",
            &format!("/api/model-routes/{route_id}"),
            Some(json!({"targets": [{"target": "gemini/gemini-2.5-flash"}]})),
        )
        .await;
    assert_eq!(s, 200);
    w.mock.clear_requests();
    let (s, _, _) = w
        .chat(json!({"model": "fast", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        w.mock.last_request().unwrap().path,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
}

async fn v_id(w: &World, name: &str) -> i64 {
    let (_, v) = w.tg.api("GET", "/api/model-routes", None).await;
    v.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn parameters_a_target_cannot_honour_are_400_naming_them_unless_dropped() {
    let w = world().await;
    let body = json!({
        "model": "anthropic/claude-haiku-4-5",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_object"},
    });
    let (s, _, v) = w.chat(body.clone()).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["param"], "response_format");
    assert_eq!(v["error"]["code"], "unsupported_parameter");
    assert!(w.mock.requests().is_empty());
    let (s, _) =
        w.tg.api(
            "PATCH",
            &format!("/api/providers/{}", w.anthropic),
            Some(json!({"drop_unsupported_params": true})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _, v) = w.chat(body).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        w.mock
            .last_request()
            .unwrap()
            .json()
            .unwrap()
            .get("response_format")
            .is_none()
    );
}

#[tokio::test]
async fn back_end_errors_come_back_in_the_callers_format() {
    let w = world().await;
    // The mock refuses models named `forbidden…` with the provider's permission error (403).
    let (s, _, v) = w
        .chat(json!({"model": "anthropic/forbidden-model", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["error"]["type"], "permission_error");
    assert!(v["error"]["message"].is_string());
    let (s, _, v) = w
        .messages(json!({"model": "gemini/forbidden-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "permission_error");
}

#[tokio::test]
async fn provider_sets_are_checked_and_changed_through_the_api() {
    let w = world().await;
    let (s, v) =
        w.tg.api(
            "POST",
            "/api/client-keys",
            Some(
                json!({"name": "x", "provider_ids": [w.openai, w.openai], "provider_key_ids": []}),
            ),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("provider_ids"),
        "{v}"
    );
    let (s, v) =
        w.tg.api(
            "POST",
            "/api/client-keys",
            Some(json!({"name": "x", "provider_ids": [], "provider_key_ids": []})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    // A pooled key must belong to one of the providers.
    let other =
        w.tg.create_provider("other", "openai", &w.mock.base_url())
            .await;
    let stray = w.tg.create_provider_key(other, "sk-other").await;
    let (s, v) =
        w.tg.api(
            "POST",
            "/api/client-keys",
            Some(json!({"name": "x", "provider_ids": [w.openai], "provider_key_ids": [stray]})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("provider_key_ids"),
        "{v}"
    );

    // Narrowing the key to anthropic drops the other providers' pooled keys; the key then
    // speaks Anthropic natively, as a one-provider key does.
    let (s, v) =
        w.tg.api(
            "PATCH",
            &format!("/api/client-keys/{}", w.key_id),
            Some(json!({"provider_ids": [w.anthropic]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["provider_ids"], json!([w.anthropic]));
    assert_eq!(v["provider_id"], w.anthropic);
    assert_eq!(v["provider_key_ids"].as_array().unwrap().len(), 1);
    let (s, _, v) = w
        .messages(json!({"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["type"], "message");
    let (s, _, _) = w
        .chat(json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(
        s, 404,
        "an anthropic-only key has no chat completions endpoint"
    );
}

#[tokio::test]
async fn allowed_models_apply_across_providers() {
    let w = world().await;
    let (s, _) =
        w.tg.api(
            "PATCH",
            &format!("/api/client-keys/{}", w.key_id),
            Some(json!({"allowed_models": ["gpt-4o*", "gemini/*"]})),
        )
        .await;
    assert_eq!(s, 200);
    for (model, want) in [
        ("openai/gpt-4o-mini", 200),
        ("gemini/gemini-2.5-flash", 200),
        ("anthropic/claude-haiku-4-5", 403),
    ] {
        let (s, _, v) = w
            .chat(json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
            .await;
        assert_eq!(s, want, "{model}: {v}");
    }
}

#[tokio::test]
async fn the_key_balance_shows_budget_spend_and_daily_limits() {
    let w = world().await;
    w.tg.set_price("gpt-4o-mini", "1000", "1000", "0", "0")
        .await;
    let (s, _) =
        w.tg.api(
            "PATCH",
            &format!("/api/client-keys/{}", w.key_id),
            Some(
                json!({"budget": "100", "rpd": 50, "tpd": 100000, "cost_per_day": "10",
                        "expires_at": "2099-01-01T00:00:00Z"}),
            ),
        )
        .await;
    assert_eq!(s, 200);
    let (s, id, _) = w
        .chat(
            json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(s, 200);
    let row = w.tg.log_row(&id).await;
    let cost = row["cost"].as_str().unwrap().to_string();
    let r =
        w.tg.http
            .get(format!("{}/v1/token/balance", w.tg.proxy))
            .bearer_auth(&w.key)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["object"], "token_balance");
    assert_eq!(v["key"]["id"], w.key_id);
    assert_eq!(v["budget"], "100");
    assert_eq!(v["spend"], cost.as_str());
    let spent: f64 = cost.parse().unwrap();
    let remaining: f64 = v["remaining"].as_str().unwrap().parse().unwrap();
    assert!((remaining - (100.0 - spent)).abs() < 1e-6, "{v}");
    assert_eq!(v["daily"]["requests"]["used"], 1);
    assert_eq!(v["daily"]["requests"]["limit"], 50);
    assert_eq!(v["daily"]["requests"]["remaining"], 49);
    assert_eq!(v["daily"]["tokens"]["limit"], 100000);
    assert_eq!(v["daily"]["cost"]["limit"], "10");
    assert_eq!(v["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(v["expired"], false);
    // Without a key: 401.
    let r =
        w.tg.http
            .get(format!("{}/v1/token/balance", w.tg.proxy))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn model_routes_are_checked_and_config_redirects_load_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tollgate.toml");
    std::fs::write(
        &path,
        r#"
[[redirect]]
from = "claude"
to = "anthropic/claude-sonnet-4-6"

[[redirect]]
from = "balanced"
strategy = "weighted"
to = [{ target = "openai/gpt-4o", weight = 3 }, { target = "gemini/gemini-2.5-flash", weight = 1 }]
"#,
    )
    .unwrap();
    let tg = Tollgate::start_with(Options {
        args: vec!["--config".into(), path.display().to_string()],
        ..Default::default()
    })
    .await;
    let w = world_with(tg, "sk-ant-1").await;
    let (s, v) = w.tg.api("GET", "/api/model-routes", None).await;
    assert_eq!(s, 200);
    let claude = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "claude")
        .unwrap();
    assert_eq!(claude["from_config"], true);
    assert_eq!(claude["id"], Value::Null);
    let balanced = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "balanced")
        .unwrap();
    assert_eq!(balanced["strategy"], "weighted");
    assert_eq!(balanced["targets"][0]["weight"], 3);

    let (s, _, v) = w
        .chat(json!({"model": "claude", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 200, "{v}");
    let req = w.mock.last_request().unwrap();
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.json().unwrap()["model"], "claude-sonnet-4-6");

    for (body, field) in [
        (
            json!({"name": "claude", "targets": [{"target": "openai/x"}]}),
            "name",
        ),
        (
            json!({"name": "a b", "targets": [{"target": "openai/x"}]}),
            "name",
        ),
        (json!({"name": "r", "targets": []}), "targets"),
        (
            json!({"name": "r", "targets": [{"target": "nope"}]}),
            "targets",
        ),
        (
            json!({"name": "r", "targets": [{"target": "openai/x", "weight": 0}]}),
            "targets",
        ),
        (
            json!({"name": "r", "strategy": "best", "targets": [{"target": "openai/x"}]}),
            "strategy",
        ),
    ] {
        let (s, v) =
            w.tg.api("POST", "/api/model-routes", Some(body.clone()))
                .await;
        assert_eq!(s, 400, "{body}: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{field}`")), "{body}: {v}");
    }
    let ok = json!({"name": "r", "strategy": "round_robin", "targets": [{"target": "openai/x"}, {"target": "gemini/y", "weight": 2}]});
    let (s, v) =
        w.tg.api("POST", "/api/model-routes", Some(ok.clone()))
            .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, _) = w.tg.api("POST", "/api/model-routes", Some(ok)).await;
    assert_eq!(s, 409);
    let (s, v) =
        w.tg.api("GET", &format!("/api/model-routes/{id}"), None)
            .await;
    assert_eq!(s, 200);
    assert_eq!(v["strategy"], "round_robin");
    let (s, _) =
        w.tg.api("DELETE", &format!("/api/model-routes/{id}"), None)
            .await;
    assert_eq!(s, 204);
    let (s, _) =
        w.tg.api("GET", &format!("/api/model-routes/{id}"), None)
            .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn azure_openai_is_data_api_key_header_and_deployment_paths() {
    let mock = MockUpstream::start().await;
    let tg = Tollgate::start().await;
    let (s, v) = tg
        .api(
            "POST",
            "/api/providers",
            Some(json!({
                "name": "azure",
                "api_format": "openai",
                "base_url": mock.base_url(),
                "auth_scheme": "api-key",
                "path_template": "/openai/deployments/{model}{path}?api-version=2024-10-21",
            })),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["auth_scheme"], "api-key");
    let pid = v["id"].as_i64().unwrap();
    let kid = tg.create_provider_key(pid, "azure-secret-1").await;
    let (_, key) = tg.create_client_key(pid, &[kid]).await;
    // The Azure SDK sends its key in `api-key`; the OpenAI SDK in `Authorization`.
    let r = tg
        .http
        .post(format!("{}/v1/chat/completions?keep=1", tg.proxy))
        .header("api-key", &key)
        .json(&json!({"model": "gpt-4o-prod", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let req = mock.last_request().unwrap();
    assert_eq!(req.path, "/openai/deployments/gpt-4o-prod/chat/completions");
    assert_eq!(req.query.as_deref(), Some("api-version=2024-10-21&keep=1"));
    assert_eq!(req.header("api-key"), Some("azure-secret-1"));
    assert_eq!(req.header("authorization"), None);
    let (s, v) = tg
        .api(
            "POST",
            "/api/providers",
            Some(
                json!({"name": "bad", "api_format": "openai", "base_url": mock.base_url(),
                        "path_template": "/x/{deployment}"}),
            ),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("path_template"),
        "{v}"
    );
    let (s, v) = tg
        .api(
            "POST",
            "/api/providers",
            Some(json!({"name": "a/b", "api_format": "openai", "base_url": mock.base_url()})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
}

#[tokio::test]
async fn routes_provider_sets_and_model_lists_work_on_postgres() {
    let Some(admin_url) = common::postgres_url() else {
        return;
    };
    let db = common::PgDatabase::create(&admin_url).await;
    let tg = Tollgate::start_with(
        Options {
            database_url: Some(db.url.clone()),
            ..Default::default()
        }
        .env("TOLLGATE__SECURITY__MASTER_KEY", common::TEST_MASTER_KEY),
    )
    .await;
    let w = world_with(tg, "fail-401").await;
    let (s, _) =
        w.tg.api(
            "POST",
            "/api/model-routes",
            Some(json!({"name": "fast", "targets": [
                {"target": "anthropic/claude-haiku-4-5"}, {"target": "openai/gpt-4o-mini"}]})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, id, _) = w
        .chat(json!({"model": "fast", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 200);
    let row = w.tg.log_row(&id).await;
    assert_eq!(row["route"], "fast");
    assert_eq!(row["attempts"].as_array().unwrap().len(), 2, "{row}");
    w.refresh_models(w.gemini).await;
    let (s, _, v) = w
        .chat(json!({"model": "gemini-2.5-pro", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) =
        w.tg.api(
            "PATCH",
            &format!("/api/client-keys/{}", w.key_id),
            Some(json!({"provider_ids": [w.gemini, w.openai]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["provider_ids"], json!([w.gemini, w.openai]));
}

#[test]
fn a_bad_redirect_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[redirect]]\nfrom = \"fast\"\nto = [\"anthropic/claude-haiku-4-5\", \"not-a-target\"]\n",
    )
    .unwrap();
    let opts = Options::default();
    let out = common::command(dir.path(), common::free_port(), common::free_port(), &opts)
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("redirect[0]") && err.contains("fast") && err.contains("not-a-target"),
        "{err}"
    );
}
