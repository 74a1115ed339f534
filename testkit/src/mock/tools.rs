//! Tool calling in the mock: when it calls a tool instead of answering with text, which tools,
//! and with what arguments. The same rule for all three wire formats:
//!
//! - the request defines function tools (OpenAI `tools[].function`, Anthropic `tools[]`,
//!   Gemini `tools[].functionDeclarations[]`);
//! - the tool choice does not forbid calls (OpenAI `"none"`, Anthropic `{"type":"none"}`,
//!   Gemini mode `NONE`);
//! - the last message is a user turn that carries no tool result (OpenAI role `user`, Anthropic
//!   role `user` without `tool_result` blocks, Gemini role `user` without `functionResponse`).
//!
//! Then the mock calls the tool the choice names (OpenAI named function, Anthropic `tool`,
//! Gemini `allowedFunctionNames[0]`), else the first tool; when the last user text contains
//! the word `parallel` (and parallel calls are not turned off), it calls every defined tool at
//! once. Arguments follow each tool's JSON schema: every property gets its first `enum` value,
//! else `"mock"` (string), `1` (integer), `1.5` (number), `true` (boolean), `[]` or `{}`.
//! After a tool result the mock answers with text as usual.

use serde_json::{Map, Value, json};

use super::Provider;

/// One tool call the mock will make.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlannedCall {
    pub name: String,
    /// The arguments object.
    pub arguments: Value,
}

impl PlannedCall {
    /// The arguments as JSON text.
    pub fn arguments_text(&self) -> String {
        self.arguments.to_string()
    }

    /// The arguments text in pieces of about `size` characters, as streamed fragments.
    pub fn fragments(&self, size: usize) -> Vec<String> {
        let text = self.arguments_text();
        let chars: Vec<char> = text.chars().collect();
        chars
            .chunks(size.max(1))
            .map(|c| c.iter().collect())
            .collect()
    }
}

/// A declared tool: its name and argument schema.
struct Declared<'a> {
    name: &'a str,
    schema: Option<&'a Value>,
}

fn declared(provider: Provider, request: &Value) -> Vec<Declared<'_>> {
    let tools = request
        .get("tools")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Vec::new();
    for t in tools {
        match provider {
            Provider::OpenAi => {
                if let Some(f) = t.get("function")
                    && let Some(name) = f.get("name").and_then(Value::as_str)
                {
                    out.push(Declared {
                        name,
                        schema: f.get("parameters"),
                    });
                }
            }
            Provider::Anthropic => {
                if let Some(name) = t.get("name").and_then(Value::as_str) {
                    out.push(Declared {
                        name,
                        schema: t.get("input_schema"),
                    });
                }
            }
            Provider::Gemini => {
                let decls = t
                    .get("functionDeclarations")
                    .or_else(|| t.get("function_declarations"))
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for d in decls {
                    if let Some(name) = d.get("name").and_then(Value::as_str) {
                        out.push(Declared {
                            name,
                            schema: d
                                .get("parametersJsonSchema")
                                .or_else(|| d.get("parameters")),
                        });
                    }
                }
            }
        }
    }
    out
}

/// What the tool choice allows: `None` = no calls; `Some(name)` = that tool; `Some("")` = any.
fn choice(provider: Provider, request: &Value) -> (Option<String>, bool) {
    let any = Some(String::new());
    match provider {
        Provider::OpenAi => {
            let parallel = request.get("parallel_tool_calls") != Some(&Value::Bool(false));
            let choice = match request.get("tool_choice") {
                Some(Value::String(s)) if s == "none" => None,
                Some(Value::Object(o)) => o
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or(any),
                _ => any,
            };
            (choice, parallel)
        }
        Provider::Anthropic => {
            let c = request.get("tool_choice");
            let parallel = c
                .and_then(|c| c.get("disable_parallel_tool_use"))
                .and_then(Value::as_bool)
                != Some(true);
            let choice = match c.and_then(|c| c.get("type")).and_then(Value::as_str) {
                Some("none") => None,
                Some("tool") => c
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => any,
            };
            (choice, parallel)
        }
        Provider::Gemini => {
            let config = request
                .get("toolConfig")
                .or_else(|| request.get("tool_config"))
                .and_then(|c| {
                    c.get("functionCallingConfig")
                        .or_else(|| c.get("function_calling_config"))
                });
            let mode = config.and_then(|c| c.get("mode")).and_then(Value::as_str);
            let allowed = config
                .and_then(|c| {
                    c.get("allowedFunctionNames")
                        .or_else(|| c.get("allowed_function_names"))
                })
                .and_then(|a| a.get(0))
                .and_then(Value::as_str);
            let choice = match (mode, allowed) {
                (Some("NONE"), _) => None,
                (_, Some(name)) => Some(name.to_string()),
                _ => any,
            };
            (choice, true)
        }
    }
}

/// The text of the last message when it is a user turn without tool results.
fn last_user_text(provider: Provider, request: &Value) -> Option<String> {
    let (list, role, user, content) = match provider {
        Provider::OpenAi => ("messages", "role", "user", "content"),
        Provider::Anthropic => ("messages", "role", "user", "content"),
        Provider::Gemini => ("contents", "role", "user", "parts"),
    };
    let last = request.get(list)?.as_array()?.last()?;
    let role_ok = match provider {
        // Gemini's role may be left out for a user turn.
        Provider::Gemini => last.get(role).and_then(Value::as_str).unwrap_or("user") == user,
        _ => last.get(role).and_then(Value::as_str) == Some(user),
    };
    if !role_ok {
        return None;
    }
    let mut text = String::new();
    match last.get(content) {
        Some(Value::String(s)) => text.push_str(s),
        Some(Value::Array(parts)) => {
            for p in parts {
                let is_result = match provider {
                    Provider::Anthropic => {
                        p.get("type").and_then(Value::as_str) == Some("tool_result")
                    }
                    Provider::Gemini => {
                        p.get("functionResponse").is_some() || p.get("function_response").is_some()
                    }
                    Provider::OpenAi => false,
                };
                if is_result {
                    return None;
                }
                if let Some(t) = p.get("text").and_then(Value::as_str) {
                    text.push_str(t);
                    text.push(' ');
                }
            }
        }
        _ => {}
    }
    Some(text)
}

