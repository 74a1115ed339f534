//! Token estimates for answers whose provider usage never arrived (the stream was cut before
//! the provider's usage report): the delivered text is counted with a real tokenizer, so a
//! delivered answer is never recorded as free.
//!
//! The tokenizer is OpenAI's `o200k_base` (GPT-4o, GPT-4.1, GPT-5, o-series); GPT-4 and
//! GPT-3.5 models use `cl100k_base`. For Anthropic and Gemini models, whose tokenizers are not
//! public, `o200k_base` counts stand in as an approximation (documented in docs/architecture.md).
//! Each tokenizer is loaded on first use (about 0.2 s and some MiB), never on the hot path.

use crate::providers::{TextSink, Usage};
use std::sync::Arc;
use tiktoken_rs::CoreBPE;
use tokio::sync::OnceCell;

/// The two tokenizers, each loaded when first needed.
#[derive(Default)]
pub struct Estimator {
    o200k: OnceCell<Option<Arc<CoreBPE>>>,
    cl100k: OnceCell<Option<Arc<CoreBPE>>>,
}

/// What an estimate is made from.
pub struct EstimateInput<'a> {
    pub model: Option<&'a str>,
    /// The request body (its text content is counted for the input side).
    pub request_body: &'a [u8],
    /// Input figures the provider did report before the cut (Anthropic's `message_start`,
    /// Gemini's running `usageMetadata`), kept as they are.
    pub reported: Option<Usage>,
    /// Generated text seen in the answer.
    pub text: &'a TextSink,
    /// Answer body bytes seen, for answers whose text was not collected (non-streamed JSON).
    pub body_bytes: u64,
}

impl Estimator {
    async fn bpe(&self, model: Option<&str>) -> Option<Arc<CoreBPE>> {
        let legacy = model
            .is_some_and(|m| m.starts_with("gpt-4-") || m == "gpt-4" || m.starts_with("gpt-3.5"));
        let (cell, load): (_, fn() -> anyhow::Result<CoreBPE>) = if legacy {
            (&self.cl100k, tiktoken_rs::cl100k_base)
        } else {
            (&self.o200k, tiktoken_rs::o200k_base)
        };
        cell.get_or_init(|| async move {
            match tokio::task::spawn_blocking(load).await {
                Ok(Ok(bpe)) => Some(Arc::new(bpe)),
                Ok(Err(e)) => {
                    tracing::error!("cannot load the tokenizer: {e}");
                    None
                }
                Err(e) => {
                    tracing::error!("cannot load the tokenizer: {e}");
                    None
                }
            }
        })
        .await
        .clone()
    }

    /// Usage for an answer cut before the provider reported it: input as reported (else the
    /// request's text, counted), output as the generated text seen, counted.
    pub async fn estimate(&self, input: EstimateInput<'_>) -> Usage {
        let bpe = self.bpe(input.model).await;
        let prompt_text = request_text(input.request_body);
        let generated = String::from_utf8_lossy(input.text.kept()).into_owned();
        let overflow = input.text.overflow();
        let body_bytes = input.body_bytes;
        let counted = tokio::task::spawn_blocking(move || {
            let count = |s: &str| match &bpe {
                Some(b) => b.encode_ordinary(s).len() as u64,
                // Without a tokenizer: about four bytes a token.
                None => (s.len() as u64).div_ceil(4),
            };
            let prompt = count(&prompt_text);
            let mut output = count(&generated);
            if overflow > 0 && !generated.is_empty() {
                // Text beyond what was kept is counted at the same rate.
                let rate = output as f64 / generated.len() as f64;
                output += (overflow as f64 * rate).ceil() as u64;
            }
            if generated.is_empty() && overflow == 0 && body_bytes > 0 {
                output = body_bytes.div_ceil(4);
            }
            (prompt, output)
        })
        .await
        .unwrap_or((0, 0));
        let (prompt, output) = counted;
        match input.reported {
            Some(mut u) => {
                if u.prompt_tokens == 0 {
                    u.prompt_tokens = prompt;
                }
                u.completion_tokens = u.completion_tokens.max(output);
                u
            }
            None => Usage {
                prompt_tokens: prompt,
                completion_tokens: output,
                prompt_includes_cache: true,
                ..Usage::default()
            },
        }
    }
}

/// The text of a request: every string value of its JSON body, space-separated (keys, numbers
/// and punctuation left out). Not JSON: the body as text.
pub fn request_text(body: &[u8]) -> String {
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(s);
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    // Identifiers, not text the model reads.
                    if !matches!(
                        k.as_str(),
                        "model" | "role" | "type" | "id" | "tool_call_id"
                    ) {
                        walk(x, out);
                    }
                }
            }
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            let mut out = String::new();
            walk(&v, &mut out);
            out
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn request_text_keeps_only_what_the_model_reads() {
        let t = request_text(
            br#"{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hello there"}]}],"max_tokens":5}"#,
        );
        assert_eq!(t, "Be brief. Hello there");
        assert_eq!(request_text(b"plain words"), "plain words");
    }

    #[tokio::test]
    async fn estimates_count_real_tokens() {
        let e = Estimator::default();
        let mut sink = TextSink::new(1 << 16);
        sink.push(b"Hello from the mock upstream, friend.");
        let u = e
            .estimate(EstimateInput {
                model: Some("gpt-4o-mini"),
                request_body: br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}"#,
                reported: None,
                text: &sink,
                body_bytes: 0,
            })
            .await;
        // o200k_base: "Say hello" is 2 tokens; the answer 8.
        assert_eq!(u.prompt_tokens, 2);
        assert_eq!(u.completion_tokens, 8);
        // Reported input figures are kept; the output is never below what was counted.
        let reported = Usage {
            prompt_tokens: 472,
            completion_tokens: 1,
            cache_read_tokens: 2048,
            ..Usage::default()
        };
        let u = e
            .estimate(EstimateInput {
                model: Some("claude-sonnet-4-5"),
                request_body: b"{}",
                reported: Some(reported),
                text: &sink,
                body_bytes: 0,
            })
            .await;
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.cache_read_tokens),
            (472, 8, 2048)
        );
    }
}
