//! Model lists on the wire: reading a provider's own list (OpenAI `data[].id`, Anthropic
//! `data[].id` paged by `after_id`, Gemini `models[].name` paged by `pageToken`) and rendering
//! the list a unified client sees (OpenAI's list format, or Anthropic's for Anthropic clients).

use serde_json::{Value, json};

use super::ApiFormat;

/// Most models asked for per page (the largest page Anthropic and Gemini allow).
const PAGE_SIZE: u32 = 1000;

/// One page of a provider's model list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelPage {
    /// The model ids, as the provider names them in requests (Gemini's `models/` dropped).
    pub ids: Vec<String>,
    /// The cursor of the next page, when the provider says there is one.
    pub next: Option<String>,
}

/// The query of a model-list request: the largest page, after `cursor` (from the previous
/// page's [`ModelPage::next`]). `None` for OpenAI-format providers, which do not page.
pub fn model_list_query(format: ApiFormat, cursor: Option<&str>) -> Option<String> {
    let encode = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    match (format, cursor) {
        (ApiFormat::OpenAi, _) => None,
        (ApiFormat::Anthropic, None) => Some(format!("limit={PAGE_SIZE}")),
        (ApiFormat::Anthropic, Some(c)) => {
            Some(format!("limit={PAGE_SIZE}&after_id={}", encode(c)))
        }
        (ApiFormat::Gemini, None) => Some(format!("pageSize={PAGE_SIZE}")),
        (ApiFormat::Gemini, Some(c)) => {
            Some(format!("pageSize={PAGE_SIZE}&pageToken={}", encode(c)))
        }
    }
}

/// Reads one page of a provider's model list; `None` when the body is not a list of the format.
pub fn parse_model_list(format: ApiFormat, body: &[u8]) -> Option<ModelPage> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    match format {
        ApiFormat::OpenAi | ApiFormat::Anthropic => {
            let data = value.get("data")?.as_array()?;
            let ids = data.iter().filter_map(|m| text(m, "id")).collect();
            let more = value.get("has_more").and_then(Value::as_bool) == Some(true);
            let next = match format {
                ApiFormat::Anthropic if more => text(&value, "last_id"),
                _ => None,
            };
            Some(ModelPage { ids, next })
        }
        ApiFormat::Gemini => {
            let models = match value.get("models") {
                Some(m) => m.as_array()?.as_slice(),
                // An empty list comes back as `{}`.
                None if value.is_object() && value.get("error").is_none() => &[],
                None => return None,
            };
            let ids = models
                .iter()
                .filter_map(|m| text(m, "name"))
                .map(|n| n.strip_prefix("models/").map(str::to_string).unwrap_or(n))
                .collect();
            let next = text(&value, "nextPageToken").filter(|t| !t.is_empty());
            Some(ModelPage { ids, next })
        }
    }
}

/// One model as the `front` format describes it (`owner`: who serves it).
fn model_value(front: ApiFormat, id: &str, owner: &str) -> Value {
    match front {
        ApiFormat::Anthropic => json!({
            "type": "model", "id": id, "display_name": id,
            "created_at": "1970-01-01T00:00:00Z"
        }),
        _ => json!({"id": id, "object": "model", "created": 0, "owned_by": owner}),
    }
}

