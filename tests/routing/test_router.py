"""Router.route: the shipped policy against a table of requests, every question answered both ways, every
leaf reached; and how a route reads hints, counts the prompt (inline or off the loop) and reports the counts.

Requests go through the same parsing and routing as real ones; only the upstream call is left out.
Decisions on features no HTTP request produces are in test_decide.py.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest
from starlette.datastructures import Headers

from gateway.errors import ContextLengthExceeded, InvalidRequest, ModelNotFound
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.json_body import parse_json_body
from gateway.inbound.multipart_body import parse_multipart_body
from gateway.routing import token_count
from gateway.routing.model_facts import ModelCatalog
from gateway.routing.model_traits import ModelTraitsTable
from gateway.routing.policy import Leaf, Policy
from gateway.routing.router import Routed, Router
from gateway.routing.setup import build_router
from gateway.routing.token_count import TokenCounter
from gateway.settings import load_config
from gateway.settings.schema import DeploymentSettings
from tests.support.gateway_config import SHIPPED_CONFIG

ENV = {"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_API_KEY": "k"}
PNG_URL = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
HTTP_IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
LONG_TEXT = "the quarterly report covers revenue and churn. " * 700  # ~6k tokens in cl100k
VERY_LONG_TEXT = "the quarterly report covers revenue and churn. " * 2600  # ~23k tokens
HUGE_TEXT = "the quarterly report covers revenue and churn. " * 4500  # ~40k tokens


@pytest.fixture(scope="module")
def router() -> Router:
    return build_router(load_config(SHIPPED_CONFIG, ENV))


def chat(text: str | list[dict[str, Any]], model: str = "auto", **extra: Any) -> tuple[str, dict[str, Any]]:
    return "chat/completions", {"model": model, "messages": [{"role": "user", "content": text}], **extra}


@dataclass
class Case:
    name: str
    request: tuple[str, dict[str, Any]]
    model: str
    answers: dict[str, str] = field(default_factory=dict)  # question node → yes/no, for the ones that matter
    headers: dict[str, str] = field(default_factory=dict)


def body_of(operation: str, payload: dict[str, Any]) -> Any:
    endpoint = ENDPOINTS[operation]
    if endpoint.body_kind == "json":
        return parse_json_body(endpoint, "application/json", orjson.dumps(payload))
    files = payload.pop("_files")
    request = httpx.Request("POST", "http://x", data=payload, files=files)
    return parse_multipart_body(endpoint, request.headers["content-type"], request.read())


async def route(router: Router, case: Case) -> Routed:
    operation, payload = case.request
    return await router.route(body_of(operation, dict(payload)), Headers(case.headers))


CODE = {"x-route-task": "code"}
CREATIVE = {"x-route-task": "creative"}
GENERAL = {"x-route-task": "general"}
AUDIO_FILE = [("file", ("a.wav", b"RIFF" + b"\x00" * 40, "audio/wav"))]
IMAGE_FILE = [("image", ("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"))]

CASES = [
    # Embeddings and images
    Case(
        "embeddings",
        ("embeddings", {"model": "auto", "input": "hello"}),
        "text-embedding-ada-002",
        {"embeddings": "yes"},
    ),
    Case("embeddings list", ("embeddings", {"model": "auto", "input": ["a", "b"]}), "text-embedding-ada-002"),
    Case(
        "image generation",
        ("images/generations", {"model": "auto", "prompt": "a fox"}),
        "gpt-image-1",
        {"embeddings": "no", "image_generation": "yes"},
    ),
    Case(
        "image edit",
        ("images/edits", {"model": "auto", "prompt": "add a hat", "_files": IMAGE_FILE}),
        "gpt-image-1",
        {"image_generation": "yes"},
    ),
    # Coding branch
    Case(
        "code hint, no cost hint",
        chat("Refactor this module"),
        "gpt-4.1",
        {
            "image_generation": "no",
            "chat_completion": "yes",
            "legacy_completion": "no",
            "coding": "yes",
            "low_cost_and_latency": "no",
        },
        CODE,
    ),
    Case(
        "code, low latency",
        chat("Fix my bug"),
        "gpt-4.1-mini",
        {"low_cost_and_latency": "yes"},
        {**CODE, "x-route-latency": "low"},
    ),
    Case(
        "code, low cost",
        chat("Fix my bug"),
        "gpt-4.1-mini",
        {"low_cost_and_latency": "yes"},
        {**CODE, "x-route-cost": "low"},
    ),
    Case(
        "code, normal cost+latency",
        chat("Fix it"),
        "gpt-4.1",
        {"low_cost_and_latency": "no"},
        {**CODE, "x-route-cost": "normal", "x-route-latency": "normal"},
    ),
    Case(
        "classifier: python traceback",
        chat(
            "Why does this fail?\nTraceback (most recent call last):\n"
            "  File \"app.py\", line 3, in <module>\n    main()\nKeyError: 'user'"
        ),
        "gpt-4.1",
        {"coding": "yes"},
    ),
    Case(
        "classifier: code block",
        chat("Optimise this function:\n```python\ndef f(xs):\n    return [x*x for x in xs if x % 2 == 0]\n```"),
        "gpt-4.1",
        {"coding": "yes"},
    ),
    Case(
        "classifier: SQL",
        chat("Write a SQL query that joins orders and customers and returns the top 10 customers by revenue"),
        "gpt-4.1",
        {"coding": "yes"},
    ),
    Case(
        "classifier zh: code",
        chat("这段 Java 代码报错 NullPointerException，帮我看看哪里有问题：\nString s = null; s.length();"),
        "gpt-4.1",
        {"coding": "yes"},
    ),
    Case(
        "classifier zh: algorithm",
        chat("用 Python 实现一个快速排序函数，并分析时间复杂度"),
        "gpt-4.1",
        {"coding": "yes"},
    ),
    Case(
        "tools lean toward code",
        chat(
            "Check why the api-gateway pod keeps crashing in the staging Kubernetes cluster and restart the deployment",
            tools=[{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        ),
        "gpt-4.1",
        {"coding": "yes"},
    ),
    Case(
        "classifier zh: code, low cost",
        chat("帮我调试这个 SQL 查询语句：SELECT * FROM users WHERE id = "),
        "gpt-4.1-mini",
        {"coding": "yes", "low_cost_and_latency": "yes"},
        {"x-route-cost": "low"},
    ),
    # Creative branch
    Case("creative hint", chat("Anything"), "gpt-4.5-preview", {"coding": "no", "creative": "yes"}, CREATIVE),
    Case(
        "classifier: poem",
        chat("Write a short poem about autumn rain in the city"),
        "gpt-4.5-preview",
        {"creative": "yes"},
    ),
    Case(
        "classifier: story",
        chat("Tell me a bedtime story about a brave little turtle who wants to see the sea"),
        "gpt-4.5-preview",
        {"creative": "yes"},
    ),
    Case("classifier zh: poem", chat("写一首关于秋天的诗"), "gpt-4.5-preview", {"creative": "yes"}),
    Case("classifier zh: story", chat("给我讲一个关于小狐狸和月亮的童话故事"), "gpt-4.5-preview", {"creative": "yes"}),
    Case(
        "hint overrides classifier: poem as general",
        chat("Write a short poem about autumn rain"),
        "gpt-35-turbo",
        {"creative": "no"},
        GENERAL,
    ),
    Case(
        "hint overrides classifier: poem as code",
        chat("Write a short poem about autumn rain"),
        "gpt-4.1",
        {"coding": "yes"},
        CODE,
    ),
    Case(
        "hint overrides classifier: traceback as creative",
        chat("Traceback (most recent call last):\nValueError"),
        "gpt-4.5-preview",
        {"coding": "no", "creative": "yes"},
        CREATIVE,
    ),
    Case("hint overrides classifier zh", chat("写一首关于秋天的诗"), "gpt-4.1", {"coding": "yes"}, CODE),
    # General branch: large context, image input, cost-effectiveness
    Case(
        "general short: cost-effective",
        chat("What is the capital of Australia?"),
        "gpt-35-turbo",
        {"coding": "no", "creative": "no", "large_context": "no", "cost_effectiveness": "yes"},
    ),
    Case(
        "general zh short",
        chat("澳大利亚的首都是哪里？"),
        "gpt-35-turbo",
        {"large_context": "no", "cost_effectiveness": "yes"},
    ),
    Case(
        "general, cost low hint",
        chat("Summarise the causes of the 1929 crash."),
        "gpt-35-turbo",
        {"cost_effectiveness": "yes"},
        {"x-route-cost": "low"},
    ),
    Case(
        "general, cost normal: the default",
        chat("Summarise the causes of the 1929 crash."),
        "gpt-4.1-mini",
        {"cost_effectiveness": "no"},
        {"x-route-cost": "normal"},
    ),
    Case(
        "general: prompt plus output over 4k moves to 16k",
        chat("Summarise: " + LONG_TEXT[:13000], max_tokens=2000),
        "gpt-35-turbo-16k",
        {"large_context": "no"},
    ),
    Case(
        "general: max_completion_tokens counts too",
        chat("Summarise: " + LONG_TEXT[:13000], max_completion_tokens=2000),
        "gpt-35-turbo-16k",
    ),
    Case(
        "large context, no image",
        chat("Summarise: " + LONG_TEXT),
        "gpt-4-32k",
        {"large_context": "yes", "image_input": "no"},
        GENERAL,
    ),
    Case(
        "large context zh",
        chat("请总结以下内容：" + "季度报告涵盖了收入和客户流失的情况。" * 400),
        "gpt-4-32k",
        {"large_context": "yes", "image_input": "no"},
        GENERAL,
    ),
    Case(
        "large context with image",
        chat([{"type": "text", "text": "Describe: " + LONG_TEXT[:20000]}, HTTP_IMAGE]),
        "gpt-4",
        {"large_context": "yes", "image_input": "yes"},
        GENERAL,
    ),
    Case(
        "small prompt with image: gpt-35 cannot see it",
        chat([{"type": "text", "text": "What is in this picture?"}, HTTP_IMAGE]),
        "gpt-4",
        {"large_context": "no", "cost_effectiveness": "yes", "image_input": "yes"},
        GENERAL,
    ),
    Case(
        "image with data URL",
        chat(
            [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "low"}},
            ]
        ),
        "gpt-4",
        {"image_input": "yes"},
        GENERAL,
    ),
    Case(
        "image too big for gpt-4: strongest",
        chat([{"type": "text", "text": VERY_LONG_TEXT}, HTTP_IMAGE]),
        "gpt-4.1",
        {"image_input": "yes"},
        GENERAL,
    ),
    Case(
        "text too big for gpt-4-32k: strongest",
        chat(HUGE_TEXT),
        "gpt-4.1",
        {"large_context": "yes", "image_input": "no"},
        GENERAL,
    ),
    Case(
        "cost-effective leaf over 16k",
        chat("Summarise: " + LONG_TEXT[:13000], max_tokens=15000),
        "gpt-4-32k",
        {"large_context": "no", "image_input": "no"},
        GENERAL,
    ),
    Case(
        "creative but too big for gpt-4.5: strongest",
        chat("Continue this story: " + "Once upon a time " * 40000),
        "gpt-4.1",
        {"creative": "yes"},
        CREATIVE,
    ),
    # Legacy completions
    Case(
        "legacy completion",
        ("completions", {"model": "auto", "prompt": "Once upon a time"}),
        "gpt-35-turbo-instruct",
        {"chat_completion": "yes", "legacy_completion": "yes"},
    ),
    Case(
        "legacy completion, list prompt",
        ("completions", {"model": "auto", "prompt": ["a", "b"]}),
        "gpt-35-turbo-instruct",
        {"legacy_completion": "yes"},
    ),
    # Speech
    Case(
        "text to speech",
        ("audio/speech", {"model": "auto", "input": "Hello", "voice": "alloy"}),
        "gpt-4o-mini-tts",
        {"chat_completion": "no", "text_to_speech": "yes"},
    ),
    Case(
        "transcription, accurate",
        ("audio/transcriptions", {"model": "auto", "_files": AUDIO_FILE}),
        "gpt-4o-transcribe",
        {"text_to_speech": "no", "speech_to_text": "yes", "speed_wanted": "no"},
    ),
    Case(
        "transcription, low latency",
        ("audio/transcriptions", {"model": "auto", "_files": AUDIO_FILE}),
        "gpt-4o-mini-transcribe",
        {"speed_wanted": "yes"},
        {"x-route-latency": "low"},
    ),
    Case(
        "transcription, low cost",
        ("audio/transcriptions", {"model": "auto", "_files": AUDIO_FILE}),
        "gpt-4o-mini-transcribe",
        {"speed_wanted": "yes"},
        {"x-route-cost": "low"},
    ),
    Case(
        "translation lands on whisper",
        ("audio/translations", {"model": "auto", "_files": AUDIO_FILE}),
        "whisper",
        {"speech_to_text": "yes", "speed_wanted": "no"},
    ),
    Case(
        "translation, low latency: still whisper",
        ("audio/translations", {"model": "auto", "_files": AUDIO_FILE}),
        "whisper",
        {"speed_wanted": "yes"},
        {"x-route-latency": "low"},
    ),
    # A transcript format or timestamps the gpt-4o transcribe models cannot return: whisper, from either leaf
    *(
        Case(
            f"transcription as {fmt}: whisper",
            ("audio/transcriptions", {"model": "auto", "response_format": fmt, "_files": AUDIO_FILE}),
            "whisper",
            {"speed_wanted": "no"},
        )
        for fmt in ("srt", "vtt", "verbose_json")
    ),
    Case(
        "transcription as srt, low latency: whisper",
        ("audio/transcriptions", {"model": "auto", "response_format": "srt", "_files": AUDIO_FILE}),
        "whisper",
        {"speed_wanted": "yes"},
        {"x-route-latency": "low"},
    ),
    Case(
        "transcription with timestamps: whisper",
        ("audio/transcriptions", {"model": "auto", "timestamp_granularities[]": ["word"], "_files": AUDIO_FILE}),
        "whisper",
    ),
    Case(
        "transcription as text stays on gpt-4o-transcribe",
        ("audio/transcriptions", {"model": "auto", "response_format": "text", "_files": AUDIO_FILE}),
        "gpt-4o-transcribe",
    ),
    # Audio generation through chat
    Case(
        "audio modality",
        chat("Say hello", modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"}),
        "gpt-4o-mini-audio-preview",
        {"chat_completion": "no", "speech_to_text": "no", "audio_generation": "yes", "realtime_voice": "no"},
    ),
    Case(
        "input audio part",
        chat([{"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]),
        "gpt-4o-mini-audio-preview",
        {"audio_generation": "yes"},
    ),
    # Aliases
    Case("alias fast", chat("hello", model="fast"), "gpt-4.1-nano"),
    Case("alias cheap", chat("hello", model="cheap"), "gpt-35-turbo"),
    Case(
        "alias cheap, too long: large-context branch",
        chat(LONG_TEXT + LONG_TEXT + LONG_TEXT, model="cheap"),
        "gpt-4-32k",
        {"image_input": "no"},
    ),
    Case("alias smart", chat("hello", model="smart"), "gpt-4.1"),
    Case(
        "alias cheap, legacy completion", ("completions", {"model": "cheap", "prompt": "Hi"}), "gpt-35-turbo-instruct"
    ),
    # Concrete models are honoured, and escalate only for the window
    Case("named model honoured", chat("Write a poem", model="gpt-4.1-nano"), "gpt-4.1-nano"),
    Case("named model honoured against hints", chat("Fix my bug", model="gpt-35-turbo"), "gpt-35-turbo", {}, CODE),
    Case("named gpt-35-turbo escalates to 16k", chat(LONG_TEXT, model="gpt-35-turbo"), "gpt-35-turbo-16k"),
    Case("named gpt-4 escalates to 32k", chat(LONG_TEXT + LONG_TEXT, model="gpt-4"), "gpt-4-32k"),
    Case("named gpt-4.5 escalates to gpt-4.1", chat("Once upon a time " * 40000, model="gpt-4.5-preview"), "gpt-4.1"),
    Case(
        "named whisper for transcription",
        ("audio/transcriptions", {"model": "whisper", "_files": AUDIO_FILE}),
        "whisper",
    ),
    Case(
        "named embeddings model",
        ("embeddings", {"model": "text-embedding-ada-002", "input": "x"}),
        "text-embedding-ada-002",
    ),
    Case("named image model", ("images/generations", {"model": "gpt-image-1", "prompt": "x"}), "gpt-image-1"),
    Case(
        "stream flag does not change the route",
        chat("What is 2+2?", stream=True),
        "gpt-35-turbo",
        {"cost_effectiveness": "yes"},
    ),
]


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_route(router: Router, case: Case) -> None:
    routed = await route(router, case)
    answers = {step.node: step.answer for step in routed.decision.path}
    assert routed.decision.model == case.model, routed.decision
    for node, answer in case.answers.items():
        assert answers.get(node) == answer, f"{node}: {answers} {routed.decision.notes}"


def test_every_question_is_answered_both_ways_and_every_leaf_reached(router: Router) -> None:
    from gateway.routing.policy import Leaf, Question

    assert router.policy is not None
    answered = {(node, answer) for case in CASES for node, answer in case.answers.items()}
    questions = {name for name, node in router.policy.nodes.items() if isinstance(node, Question)}
    # Tested in test_decide.py with features no HTTP endpoint produces: realtime (a WebSocket), and a task the
    # tree does not know, which only the seed's missing "no" of "Audio generation?" can catch.
    elsewhere = {("realtime_voice", "yes"), ("audio_generation", "no")}
    missing = {(q, a) for q in questions for a in ("yes", "no") if (q, a) not in answered} - elsewhere
    assert not missing
    models = {case.model for case in CASES} | {"gpt-4o-mini-realtime-preview"}
    leaf_models = {m for node in router.policy.nodes.values() if isinstance(node, Leaf) for m in node.models}
    # gpt-35-turbo-16k and gpt-4.1-nano are reached by window and by alias
    assert leaf_models <= models


async def test_path_explains_each_answer(router: Router) -> None:
    routed = await route(router, Case("x", chat("Summarise: " + LONG_TEXT), "gpt-4-32k", headers=GENERAL))
    reasons = {step.node: step.reason for step in routed.decision.path}
    assert reasons["chat_completion"] == "task is chat (endpoint chat/completions)"
    assert reasons["coding"] == "task_class is general (X-Route-Task header)"
    assert reasons["large_context"].startswith("prompt_tokens ") and "> 4,096" in reasons["large_context"]
    assert routed.prompt_tokens == routed.counted["cl100k_base"]


async def test_skipped_candidates_are_noted(router: Router) -> None:
    routed = await route(
        router, Case("x", chat("Summarise: " + LONG_TEXT[:13000], max_tokens=2000), "gpt-35-turbo-16k")
    )
    assert any(
        note.startswith("gpt-35-turbo skipped:") and "4,096-token window" in note for note in routed.decision.notes
    )


async def test_named_model_too_small_for_its_whole_family_is_context_length_exceeded(router: Router) -> None:
    with pytest.raises(ContextLengthExceeded) as caught:
        await route(router, Case("x", chat(VERY_LONG_TEXT, model="gpt-35-turbo"), "-"))
    assert caught.value.status == 400 and caught.value.code == "context_length_exceeded"
    assert "4,096" in caught.value.message


async def test_prompt_beyond_every_window_is_context_length_exceeded(router: Router) -> None:
    with pytest.raises(ContextLengthExceeded):
        await route(router, Case("x", chat("word " * 20, model="gpt-4.1", max_tokens=2_000_000), "-"))


async def test_each_choice_has_the_window_to_itself(router: Router) -> None:
    # gpt-35-turbo's 4,096 tokens hold one 3,000-token answer: eight of them are eight answers, not the 24,000
    # tokens that no model of its family (16,384 at most) would hold.
    eight = chat("Say hi.", model="gpt-35-turbo", max_tokens=3000, n=8)
    routed = await route(router, Case("x", eight, "gpt-35-turbo"))
    assert (routed.features.output_tokens, routed.features.output_choices) == (3000, 8)
    with pytest.raises(ContextLengthExceeded):
        await route(router, Case("x", chat("Say hi.", model="gpt-35-turbo", max_tokens=20_000), "-"))


async def test_legacy_completion_too_long_for_its_only_model_is_context_length_exceeded(router: Router) -> None:
    # Larger models further down the tree do not serve the Completions API: the window is what failed.
    with pytest.raises(ContextLengthExceeded) as caught:
        await route(router, Case("x", ("completions", {"model": "auto", "prompt": "word " * 6000}), "-"))
    assert "gpt-35-turbo-instruct" in caught.value.message and "4,096-token window" in caught.value.message


def words(count: int) -> str:
    """A text of exactly `count` tokens in both cl100k_base and o200k_base: " a" is one token in each."""
    return "a" + " a" * (count - 1)


async def test_embeddings_inputs_are_held_one_at_a_time_and_counted_together(router: Router) -> None:
    # 15,000 tokens in all, over text-embedding-ada-002's 8,191, but each input within it: Azure's limit is per input.
    three = ("embeddings", {"model": "auto", "input": [words(5_000), words(5_000), words(5_000)]})
    routed = await route(router, Case("x", three, "text-embedding-ada-002"))
    assert routed.decision.model == "text-embedding-ada-002"
    assert routed.prompt_tokens == 15_000  # what the TPM estimate and the cost count


@pytest.mark.parametrize("model", ["auto", "text-embedding-ada-002"])
async def test_an_embeddings_input_over_the_window_is_named_by_its_index(router: Router, model: str) -> None:
    request = ("embeddings", {"model": model, "input": ["short", words(100), words(9_120)]})
    with pytest.raises(ContextLengthExceeded) as caught:
        await route(router, Case("x", request, "-"))
    assert (caught.value.status, caught.value.code, caught.value.param) == (400, "context_length_exceeded", "input")
    assert "input[2] is 9,120 tokens" in caught.value.message and "8,191" in caught.value.message
    assert caught.value.message.startswith(
        "input[2] is 9,120 tokens; text-embedding-ada-002 takes at most 8,191 per input"
    ) == (model != "auto")


async def test_speech_input_within_the_tts_window_passes_whatever_its_instructions(router: Router) -> None:
    # gpt-4o-mini-tts holds 2,000 tokens of input; the instructions are not held by that window.
    speech = {"model": "auto", "input": words(1_999), "voice": "alloy", "instructions": words(500)}
    routed = await route(router, Case("x", ("audio/speech", speech), "gpt-4o-mini-tts"))
    assert routed.decision.model == "gpt-4o-mini-tts"
    assert routed.prompt_tokens == 2_499  # both count towards the TPM estimate


@pytest.mark.parametrize("model", ["auto", "gpt-4o-mini-tts"])
async def test_speech_input_over_the_tts_window_is_a_400_naming_input(router: Router, model: str) -> None:
    speech = {"model": model, "input": words(2_001), "voice": "alloy"}
    assert len(speech["input"]) <= 4096  # within the endpoint's limit in characters: only tokens refuse it
    with pytest.raises(ContextLengthExceeded) as caught:
        await route(router, Case("x", ("audio/speech", speech), "-"))
    assert (caught.value.status, caught.value.param) == (400, "input")
    assert "input is 2,001 tokens" in caught.value.message and "2,000" in caught.value.message


async def test_speech_too_long_for_gpt_4o_mini_tts_goes_to_a_tts_model_of_the_leaf_that_holds_it(
    router: Router,
) -> None:
    voices = Policy(
        "test", "voices", {"voices": Leaf("voices", ("gpt-4o-mini-tts", "tts-1"), None)}, {"auto": "voices"}, {}
    )
    served = [DeploymentSettings(name=model, model=model, resource="azure") for model in ("gpt-4o-mini-tts", "tts-1")]
    both = Router(voices, ModelTraitsTable.build(served, ModelCatalog()), router.counter)
    for tokens, model in ((1_999, "gpt-4o-mini-tts"), (2_001, "tts-1")):
        speech = {"model": "auto", "input": words(tokens), "voice": "alloy"}
        routed = await route(both, Case("x", ("audio/speech", speech), model))
        assert routed.decision.model == model
    assert routed.decision.notes == (
        "gpt-4o-mini-tts skipped: input is 2,001 tokens, over its limit of 2,000 per input",
    )


async def test_a_transcription_model_that_cannot_return_the_format_is_noted(router: Router) -> None:
    request = ("audio/transcriptions", {"model": "auto", "response_format": "srt", "_files": AUDIO_FILE})
    routed = await route(router, Case("x", request, "whisper"))
    assert routed.features.needs == {"transcript_srt"}
    assert routed.decision.notes == ("gpt-4o-transcribe skipped: no srt transcripts (response_format)",)
    timestamps = (
        "audio/translations",
        {"model": "auto", "timestamp_granularities[]": ["segment"], "_files": AUDIO_FILE},
    )
    assert (await route(router, Case("x", timestamps, "whisper"))).decision.model == "whisper"


async def test_a_transcript_format_no_model_of_the_leaf_returns_is_a_400_naming_response_format(
    router: Router,
) -> None:
    request = ("audio/transcriptions", {"model": "auto", "response_format": "diarized_json", "_files": AUDIO_FILE})
    with pytest.raises(InvalidRequest) as caught:
        await route(router, Case("x", request, "-"))
    assert (caught.value.status, caught.value.code, caught.value.param) == (400, "no_route", "response_format")
    assert caught.value.message == (
        "No model the routing policy offers for this request (gpt-4o-transcribe, whisper) can serve it: "
        "no diarized_json transcripts (response_format)."
    )


async def test_a_named_transcription_model_is_sent_whatever_the_format(router: Router) -> None:
    request = ("audio/transcriptions", {"model": "gpt-4o-transcribe", "response_format": "srt", "_files": AUDIO_FILE})
    routed = await route(router, Case("x", request, "gpt-4o-transcribe"))
    assert routed.decision.model == "gpt-4o-transcribe"
    assert routed.decision.notes == (
        "gpt-4o-transcribe named though it has no srt transcripts (response_format): sent as named, Azure decides",
    )


async def test_unknown_model_is_404(router: Router) -> None:
    with pytest.raises(ModelNotFound):
        await route(router, Case("x", chat("hi", model="gpt-9"), "-"))


async def test_bad_hint_value_is_400(router: Router) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await route(router, Case("x", chat("hi"), "-", headers={"x-route-latency": "instant"}))
    assert caught.value.param == "x-route-latency"


async def test_a_named_model_is_not_classified_but_a_walk_is(router: Router) -> None:
    named = await route(router, Case("x", chat("Write a short poem about autumn rain", model="gpt-4.1"), "-"))
    assert named.features.task_class_source == "not classified: the client named its model"
    assert named.decision.path == () and named.decision.leaf is None
    walked = await route(router, Case("x", chat("Write a short poem about autumn rain"), "-"))
    assert walked.features.task_class_source == "classifier"
    assert walked.features.task_class == "creative"


async def test_counted_holds_each_tokenizer_the_decision_needed(router: Router) -> None:
    # "Large context input needed?" counts with gpt-35-turbo's tokenizer, and gpt-35-turbo is chosen: one count.
    general = await route(router, Case("x", chat("What is the capital of Australia?"), "-"))
    assert general.decision.model == "gpt-35-turbo"
    assert list(general.counted) == ["cl100k_base"]
    assert general.prompt_tokens == general.counted["cl100k_base"]
    # A coding question asks nothing about tokens; only gpt-4.1's own window check counts, with its tokenizer.
    code = await route(router, Case("x", chat("Fix my bug"), "-", headers=CODE))
    assert code.decision.model == "gpt-4.1"
    assert list(code.counted) == ["o200k_base"]
    assert code.prompt_tokens == code.counted["o200k_base"]


def spy_offload(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    calls: list[Callable[..., Any]] = []
    run_sync = token_count.to_thread.run_sync

    async def spy(function: Callable[..., Any], *args: Any) -> Any:
        calls.append(function)
        return await run_sync(function, *args)

    monkeypatch.setattr(token_count, "to_thread", SimpleNamespace(run_sync=spy))
    return calls


async def test_a_prompt_over_the_offload_threshold_is_counted_off_the_loop_and_decided_the_same(
    router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_offload(monkeypatch)
    case = Case("x", chat("What is the capital of Australia?"), "gpt-35-turbo")
    inline = await route(router, case)
    assert calls == []  # a short prompt, encodings loaded: counted on the loop
    tight = Router(router.policy, router.traits, TokenCounter(router.counter.encodings, offload_above_chars=10))
    offloaded = await route(tight, case)
    assert len(calls) == 1  # one tokenizer needed, counted once in a worker thread, then decided again
    assert offloaded.decision == inline.decision and offloaded.decision.model == "gpt-35-turbo"
    assert offloaded.prompt_tokens == inline.prompt_tokens and offloaded.counted == inline.counted


def hostile_tool(repeats: int) -> dict[str, Any]:
    """Type lists repeating `object` at each of 6 levels: `repeats ** 6` renderings of the leaf, once."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(6):
        schema = {"type": ["object"] * repeats, "properties": {"a": schema}}
    return {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": schema}}},
    }


async def test_a_large_body_is_gathered_and_counted_off_the_loop(
    router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = spy_offload(monkeypatch)
    small = Case("x", chat("Call f", tools=[hostile_tool(16)]), "gpt-4.1", headers=CODE)
    inline = await route(router, small)
    assert calls == []  # about a kilobyte: gathered and counted on the loop
    large = Case("x", chat("Call f", tools=[hostile_tool(20_000)]), "gpt-4.1", headers=CODE)
    offloaded = await route(router, large)
    assert [call.__name__ for call in calls] == ["_gather_and_encode"]  # a megabyte: no step of it on the loop
    # The same rendering, whatever the repeats: each distinct type once.
    assert offloaded.decision == inline.decision and offloaded.prompt_tokens == inline.prompt_tokens


async def test_hints_reach_the_features(router: Router) -> None:
    routed = await route(
        router, Case("x", chat("hi", stream=True), "-", headers={"x-route-latency": "LOW", "x-route-cost": "normal"})
    )
    features = routed.features
    assert (features.latency, features.cost, features.stream) == ("low", "normal", True)
