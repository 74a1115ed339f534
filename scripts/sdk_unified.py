"""The official OpenAI and Anthropic Python SDKs, unchanged, against Tollgate's unified API.

Run by tests/sdk.rs (which starts the real binary and a mock upstream speaking OpenAI,
Anthropic and Gemini, and sets up one client key reaching all three) with the venv of
scripts/sdk-venv.sh. Environment: TOLLGATE_PROXY (http://host:port), TOLLGATE_KEY.

Each case asserts what the SDK returned; a case that made one upstream call which succeeded
prints one JSON line `{"case", "usage"}` with the usage the SDK reported, in order, so the Rust
test can compare it with the figures the mock upstream sent. Any failure raises (exit != 0).
"""

import json
import os
import sys

import anthropic
import openai

PROXY = os.environ["TOLLGATE_PROXY"]
KEY = os.environ["TOLLGATE_KEY"]

# A 1x1 PNG.
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}

ANTHROPIC_WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": WEATHER_TOOL["function"]["parameters"],
}


def report(case, usage):
    print(json.dumps({"case": case, "usage": usage}), flush=True)


def openai_usage(u):
    cached = 0
    if u.prompt_tokens_details is not None and u.prompt_tokens_details.cached_tokens:
        cached = u.prompt_tokens_details.cached_tokens
    return {
        "format": "openai",
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "cached_tokens": cached,
    }


def anthropic_usage(u):
    return {
        "format": "anthropic",
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens or 0,
        "cache_creation_input_tokens": u.cache_creation_input_tokens or 0,
    }


def openai_cases(client, model):
    tag = model.split("/")[0]

    # Text, not streamed.
    r = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}],
        max_tokens=64,
        temperature=0.2,
    )
    assert r.object == "chat.completion", r
    assert r.choices[0].message.role == "assistant"
    assert "mock" in r.choices[0].message.content, r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop", r.choices[0].finish_reason
    report(f"openai->{tag} text", openai_usage(r.usage))

    # Text, streamed, with the usage chunk.
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Say hello."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, finish = "", None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                text += choice.delta.content
            if choice.finish_reason:
                finish = choice.finish_reason
    assert "mock" in text, text
    assert finish == "stop", finish
    assert usage is not None, "no usage chunk"
    report(f"openai->{tag} stream", openai_usage(usage))

    # A tool call, then the tool's result and the final answer.
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    r = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    calls = r.choices[0].message.tool_calls
    assert calls and calls[0].function.name == "get_weather", r
    args = json.loads(calls[0].function.arguments)
    assert args["city"] == "mock" and args["unit"] == "celsius", args
    assert r.choices[0].finish_reason == "tool_calls", r.choices[0].finish_reason
    report(f"openai->{tag} tool call", openai_usage(r.usage))
    messages.append(r.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": calls[0].id, "content": json.dumps({"temp_c": 21})})
    r = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    assert "mock" in r.choices[0].message.content, r
    report(f"openai->{tag} tool result", openai_usage(r.usage))

    # A tool call, streamed: argument fragments assemble into JSON.
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
        stream=True,
        stream_options={"include_usage": True},
    )
    name, arguments, usage, call_id = None, "", None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                if tc.id:
                    call_id = tc.id
                if tc.function and tc.function.name:
                    name = tc.function.name
                if tc.function and tc.function.arguments:
                    arguments += tc.function.arguments
    assert name == "get_weather" and call_id, (name, call_id)
    assert json.loads(arguments)["city"] == "mock", arguments
    report(f"openai->{tag} tool call stream", openai_usage(usage))

    # An image.
    r = client.chat.completions.create(
        model=model,
        messages=[{
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
            ],
        }],
    )
    assert "mock" in r.choices[0].message.content
    report(f"openai->{tag} image", openai_usage(r.usage))