/// A model list in the `front` format: OpenAI's `{"object":"list","data":[…]}`, or Anthropic's
/// `{"data":[…],"has_more":false,…}` for Anthropic clients. `models`: (id, owner) pairs.
pub fn render_model_list(front: ApiFormat, models: &[(String, String)]) -> Vec<u8> {
    let data: Vec<Value> = models
        .iter()
        .map(|(id, owner)| model_value(front, id, owner))
        .collect();
    let value = match front {
        ApiFormat::Anthropic => json!({
            "data": data,
            "has_more": false,
            "first_id": models.first().map(|m| m.0.as_str()),
            "last_id": models.last().map(|m| m.0.as_str()),
        }),
        _ => json!({"object": "list", "data": data}),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// One model in the `front` format (`GET /v1/models/{id}`).
pub fn render_model(front: ApiFormat, id: &str, owner: &str) -> Vec<u8> {
    serde_json::to_vec(&model_value(front, id, owner)).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn openai_lists_from_the_documented_shape() {
        // https://platform.openai.com/docs/api-reference/models/list
        let body = br#"{"object":"list","data":[
            {"id":"model-id-0","object":"model","created":1686935002,"owned_by":"organization-owner"},
            {"id":"model-id-1","object":"model","created":1686935002,"owned_by":"organization-owner"},
            {"id":"meta-llama/llama-3.1-70b-instruct","object":"model","created":1,"owned_by":"openrouter"}
        ]}"#;
        let page = parse_model_list(ApiFormat::OpenAi, body).unwrap();
        assert_eq!(
            page.ids,
            [
                "model-id-0",
                "model-id-1",
                "meta-llama/llama-3.1-70b-instruct"
            ]
        );
        assert_eq!(page.next, None);
        assert_eq!(model_list_query(ApiFormat::OpenAi, None), None);
    }

    #[test]
    fn anthropic_pages_by_last_id() {
        // https://docs.anthropic.com/en/api/models-list
        let body = br#"{"data":[{"created_at":"2025-02-19T00:00:00Z","display_name":"Claude Sonnet 4","id":"claude-sonnet-4-20250514","type":"model"}],
            "first_id":"claude-sonnet-4-20250514","has_more":true,"last_id":"claude-sonnet-4-20250514"}"#;
        let page = parse_model_list(ApiFormat::Anthropic, body).unwrap();
        assert_eq!(page.ids, ["claude-sonnet-4-20250514"]);
        assert_eq!(page.next.as_deref(), Some("claude-sonnet-4-20250514"));
        let last = br#"{"data":[],"first_id":null,"has_more":false,"last_id":null}"#;
        assert_eq!(
            parse_model_list(ApiFormat::Anthropic, last).unwrap(),
            ModelPage::default()
        );
        assert_eq!(
            model_list_query(ApiFormat::Anthropic, Some("a b")).unwrap(),
            "limit=1000&after_id=a%20b"
        );
    }

    #[test]
    fn gemini_drops_the_models_prefix_and_pages_by_token() {
        // https://ai.google.dev/api/models#method:-models.list
        let body = br#"{"models":[{"name":"models/gemini-2.5-flash","version":"001","displayName":"Gemini 2.5 Flash",
            "supportedGenerationMethods":["generateContent","countTokens"]},{"name":"models/text-embedding-004"}],
            "nextPageToken":"Ch4KHG1vZGVscy"}"#;
        let page = parse_model_list(ApiFormat::Gemini, body).unwrap();
        assert_eq!(page.ids, ["gemini-2.5-flash", "text-embedding-004"]);
        assert_eq!(page.next.as_deref(), Some("Ch4KHG1vZGVscy"));
        assert_eq!(
            parse_model_list(ApiFormat::Gemini, b"{}").unwrap(),
            ModelPage::default()
        );
        assert_eq!(
            model_list_query(ApiFormat::Gemini, Some("x/y=")).unwrap(),
            "pageSize=1000&pageToken=x%2Fy%3D"
        );
    }

    #[test]
    fn other_bodies_are_not_lists() {
        for f in ApiFormat::ALL {
            assert!(parse_model_list(f, b"not json").is_none());
            assert!(parse_model_list(f, b"[1]").is_none());
            assert!(parse_model_list(f, br#"{"error":{"message":"x"}}"#).is_none());
        }
        assert!(parse_model_list(ApiFormat::OpenAi, br#"{"data":5}"#).is_none());
    }

    #[test]
    fn unified_lists_in_each_clients_format() {
        let models = vec![
            ("openai/gpt-4o".to_string(), "openai".to_string()),
            ("fast".to_string(), "tollgate".to_string()),
        ];
        let v: Value =
            serde_json::from_slice(&render_model_list(ApiFormat::OpenAi, &models)).unwrap();
        assert_eq!(
            v,
            json!({"object": "list", "data": [
                {"id": "openai/gpt-4o", "object": "model", "created": 0, "owned_by": "openai"},
                {"id": "fast", "object": "model", "created": 0, "owned_by": "tollgate"}
            ]})
        );
        let v: Value =
            serde_json::from_slice(&render_model_list(ApiFormat::Anthropic, &models)).unwrap();
        assert_eq!(v["data"][0]["type"], "model");
        assert_eq!(v["data"][1]["id"], "fast");
        assert_eq!(v["has_more"], false);
        assert_eq!(v["last_id"], "fast");
        let v: Value =
            serde_json::from_slice(&render_model(ApiFormat::OpenAi, "fast", "tollgate")).unwrap();
        assert_eq!(v["id"], "fast");
    }
}
