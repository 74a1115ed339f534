#!/usr/bin/env python3
"""Drives the official OpenAI, Anthropic and Google GenAI Python SDKs against a base URL
(the mock upstream, or Tollgate's proxy port in front of it) and checks that they parse
every answer, streaming and not, and surface errors as their own exception types.

    pip install openai anthropic google-genai
    python3 sdk_check.py http://127.0.0.1:PORT [--openai-key K] [--anthropic-key K] [--gemini-key K]

Prints one line per check and ends with 'N passed, N failed'.
"""

import argparse
import sys
import traceback

import anthropic
import openai
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

RESULTS = []


def check(name):
    def wrap(fn):
        try:
            fn()
            RESULTS.append((name, None))
            print(f"ok    {name}")
        except Exception as exc:  # noqa: BLE001 - report every failure
            RESULTS.append((name, exc))
            print(f"FAIL  {name}: {exc!r}")
            traceback.print_exc(limit=3)
        return fn

    return wrap


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("--openai-key", default="sk-sdk-check")
    p.add_argument("--anthropic-key", default="sk-ant-sdk-check")
    p.add_argument("--gemini-key", default="gemini-sdk-check")
    p.add_argument("--skip-errors", action="store_true", help="skip the fail-* credential checks")
    a = p.parse_args()
    base = a.base.rstrip("/")

    oai = openai.OpenAI(base_url=f"{base}/v1", api_key=a.openai_key, max_retries=0)
    ant = anthropic.Anthropic(base_url=base, api_key=a.anthropic_key, max_retries=0)
    gem = genai.Client(
        api_key=a.gemini_key,
        http_options=genai_types.HttpOptions(base_url=base, api_version="v1beta"),
    )
    msgs = [{"role": "user", "content": "Say hello"}]

    @check("openai chat non-stream")
    def _():
        r = oai.chat.completions.create(model="gpt-4o-mini", messages=msgs)
        assert r.object == "chat.completion" and r.choices[0].finish_reason == "stop"
        assert r.choices[0].message.content and r.usage.prompt_tokens > 0
        assert r.usage.prompt_tokens_details.cached_tokens is not None

    @check("openai chat stream with include_usage")
    def _():
        chunks = list(
            oai.chat.completions.create(
                model="gpt-4o-mini",
                messages=msgs,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text, "no text"
        assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
        assert all(c.usage is None for c in chunks[:-1])

    @check("openai chat stream helper (accumulates)")
    def _():
        with oai.chat.completions.stream(model="gpt-4o-mini", messages=msgs) as s:
            final = s.get_final_completion()
        assert final.choices[0].message.content

    @check("openai legacy completions stream")
    def _():
        chunks = list(
            oai.completions.create(
                model="gpt-3.5-turbo-instruct",
                prompt="hi",
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        assert "".join(c.choices[0].text for c in chunks if c.choices)
        assert chunks[-1].usage.total_tokens > 0

    @check("openai responses non-stream")
    def _():
        r = oai.responses.create(model="gpt-4.1", input="hi")
        assert r.status == "completed" and r.output_text and r.usage.input_tokens > 0

    @check("openai responses stream")
    def _():
        with oai.responses.stream(model="gpt-4.1", input="hi") as s:
            deltas = [e.delta for e in s if e.type == "response.output_text.delta"]
            final = s.get_final_response()
        assert deltas and final.usage.output_tokens > 0 and final.output_text == "".join(deltas)

    @check("openai embeddings (SDK default base64)")
    def _():
        r = oai.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
        assert len(r.data) == 2 and len(r.data[0].embedding) == 16 and r.usage.prompt_tokens > 0

    @check("openai embeddings float")
    def _():
        r = oai.embeddings.create(
            model="text-embedding-3-small", input="a", encoding_format="float", dimensions=8
        )
        assert len(r.data[0].embedding) == 8

    @check("openai models list + retrieve")
    def _():
        ids = [m.id for m in oai.models.list()]
        assert "gpt-4o-mini" in ids
        assert oai.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"

    @check("anthropic messages non-stream")
    def _():
        r = ant.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=msgs)
        assert r.stop_reason == "end_turn" and r.content[0].text
        assert r.usage.cache_creation_input_tokens == 11 and r.usage.cache_read_input_tokens == 13

    @check("anthropic messages stream")
    def _():
        with ant.messages.stream(
            model="claude-sonnet-4-6", max_tokens=64, messages=msgs
        ) as s:
            text = "".join(s.text_stream)
            final = s.get_final_message()
        assert text and final.content[0].text == text and final.usage.output_tokens > 1

    @check("anthropic count_tokens")
    def _():
        r = ant.messages.count_tokens(model="claude-sonnet-4-6", messages=msgs)
        assert r.input_tokens > 0

    @check("gemini generate_content")
    def _():
        r = gem.models.generate_content(model="gemini-2.5-flash", contents="hi")
        assert r.text and r.usage_metadata.prompt_token_count > 0
        assert r.usage_metadata.thoughts_token_count > 0

    @check("gemini generate_content_stream")
    def _():
        parts = list(gem.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
        assert "".join(p.text or "" for p in parts)
        assert parts[-1].candidates[0].finish_reason == genai_types.FinishReason.STOP

    @check("gemini count_tokens + embed_content")
    def _():
        assert gem.models.count_tokens(model="gemini-2.5-flash", contents="hi").total_tokens > 0
        r = gem.models.embed_content(model="text-embedding-004", contents="hi")
        assert r.embeddings and len(r.embeddings[0].values) == 16

    if not a.skip_errors:

        @check("openai errors map to SDK exceptions")
        def _():
            cases = {
                "fail-401": openai.AuthenticationError,
                "fail-403": openai.PermissionDeniedError,
                "fail-429": openai.RateLimitError,
                "fail-500": openai.InternalServerError,
                "fail-503": openai.InternalServerError,
            }
            for key, exc in cases.items():
                c = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)
                try:
                    c.chat.completions.create(model="gpt-4o-mini", messages=msgs)
                except exc as e:
                    assert e.body and "message" in e.body, e.body
                else:
                    raise AssertionError(f"{key}: no error")

        @check("anthropic errors map to SDK exceptions")
        def _():
            cases = {
                "fail-401": anthropic.AuthenticationError,
                "fail-403": anthropic.PermissionDeniedError,
                "fail-429": anthropic.RateLimitError,
                "fail-500": anthropic.InternalServerError,
            }
            for key, exc in cases.items():
                c = anthropic.Anthropic(base_url=base, api_key=key, max_retries=0)
                try:
                    c.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=msgs)
                except exc:
                    pass
                else:
                    raise AssertionError(f"{key}: no error")

        @check("gemini errors map to SDK exceptions")
        def _():
            for key, code in {"fail-429": 429, "fail-500": 500, "fail-401": 401}.items():
                c = genai.Client(
                    api_key=key,
                    http_options=genai_types.HttpOptions(base_url=base, api_version="v1beta"),
                )
                try:
                    c.models.generate_content(model="gemini-2.5-flash", contents="hi")
                except genai_errors.APIError as e:
                    assert e.code == code, (key, e.code)
                else:
                    raise AssertionError(f"{key}: no error")

    passed = sum(1 for _, e in RESULTS if e is None)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