/// A value for one schema.
fn sample(schema: &Value) -> Value {
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    let kind = match schema.get("type") {
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string")
            .to_ascii_lowercase(),
        _ => "string".to_string(),
    };
    match kind.as_str() {
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(true),
        "array" => json!([]),
        "object" => arguments(Some(schema)),
        _ => json!("mock"),
    }
}

/// Arguments for a tool: every property of its schema gets a value.
fn arguments(schema: Option<&Value>) -> Value {
    let mut out = Map::new();
    if let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    {
        for (name, prop) in props {
            out.insert(name.clone(), sample(prop));
        }
    }
    Value::Object(out)
}

/// The calls the mock makes for this request (empty: answer with text).
pub(crate) fn planned_calls(provider: Provider, request: &Value) -> Vec<PlannedCall> {
    let tools = declared(provider, request);
    if tools.is_empty() {
        return Vec::new();
    }
    let (choice, parallel_allowed) = choice(provider, request);
    let Some(choice) = choice else {
        return Vec::new();
    };
    let Some(text) = last_user_text(provider, request) else {
        return Vec::new();
    };
    let call = |t: &Declared<'_>| PlannedCall {
        name: t.name.to_string(),
        arguments: arguments(t.schema),
    };
    if !choice.is_empty() {
        return tools
            .iter()
            .find(|t| t.name == choice)
            .map(call)
            .into_iter()
            .collect();
    }
    if parallel_allowed && text.to_ascii_lowercase().contains("parallel") {
        return tools.iter().map(call).collect();
    }
    tools.first().map(call).into_iter().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn weather() -> Value {
        json!({"type": "object", "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
            "detailed": {"type": ["boolean", "null"]}
        }, "required": ["location"]})
    }

    #[test]
    fn openai_rules() {
        let mut req = json!({
            "messages": [{"role": "user", "content": "weather?"}],
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "parameters": weather()}},
                {"type": "function", "function": {"name": "get_time"}}
            ]
        });
        let calls = planned_calls(Provider::OpenAi, &req);
        assert_eq!(
            calls,
            [PlannedCall {
                name: "get_weather".into(),
                arguments: json!({"location": "mock", "unit": "celsius", "days": 1, "detailed": true})
            }]
        );
        req["messages"][0]["content"] = json!("do these in PARALLEL please");
        assert_eq!(planned_calls(Provider::OpenAi, &req).len(), 2);
        req["parallel_tool_calls"] = json!(false);
        assert_eq!(planned_calls(Provider::OpenAi, &req).len(), 1);
        req["tool_choice"] = json!({"type": "function", "function": {"name": "get_time"}});
        assert_eq!(planned_calls(Provider::OpenAi, &req)[0].name, "get_time");
        req["tool_choice"] = json!("none");
        assert!(planned_calls(Provider::OpenAi, &req).is_empty());
        req["tool_choice"] = json!("auto");
        req["messages"] = json!([{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "c", "content": "sunny"}]);
        assert!(planned_calls(Provider::OpenAi, &req).is_empty());
    }

    #[test]
    fn anthropic_and_gemini_rules() {
        let req = json!({
            "messages": [{"role": "user", "content": [{"type": "text", "text": "weather?"}]}],
            "tools": [{"name": "get_weather", "input_schema": weather()}],
            "tool_choice": {"type": "any"}
        });
        assert_eq!(planned_calls(Provider::Anthropic, &req).len(), 1);
        let after = json!({
            "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x"}]}],
            "tools": [{"name": "get_weather", "input_schema": weather()}]
        });
        assert!(planned_calls(Provider::Anthropic, &after).is_empty());
        let gemini = json!({
            "contents": [{"role": "user", "parts": [{"text": "parallel please"}]}],
            "tools": [{"functionDeclarations": [{"name": "a"}, {"name": "b", "parametersJsonSchema": weather()}]}],
        });
        let calls = planned_calls(Provider::Gemini, &gemini);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].arguments["unit"], "celsius");
        let mut named = gemini.clone();
        named["toolConfig"] =
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["b"]}});
        assert_eq!(planned_calls(Provider::Gemini, &named)[0].name, "b");
        named["toolConfig"]["functionCallingConfig"]["mode"] = json!("NONE");
        assert!(planned_calls(Provider::Gemini, &named).is_empty());
        let answered = json!({
            "contents": [{"role": "user", "parts": [{"functionResponse": {"name": "a", "response": {}}}]}],
            "tools": [{"functionDeclarations": [{"name": "a"}]}],
        });
        assert!(planned_calls(Provider::Gemini, &answered).is_empty());
    }

    #[test]
    fn fragments_rejoin() {
        let call = PlannedCall {
            name: "f".into(),
            arguments: json!({"location": "Zürich", "n": 1}),
        };
        let parts = call.fragments(5);
        assert!(parts.len() > 2);
        assert_eq!(parts.concat(), call.arguments_text());
    }
}