def openai_errors(client):
    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("unknown model accepted")
    except openai.NotFoundError as e:
        assert e.status_code == 404
        assert "anthropic" in e.message, e.message

    try:
        client.chat.completions.create(
            model="anthropic/claude-haiku-4-5",
            messages=[{"role": "user", "content": "hi"}],
            response_format={"type": "json_object"},
        )
        raise AssertionError("unsupported parameter accepted")
    except openai.BadRequestError as e:
        assert e.param == "response_format", e.body
        assert e.code == "unsupported_parameter", e.body

    # The back end's own refusal (a model the account may not use), in OpenAI's shape.
    try:
        client.chat.completions.create(model="anthropic/forbidden-model", messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("forbidden model accepted")
    except openai.PermissionDeniedError as e:
        assert e.status_code == 403

    bad = openai.OpenAI(base_url=f"{PROXY}/v1", api_key="tg-not-a-key", max_retries=0)
    try:
        bad.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("bad key accepted")
    except openai.AuthenticationError as e:
        assert e.status_code == 401

    # The model list.
    ids = [m.id for m in client.models.list()]
    assert "anthropic/claude-sonnet-4-6" in ids and "gemini/gemini-2.5-flash" in ids, ids


def anthropic_cases(client, model):
    tag = model.split("/")[0]
    m = client.messages.create(
        model=model,
        max_tokens=64,
        system="Be brief.",
        messages=[{"role": "user", "content": "Say hello."}],
    )
    assert m.type == "message" and m.role == "assistant"
    assert "mock" in m.content[0].text, m
    assert m.stop_reason == "end_turn", m.stop_reason
    report(f"anthropic->{tag} text", anthropic_usage(m.usage))

    with client.messages.stream(
        model=model, max_tokens=64, messages=[{"role": "user", "content": "Say hello."}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert "mock" in text, text
    assert final.stop_reason == "end_turn", final.stop_reason
    report(f"anthropic->{tag} stream", anthropic_usage(final.usage))

    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    m = client.messages.create(model=model, max_tokens=64, messages=messages, tools=[ANTHROPIC_WEATHER_TOOL])
    uses = [b for b in m.content if b.type == "tool_use"]
    assert uses and uses[0].name == "get_weather", m
    assert uses[0].input["city"] == "mock", uses[0].input
    assert m.stop_reason == "tool_use", m.stop_reason
    report(f"anthropic->{tag} tool call", anthropic_usage(m.usage))
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]})
    messages.append({
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "21 degrees"}],
    })
    m = client.messages.create(model=model, max_tokens=64, messages=messages, tools=[ANTHROPIC_WEATHER_TOOL])
    assert "mock" in m.content[0].text, m
    report(f"anthropic->{tag} tool result", anthropic_usage(m.usage))

    with client.messages.stream(
        model=model,
        max_tokens=64,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[ANTHROPIC_WEATHER_TOOL],
    ) as stream:
        final = stream.get_final_message()
    uses = [b for b in final.content if b.type == "tool_use"]
    assert uses and uses[0].input["city"] == "mock", final
    report(f"anthropic->{tag} tool call stream", anthropic_usage(final.usage))


def anthropic_errors(client):
    try:
        client.messages.create(model="no-such-model", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("unknown model accepted")
    except anthropic.NotFoundError as e:
        assert e.status_code == 404
    try:
        client.messages.create(
            model="openai/gpt-4o-mini",
            max_tokens=5,
            messages=[{"role": "user", "content": "hi"}],
            thinking={"type": "enabled", "budget_tokens": 1024},
        )
        raise AssertionError("unsupported parameter accepted")
    except anthropic.BadRequestError as e:
        assert "thinking" in str(e), e


def main():
    oa = openai.OpenAI(base_url=f"{PROXY}/v1", api_key=KEY, max_retries=0)
    for model in ("anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash"):
        openai_cases(oa, model)
    openai_errors(oa)
    an = anthropic.Anthropic(base_url=PROXY, api_key=KEY, max_retries=0)
    anthropic_cases(an, "openai/gpt-4o-mini")
    anthropic_errors(an)
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback

        traceback.print_exc()
        sys.exit(1)
