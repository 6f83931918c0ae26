"""Acceptance: ``llama_index_segmind_gemini.SegmindGemini`` against the package's emulator.

Every answer is queued exactly by its test (``reply`` -> ``SegmindEmulator.queue_response``)
with bodies shaped like recorded real Gemini exchanges (thought parts with
``thoughtSignature``, ``functionCall`` parts without ``id``, parallel calls, candidates
with ``content: {}`` on SAFETY / MAX_TOKENS, ``promptFeedback`` blocks, ``usageMetadata``
with thoughts, cache and modality details) plus Segmind's headers and error bodies; the
emulator adds Segmind's key check and Gemini's request validation. None of the answers
came from Gemini. Image URLs are served by a plain loopback file host.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import pickle
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from _emulated import posts, reply
from llama_index.core import Document, MockEmbedding, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent, ReActAgent
from llama_index.core.base.llms.types import (
    ChatMessage,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

import segmind_gemini as sg
from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini.planning.structured import StructuredOutputError
from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing.samples import tiny_png as _sample_png

# A dummy key: never a real one. Long and distinctive so any leak is easy to find.
KEY = "sgk-acceptance-LI-7f3c9e21d4b8a6f0e5"

SEG_HEADERS = {
    "x-request-id": "2b1f6c0e-8a59-4d3e-9d2a-1c7e5f0a9b44",
    "x-cost": "0.00231",
    "x-remaining-credits": "4.2113",
    "x-generation-time": "1.92",
}

SIG = "CiQBVKhc7oRdGQ3lPfyYvN0xq0zRj2kO8a+ZqHc1d3BZ7Y2Vd3YSfQFUqFzu"


# --------------------------------------------------------------------------- bodies
# Shapes copied from recorded Gemini exchanges (google-genai and langchain-google-genai
# test cassettes); texts are ours.


def usage(
    prompt: int,
    candidates: int | None,
    *,
    thoughts: int = 0,
    cached: int = 0,
    tool_use: int = 0,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "promptTokenCount": prompt,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    total = prompt + (candidates or 0) + thoughts + tool_use
    if candidates is not None:
        meta["candidatesTokenCount"] = candidates
        meta["candidatesTokensDetails"] = [{"modality": "TEXT", "tokenCount": candidates}]
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    if cached:
        meta["cachedContentTokenCount"] = cached
        meta["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if tool_use:
        meta["toolUsePromptTokenCount"] = tool_use
    meta["totalTokenCount"] = total
    return meta


SAFETY_OK = [
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
]


def body(
    parts: list[dict[str, Any]] | None,
    *,
    finish: str = "STOP",
    meta: dict[str, Any] | None = None,
    content: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    cand: dict[str, Any] = {
        "content": content if content is not None else {"parts": parts, "role": "model"},
        "finishReason": finish,
        "index": 0,
    }
    cand.update(extra)
    return {
        "candidates": [cand],
        "usageMetadata": meta or usage(11, 7),
        "modelVersion": "gemini-2.5-flash",
        "responseId": "nN0qaJ2kLe2N7M8Pq8rE4Qo",
    }


def text_body(text: str, **kw: Any) -> dict[str, Any]:
    return body([{"text": text}], **kw)


def thinking_body(thought: str, answer: str) -> dict[str, Any]:
    return body(
        [
            {"text": thought, "thought": True, "thoughtSignature": SIG},
            {"text": answer},
        ],
        meta=usage(23, 9, thoughts=41, cached=8),
    )


def prompted_calls(*calls: tuple[str, dict[str, Any]], prose: str = "") -> dict[str, Any]:
    payload = json.dumps({"tool_calls": [{"name": n, "arguments": a} for n, a in calls]})
    text = f"{prose}\n```json\n{payload}\n```" if prose else payload
    return text_body(text)


# --------------------------------------------------------------------------- media


def tiny_png(w: int = 2, h: int = 2) -> bytes:
    return _sample_png(w, h, (255, 0, 0))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def inline_parts(contents: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [p["inlineData"] for c in contents for p in c["parts"] if "inlineData" in p]


def all_text(request: dict[str, Any]) -> str:
    texts = []
    si = request.get("system_instruction")
    if si:
        parts = si["parts"]
        parts = parts if isinstance(parts, list) else [parts]
        texts += [p.get("text", "") for p in parts]
    for c in request["contents"]:
        texts += [p.get("text", "") for p in c["parts"]]
    return "\n".join(texts)


def system_text(request: dict[str, Any]) -> str:
    parts = request["system_instruction"]["parts"]
    parts = parts if isinstance(parts, list) else [parts]
    return "\n".join(p["text"] for p in parts)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def _emulator_module() -> Iterator[SegmindEmulator]:
    # The package's emulator: Segmind's key check, headers and Gemini's validation; every
    # answer a test relies on is queued by that test. queue_polls=0: a v2 job completes
    # on its first poll.
    with SegmindEmulator(api_key=KEY, queue_polls=0) as emulator:
        yield emulator


@pytest.fixture
def srv(_emulator_module: SegmindEmulator) -> Iterator[SegmindEmulator]:
    _emulator_module.reset()
    yield _emulator_module
    _emulator_module.reset()


@pytest.fixture
def make(srv: SegmindEmulator) -> Iterator[Callable[..., SegmindGemini]]:
    made: list[SegmindGemini] = []

    def build(**kw: Any) -> SegmindGemini:
        options: dict[str, Any] = {
            "api_key": KEY,
            "base_url": srv.base_url,
            "model": "gemini-2.5-flash",
            "max_retries": 0,
        }
        options.update(kw)
        llm = SegmindGemini(**options)
        made.append(llm)
        return llm

    yield build
    for llm in made:
        llm.close()


@pytest.fixture
def llm(make: Callable[..., SegmindGemini]) -> SegmindGemini:
    return make()


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class City(BaseModel):
    name: str
    country: str
    population_millions: float


# =========================================================================== metadata


class TestMetadataAndConfig:
    def test_is_a_function_calling_llm_with_documented_defaults(self, srv, monkeypatch):
        monkeypatch.setenv("SEGMIND_API_KEY", KEY)
        monkeypatch.setenv("SEGMIND_BASE_URL", srv.base_url)
        llm = SegmindGemini()
        try:
            assert isinstance(llm, FunctionCallingLLM)
            assert llm.model == "gemini-2.5-flash"
            assert llm.timeout == 120
            assert llm.max_retries == 2
            assert llm.api_mode == "sync"
            assert llm.tool_calling == "prompt"
            assert llm.allow_private_urls is False
            for unset in ("temperature", "max_tokens", "top_p", "top_k", "stop"):
                assert getattr(llm, unset) is None
            reply(srv, 200, text_body("ok"), SEG_HEADERS)
            assert llm.complete("hi").text == "ok"
        finally:
            llm.close()
        req = posts(srv)[-1]
        assert req.path == "/v1/gemini-2.5-flash"
        assert req.headers["x-api-key"] == KEY
        assert "authorization" not in req.headers
        assert req.headers["content-type"].startswith("application/json")

    @pytest.mark.parametrize(
        ("slug", "window", "out"),
        [
            ("gemini-2.5-flash", 1_048_576, 65_536),
            ("gemini-2.5-pro", 1_048_576, 65_536),
            ("gemini-3-flash", 1_048_576, 65_536),
            ("gemini-1.5-pro", 2_097_152, 8_192),
        ],
    )
    def test_metadata_from_registry(self, make, slug, window, out):
        meta = make(model=slug).metadata
        assert meta.context_window == window
        assert meta.num_output == out
        assert meta.is_chat_model is True
        assert meta.is_function_calling_model is True
        assert meta.model_name == slug

    def test_metadata_unknown_slug_and_overrides(self, make):
        meta = make(model="gemini-9-ultra").metadata
        assert meta.model_name == "gemini-9-ultra"
        assert meta.context_window > 0 and meta.num_output > 0
        meta = make(max_tokens=512, context_window=32_000).metadata
        assert (meta.num_output, meta.context_window) == (512, 32_000)

    def test_default_request_is_exactly_the_documented_shape(self, llm, srv):
        reply(srv, 200, text_body("hello"), SEG_HEADERS)
        llm.chat([ChatMessage(role="user", content="Hi")])
        assert posts(srv)[0].json == {
            "messages": {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
        }

    def test_generation_settings_sent_only_when_set_and_per_call(self, make, srv):
        llm = make(temperature=0.3, stop=["END"])
        reply(srv, 200, text_body("a"), times=2)
        llm.chat([ChatMessage(role="user", content="Hi")])
        llm.chat([ChatMessage(role="user", content="Hi")], temperature=0.0, max_tokens=5)
        first, second = (r.messages["generationConfig"] for r in posts(srv))
        assert first == {"temperature": 0.3, "stopSequences": ["END"]}
        assert second == {"temperature": 0.0, "stopSequences": ["END"], "maxOutputTokens": 5}


# =========================================================================== chat + blocks


class TestChatBlocks:
    def test_mixed_blocks_request_response_and_messages_unchanged(self, llm, srv, tmp_path):
        png = tiny_png()
        img_path = tmp_path / "photo.jpg"
        img_path.write_bytes(JPEG)
        pdf_path = tmp_path / "invoice.pdf"
        pdf_path.write_bytes(PDF)
        data_url = "data:image/png;base64," + b64(png)
        messages = [
            ChatMessage(role="system", content="Answer briefly."),
            ChatMessage(
                role="user",
                content=None,
                blocks=[
                    TextBlock(text="Compare these."),
                    ImageBlock(image=png),  # raw bytes
                    ImageBlock(image=base64.b64encode(JPEG), image_mimetype="image/jpeg"),
                    ImageBlock(path=img_path),
                    ImageBlock(url=data_url),
                    DocumentBlock(path=pdf_path),
                ],
            ),
            ChatMessage(role="assistant", content="They look alike."),
            ChatMessage(role="user", content="And the invoice?"),
        ]
        before = copy.deepcopy(messages)
        dumped_before = [m.model_dump() for m in messages]
        reply(
            srv, 200, thinking_body("Let me look at the images.", "Same red square."), SEG_HEADERS
        )

        response = llm.chat(messages)

        # The caller's messages are untouched.
        assert messages == before
        assert [m.model_dump() for m in messages] == dumped_before

        req = posts(srv)[0]
        assert req.path == "/v1/gemini-2.5-flash"
        g = req.messages
        assert system_text(g) == "Answer briefly."
        assert [c["role"] for c in g["contents"]] == ["user", "model", "user"]
        assert g["contents"][0]["parts"][0] == {"text": "Compare these."}
        blobs = inline_parts(g["contents"])
        assert [b["mimeType"] for b in blobs] == [
            "image/png",
            "image/jpeg",
            "image/jpeg",
            "image/png",
            "application/pdf",
        ]
        # Each payload is the file's own bytes, base64-encoded exactly once.
        assert [base64.b64decode(b["data"]) for b in blobs] == [png, JPEG, JPEG, png, PDF]

        msg = response.message
        assert msg.role == MessageRole.ASSISTANT
        assert msg.content == "Same red square."
        thinking = [b for b in msg.blocks if isinstance(b, ThinkingBlock)]
        assert len(thinking) == 1 and thinking[0].content == "Let me look at the images."
        assert thinking[0].additional_information.get("thought_signature") == SIG
        kw = response.additional_kwargs
        assert kw["finish_reason"] == "STOP"
        assert kw["cost"] == pytest.approx(0.00231)
        assert kw["request_id"] == SEG_HEADERS["x-request-id"]
        assert kw["remaining_credits"] == pytest.approx(4.2113)
        assert kw["generation_time"] == pytest.approx(1.92)
        assert kw["model_version"] == "gemini-2.5-flash"
        assert kw["response_id"] == "nN0qaJ2kLe2N7M8Pq8rE4Qo"
        assert response.raw["usage_metadata"]["prompt_token_count"] == 23
        assert response.raw["usage_metadata"]["candidates_token_count"] == 9
        assert response.raw["usage_metadata"]["thoughts_token_count"] == 41
        assert response.raw["usage_metadata"]["cached_content_token_count"] == 8
        assert response.raw["usage"] == {
            "prompt_tokens": 23,
            "completion_tokens": 50,
            "total_tokens": 73,
        }

    def test_thinking_block_with_signature_is_echoed_in_the_next_turn(self, llm, srv):
        reply(srv, 200, thinking_body("Hmm.", "Four."))
        history = [ChatMessage(role="user", content="2+2?")]
        first = llm.chat(history)
        history = [*history, first.message, ChatMessage(role="user", content="Times 3?")]
        reply(srv, 200, text_body("Twelve."))
        assert llm.chat(history).message.content == "Twelve."
        model_turn = posts(srv)[1].messages["contents"][1]
        assert model_turn["role"] == "model"
        assert {"text": "Hmm.", "thought": True, "thoughtSignature": SIG} in model_turn["parts"]
        assert {"text": "Four."} in model_turn["parts"]

    def test_unsupported_media_is_refused_before_sending(self, llm, srv):
        msg = ChatMessage(role="user", blocks=[TextBlock(text="hi"), ImageBlock(image=GIF)])
        with pytest.raises(sg.MediaError) as info:
            llm.chat([msg])
        text = str(info.value)
        assert "messages[0].blocks[1]" in text and "ImageBlock" in text
        assert "image/png" in text  # names what is accepted
        assert srv.requests == []

    def test_nothing_to_send_is_refused_before_sending(self, llm, srv):
        with pytest.raises(sg.InvalidRequestError):
            llm.chat([ChatMessage(role="system", content="Be brief.")])
        with pytest.raises(sg.InvalidRequestError):
            llm.chat([ChatMessage(role="user", content="")])
        assert srv.requests == []

    def test_document_block_bytes_pdf(self, llm, srv):
        reply(srv, 200, text_body("One page."))
        msg = ChatMessage(
            role="user",
            blocks=[DocumentBlock(data=PDF), TextBlock(text="How many pages?")],
        )
        llm.chat([msg])
        blobs = inline_parts(posts(srv)[0].messages["contents"])
        assert blobs[0]["mimeType"] == "application/pdf"
        assert base64.b64decode(blobs[0]["data"]) == PDF


class TestImageUrls:
    def test_loopback_url_refused_by_default_sync(self, llm, srv, files):
        url = files.serve_file("red.png", tiny_png(), "image/png")
        msg = ChatMessage(role="user", blocks=[TextBlock(text="What?"), ImageBlock(url=url)])
        with pytest.raises(sg.MediaError) as info:
            llm.chat([msg])
        assert "messages[0].blocks[1]" in str(info.value)
        assert "loopback" in str(info.value)
        assert srv.requests == files.requests == []  # neither the image nor the API

    async def test_loopback_url_refused_by_default_async(self, llm, srv, files):
        url = files.serve_file("red.png", tiny_png(), "image/png")
        msg = ChatMessage(role="user", blocks=[ImageBlock(url=url), TextBlock(text="What?")])
        with pytest.raises(sg.MediaError) as info:
            await llm.achat([msg])
        assert "messages[0].blocks[0]" in str(info.value)
        assert srv.requests == files.requests == []

    @pytest.mark.parametrize("host", ["localhost", "[::1]", "2130706433", "0x7f.1"])
    def test_loopback_spellings_refused(self, llm, srv, files, host):
        files.serve_file("red.png", tiny_png(), "image/png")
        url = f"http://{host}:{files.port}/files/red.png"
        msg = ChatMessage(role="user", blocks=[TextBlock(text="What?"), ImageBlock(url=url)])
        with pytest.raises(sg.MediaError, match="loopback"):
            llm.chat([msg])
        assert srv.requests == files.requests == []

    def test_data_url_with_nonstandard_jpg_type_is_normalised(self, llm, srv):
        reply(srv, 200, text_body("a jpeg"))
        url = "data:image/jpg;base64," + b64(JPEG)
        llm.chat([ChatMessage(role="user", blocks=[TextBlock(text="x"), ImageBlock(url=url)])])
        blob = inline_parts(posts(srv)[0].messages["contents"])[0]
        assert blob == {"mimeType": "image/jpeg", "data": b64(JPEG)}

    def test_metadata_address_refused_even_when_private_allowed(self, make, srv):
        llm = make(allow_private_urls=True)
        msg = ChatMessage(
            role="user",
            blocks=[TextBlock(text="x"), ImageBlock(url="http://169.254.169.254/latest/x.png")],
        )
        with pytest.raises(sg.MediaError):
            llm.chat([msg])
        assert srv.requests == []

    @pytest.mark.parametrize("use_async", [False, True])
    async def test_loopback_url_allowed_when_opted_in(self, make, srv, files, use_async):
        llm = make(allow_private_urls=True)
        png = tiny_png(3, 3)
        url = files.serve_file("red.png", png, "image/png")
        reply(srv, 200, text_body("A red square."))
        msg = ChatMessage(role="user", blocks=[TextBlock(text="What?"), ImageBlock(url=url)])
        resp = await llm.achat([msg]) if use_async else llm.chat([msg])
        assert resp.message.content == "A red square."
        assert [(method, path) for method, path, _ in files.requests] == [("GET", "/files/red.png")]
        assert "x-api-key" not in files.requests[0][2]  # the key stays with the API
        assert [r.method for r in srv.requests] == ["POST"]
        blob = inline_parts(posts(srv)[0].messages["contents"])[0]
        assert blob["mimeType"] == "image/png"
        assert base64.b64decode(blob["data"]) == png


# =========================================================================== entry points


class TestEntryPoints:
    def test_complete(self, make, srv):
        llm = make(system_prompt="You are terse.")
        reply(srv, 200, text_body("2, 3, 5"), SEG_HEADERS)
        resp = llm.complete("Name three primes.")
        assert resp.text == "2, 3, 5"
        assert resp.additional_kwargs["cost"] == pytest.approx(0.00231)
        g = posts(srv)[0].messages
        assert g["contents"] == [{"role": "user", "parts": [{"text": "Name three primes."}]}]
        assert system_text(g) == "You are terse."

    def test_stream_complete_and_stream_chat_yield_one_chunk_with_delta(self, llm, srv):
        reply(srv, 200, text_body("whole answer"), times=2)
        chunks = list(llm.stream_complete("hi"))
        assert [(c.text, c.delta) for c in chunks] == [("whole answer", "whole answer")]
        chunks = list(llm.stream_chat([ChatMessage(role="user", content="hi")]))
        assert len(chunks) == 1
        assert chunks[0].delta == "whole answer"
        assert chunks[0].message.content == "whole answer"

    def test_stream_errors_surface_as_core_errors(self, llm, srv):
        reply(srv, 500, {"error": "Internal Server Error"})
        with pytest.raises(sg.InternalServerError):
            list(llm.stream_chat([ChatMessage(role="user", content="hi")]))
        reply(srv, 401, {"error": "Unauthorized"})
        with pytest.raises(sg.AuthenticationError):
            list(llm.stream_complete("hi"))

    async def test_async_stream_errors_surface_as_core_errors(self, llm, srv):
        reply(srv, 503, {"error": "Service Unavailable"})
        with pytest.raises(sg.InternalServerError):
            async for _ in await llm.astream_chat([ChatMessage(role="user", content="hi")]):
                pass

    async def test_async_entry_points(self, llm, srv):
        reply(srv, 200, thinking_body("thinking...", "async answer"), times=4)
        msgs = [ChatMessage(role="user", content="hi")]
        assert (await llm.achat(msgs)).message.content == "async answer"
        assert (await llm.acomplete("hi")).text == "async answer"
        chunks = [c async for c in await llm.astream_chat(msgs)]
        assert len(chunks) == 1
        assert chunks[0].delta == "async answer"  # thoughts are not in the delta
        assert chunks[0].message.content == "async answer"
        assert chunks[0].additional_kwargs.get("thinking_delta") == "thinking..."
        done = [c async for c in await llm.astream_complete("hi")]
        assert [c.delta for c in done] == ["async answer"]
        assert len(posts(srv)) == 4

    async def test_sync_chat_inside_a_running_event_loop(self, llm, srv):
        asyncio.get_running_loop()  # we are inside one
        reply(srv, 200, text_body("from a loop"), times=2)
        assert llm.chat([ChatMessage(role="user", content="hi")]).message.content == "from a loop"
        assert llm.complete("hi").text == "from a loop"

    async def test_async_calls_overlap(self, llm, srv):
        reply(srv, 200, text_body("slow"), delay=0.3, times=8)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        results = await asyncio.gather(*(llm.acomplete(f"q{i}") for i in range(8)))
        assert [r.text for r in results] == ["slow"] * 8
        assert loop.time() - t0 < 1.5  # concurrent, not 8 x 0.3 s

    def test_openai_shaped_body_is_understood(self, llm, srv):
        reply(
            srv,
            200,
            {
                "id": "chatcmpl-1",
                "model": "gemini-2.5-flash",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Hi there"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            },
        )
        resp = llm.chat([ChatMessage(role="user", content="hi")])
        assert resp.message.content == "Hi there"
        assert resp.additional_kwargs["finish_reason"] == "STOP"


# =========================================================================== odd answers


class TestOddAnswers:
    def test_max_tokens_with_no_parts(self, llm, srv):
        reply(
            srv,
            200,
            body(
                None,
                content={"role": "model"},
                finish="MAX_TOKENS",
                meta=usage(9, None, thoughts=63),
            ),
        )
        resp = llm.chat([ChatMessage(role="user", content="Think hard.")])
        assert resp.message.content == ""
        assert resp.additional_kwargs["finish_reason"] == "MAX_TOKENS"
        assert resp.raw["usage"]["completion_tokens"] == 63

    def test_safety_with_empty_content(self, llm, srv):
        ratings = [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
        ]
        reply(srv, 200, body(None, content={}, finish="SAFETY", safetyRatings=ratings))
        resp = llm.complete("something")
        assert resp.text == ""
        assert resp.additional_kwargs["finish_reason"] == "SAFETY"
        assert resp.additional_kwargs["safety_ratings"] == ratings

    def test_prompt_feedback_block_raises_content_blocked(self, llm, srv):
        reply(
            srv,
            200,
            {
                "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
                "modelVersion": "gemini-2.5-flash",
                "responseId": "q9wqaM2XB5Wd7M8P",
            },
            SEG_HEADERS,
        )
        with pytest.raises(sg.ContentBlockedError) as info:
            llm.chat([ChatMessage(role="user", content="bad")])
        assert info.value.block_reason == "PROHIBITED_CONTENT"
        assert info.value.request_id == SEG_HEADERS["x-request-id"]


# =========================================================================== tokens


class TestTokenCounting:
    def test_token_counting_handler_reads_the_servers_counts(self, make, srv):
        # A tokenizer that would give absurd numbers: any fallback to it shows.
        counter = TokenCountingHandler(tokenizer=lambda s: [0] * 100_000)
        llm = make(callback_manager=CallbackManager([counter]))
        reply(srv, 200, body([{"text": "Hello!"}], meta=usage(14, 3, thoughts=20, tool_use=2)))
        reply(srv, 200, text_body("done", meta=usage(5, 1)))
        llm.chat([ChatMessage(role="user", content="Hi")])
        llm.complete("Bye")
        events = counter.llm_token_counts
        assert [(e.prompt_token_count, e.completion_token_count) for e in events] == [
            (16, 23),
            (5, 1),
        ]
        assert counter.prompt_llm_token_count == 21
        assert counter.completion_llm_token_count == 24

    def test_token_counting_sync_stream_chat(self, make, srv):
        counter = TokenCountingHandler(tokenizer=lambda s: [0] * 100_000)
        llm = make(callback_manager=CallbackManager([counter]))
        reply(srv, 200, text_body("streamed", meta=usage(12, 4, cached=6)))
        for _ in llm.stream_chat([ChatMessage(role="user", content="Hi")]):
            pass
        assert (counter.prompt_llm_token_count, counter.completion_llm_token_count) == (12, 4)

    async def test_token_counting_async_stream(self, make, srv):
        counter = TokenCountingHandler(tokenizer=lambda s: [0] * 100_000)
        llm = make(callback_manager=CallbackManager([counter]))
        reply(srv, 200, text_body("streamed", meta=usage(8, 2)))
        async for _ in await llm.astream_chat([ChatMessage(role="user", content="Hi")]):
            pass
        assert counter.prompt_llm_token_count == 8
        assert counter.completion_llm_token_count == 2


# =========================================================================== errors


def google_error(code: int, status: str, message: str, **extra: Any) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, "status": status}
    err.update(extra)
    return {"error": err}


ERROR_CASES = [
    (401, {"error": "Unauthorized: invalid API key"}, {}, sg.AuthenticationError),
    (404, {"error": "Model not found"}, {}, sg.NotFoundError),
    (406, {"error": "Insufficient credits"}, {}, sg.InsufficientCreditsError),
    (406, {"error": "Invalid content type"}, {}, sg.InvalidContentTypeError),
    (410, {"error": "This model has been retired"}, {}, sg.ModelRetiredError),
    (422, {"error": "Input validation failed: messages"}, {}, sg.UnprocessableEntityError),
    (
        429,
        {"error": "Rate limit exceeded"},
        {"x-rate-limit-reset-at-utc": "2099-01-01T00:00:00Z"},
        sg.RateLimitError,
    ),
    (
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
            details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"}],
        ),
        {},
        sg.RateLimitError,
    ),
    (
        400,
        google_error(400, "INVALID_ARGUMENT", "Please use a valid role: user, model."),
        {},
        sg.BadRequestError,
    ),
    (500, {"error": "Internal Server Error"}, {}, sg.InternalServerError),
    (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {}, sg.InternalServerError),
]


class TestErrors:
    @pytest.mark.parametrize(("status", "payload", "headers", "exc_type"), ERROR_CASES)
    def test_error_types(self, make, srv, status, payload, headers, exc_type):
        # A 34 s reset is waited out by default; past max_rate_limit_wait it fails at once.
        llm = make(max_rate_limit_wait=5)
        reply(srv, status, payload, {"x-request-id": "req-err-1", **headers})
        with pytest.raises(exc_type) as info:
            llm.chat([ChatMessage(role="user", content="hi")])
        exc = info.value
        assert isinstance(exc, sg.SegmindError)
        assert exc.status_code == status
        assert exc.request_id == "req-err-1"
        assert exc.body is not None
        assert KEY not in str(exc) and KEY not in repr(exc)
        if isinstance(payload, dict):
            err = payload["error"]
            expected = err if isinstance(err, str) else err["message"]
            assert expected in str(exc)
        if status == 410:
            assert "gemini-2.5-flash" in exc.current_models
        if status == 429 and not headers:
            assert exc.retry_after == pytest.approx(34.4)
        assert len(posts(srv)) == 1  # max_retries=0

    async def test_error_types_async(self, llm, srv):
        reply(srv, 406, {"error": "Insufficient credits"})
        with pytest.raises(sg.InsufficientCreditsError):
            await llm.acomplete("hi")

    def test_rate_limit_retried_after_reset_header(self, make, srv):
        llm = make(max_retries=2)
        reset = (datetime.now(timezone.utc) + timedelta(seconds=0.3)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
        reply(srv, 429, {"error": "Rate limit exceeded"}, {"x-rate-limit-reset-at-utc": reset})
        reply(srv, 200, text_body("after the wait"))
        assert llm.complete("hi").text == "after the wait"
        assert len(posts(srv)) == 2

    def test_timeout_is_api_timeout_error(self, make, srv):
        llm = make(timeout=0.3)
        reply(srv, 200, text_body("too late"), delay=1.0)
        with pytest.raises(sg.APITimeoutError):
            llm.complete("hi")

    def test_server_echoing_the_key_does_not_leak_it(self, llm, srv):
        reply(srv, 401, {"error": f"Invalid api key {KEY}"})
        with pytest.raises(sg.AuthenticationError) as info:
            llm.complete("hi")
        exc = info.value
        assert KEY not in str(exc)
        assert KEY not in repr(exc)
        assert KEY not in exc.message
        assert KEY not in json.dumps(exc.body)


# =========================================================================== key hygiene


class TestKeyHygiene:
    def test_key_never_shows(self, llm):
        shown = [
            repr(llm),
            str(llm),
            str(llm.model_dump()),
            llm.model_dump_json(),
            json.dumps(llm.to_dict(), default=str),
            llm.to_json(),
            repr(llm.client),
            str(vars(llm.client)),
            repr(llm.__dict__),
        ]
        for text in shown:
            assert KEY not in text
        assert KEY.encode() not in pickle.dumps(llm)
        assert "api_key" not in llm.model_dump()
        assert "api_key" not in llm.to_dict()

    def test_key_absent_from_logs_and_instrumentation_events(self, make, srv, caplog):
        from llama_index.core.instrumentation import get_dispatcher
        from llama_index.core.instrumentation.event_handlers import BaseEventHandler

        seen: list[str] = []

        class Capture(BaseEventHandler):
            @classmethod
            def class_name(cls) -> str:
                return "Capture"

            def handle(self, event: Any, **kwargs: Any) -> None:
                seen.append(event.model_dump_json())

        root = get_dispatcher()
        handler = Capture()
        root.add_event_handler(handler)
        try:
            llm = make(max_retries=1)
            caplog.set_level("DEBUG")
            reply(srv, 503, {"error": "Service Unavailable"})
            reply(srv, 200, text_body("ok"))
            llm.chat([ChatMessage(role="user", content="hi")])
            reply(srv, 401, {"error": "Unauthorized"})
            with pytest.raises(sg.AuthenticationError):
                llm.complete("hi")
        finally:
            root.event_handlers.remove(handler)
        assert seen  # chat start/end events were emitted
        assert not any(KEY in e for e in seen)
        assert "segmind_gemini" in {r.name for r in caplog.records}
        assert KEY not in caplog.text

    def test_from_dict_reads_the_key_from_env(self, llm, srv, monkeypatch):
        monkeypatch.setenv("SEGMIND_API_KEY", KEY)
        clone = SegmindGemini.from_dict(llm.to_dict())
        try:
            assert clone.model == "gemini-2.5-flash"
            reply(srv, 200, text_body("ok"))
            assert clone.complete("hi").text == "ok"
            assert posts(srv)[0].headers["x-api-key"] == KEY
        finally:
            clone.close()

    def test_pickle_round_trip_reads_the_key_from_env(self, llm, srv, monkeypatch):
        monkeypatch.setenv("SEGMIND_API_KEY", KEY)
        clone = pickle.loads(pickle.dumps(llm))
        try:
            reply(srv, 200, text_body("ok"))
            assert clone.complete("hi").text == "ok"
            assert posts(srv)[0].headers["x-api-key"] == KEY
        finally:
            clone.close()


# =========================================================================== tools


class TestTools:
    def test_chat_with_tools_prompted(self, llm, srv):
        tools = [FunctionTool.from_defaults(multiply), FunctionTool.from_defaults(add)]
        history = [ChatMessage(role="user", content="Earlier question")]
        before = copy.deepcopy(history)
        reply(
            srv,
            200,
            prompted_calls(
                ("multiply", {"a": 3, "b": 4}),
                ("add", {"a": 1, "b": 2}),
                prose="I'll compute both.",
            ),
        )
        resp = llm.chat_with_tools(tools, user_msg="3*4 and 1+2?", chat_history=history)
        assert history == before  # not extended
        g = posts(srv)[0].messages
        assert "tools" not in g  # the gateway does not forward them
        si = system_text(g)
        assert "multiply" in si and "add" in si and "tool_calls" in si
        assert [c["role"] for c in g["contents"]] == ["user"]  # two user turns merged
        calls = llm.get_tool_calls_from_response(resp)
        assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("multiply", {"a": 3, "b": 4})]

        reply(
            srv,
            200,
            prompted_calls(("multiply", {"a": 3, "b": 4}), ("add", {"a": 1, "b": 2})),
        )
        resp = llm.chat_with_tools(tools, user_msg="3*4 and 1+2?", allow_parallel_tool_calls=True)
        calls = llm.get_tool_calls_from_response(resp)
        assert [c.tool_name for c in calls] == ["multiply", "add"]
        assert len({c.tool_id for c in calls}) == 2

    def test_no_tool_call_is_a_text_answer(self, llm, srv):
        reply(srv, 200, text_body("No tools needed: 42."))
        resp = llm.chat_with_tools([FunctionTool.from_defaults(add)], user_msg="hi")
        assert resp.message.content == "No tools needed: 42."
        assert llm.get_tool_calls_from_response(resp, error_on_no_tool_call=False) == []
        with pytest.raises(ValueError):
            llm.get_tool_calls_from_response(resp)

    def test_native_parallel_calls_without_id_and_signature_round_trip(self, make, srv):
        llm = make(tool_calling="native")
        tools = [FunctionTool.from_defaults(multiply), FunctionTool.from_defaults(add)]
        reply(
            srv,
            200,
            body(
                [
                    {
                        "functionCall": {"name": "multiply", "args": {"a": 3, "b": 4}},
                        "thoughtSignature": SIG,
                    },
                    {"functionCall": {"name": "add", "args": {"a": 1, "b": 2}}},
                ],
                meta=usage(60, 12, thoughts=30),
            ),
        )
        resp = llm.chat_with_tools(tools, user_msg="3*4 and 1+2?", allow_parallel_tool_calls=True)
        g = posts(srv)[0].messages
        decls = g["tools"][0]["functionDeclarations"]
        assert {d["name"] for d in decls} == {"multiply", "add"}
        calls = llm.get_tool_calls_from_response(resp)
        assert [(c.tool_name, c.tool_kwargs) for c in calls] == [
            ("multiply", {"a": 3, "b": 4}),
            ("add", {"a": 1, "b": 2}),
        ]
        assert all(c.tool_id for c in calls) and calls[0].tool_id != calls[1].tool_id

        # Tool messages carry only the call id; names come from the assistant turn.
        history = [
            ChatMessage(role="user", content="3*4 and 1+2?"),
            resp.message,
            *(
                ChatMessage(
                    role="tool",
                    content=str(multiply(3, 4) if c.tool_name == "multiply" else add(1, 2)),
                    additional_kwargs={"tool_call_id": c.tool_id},
                )
                for c in calls
            ),
        ]
        before = copy.deepcopy(history)
        reply(srv, 200, text_body("12 and 3."))
        final = llm.chat_with_tools(tools, chat_history=history)
        assert history == before
        assert final.message.content == "12 and 3."
        contents = posts(srv)[1].messages["contents"]
        assert [c["role"] for c in contents] == ["user", "model", "user"]
        fc_parts = contents[1]["parts"]
        assert fc_parts[0]["functionCall"]["name"] == "multiply"
        assert fc_parts[0]["thoughtSignature"] == SIG
        assert "thoughtSignature" not in fc_parts[1]
        responses = [p["functionResponse"] for p in contents[2]["parts"]]
        assert [r["name"] for r in responses] == ["multiply", "add"]
        assert "12" in json.dumps(responses[0]) and "3" in json.dumps(responses[1])

    @pytest.mark.parametrize("style", ["blocks", "additional_kwargs"])
    def test_prompt_mode_history_with_tool_calls_and_id_only_tool_messages(self, llm, srv, style):
        if style == "blocks":
            assistant = ChatMessage(
                role="assistant",
                blocks=[
                    TextBlock(text="Let me multiply."),
                    ToolCallBlock(
                        tool_call_id="call_abc", tool_name="multiply", tool_kwargs={"a": 6, "b": 7}
                    ),
                ],
            )
        else:
            assistant = ChatMessage(
                role="assistant",
                content="Let me multiply.",
                additional_kwargs={
                    "tool_calls": [
                        {
                            "id": "call_abc",
                            "type": "function",
                            "function": {"name": "multiply", "arguments": '{"a": 6, "b": 7}'},
                        }
                    ]
                },
            )
        history = [
            ChatMessage(role="user", content="6*7?"),
            assistant,
            ChatMessage(role="tool", content="42", additional_kwargs={"tool_call_id": "call_abc"}),
        ]
        before = copy.deepcopy(history)
        reply(srv, 200, text_body("42."))
        resp = llm.chat_with_tools([FunctionTool.from_defaults(multiply)], chat_history=history)
        assert history == before
        assert resp.message.content == "42."
        contents = posts(srv)[0].messages["contents"]
        assert [c["role"] for c in contents] == ["user", "model", "user"]
        model_text = contents[1]["parts"][0]["text"]
        assert "Let me multiply." in model_text
        payload = json.loads(model_text[model_text.index("{") :])
        assert payload["tool_calls"][0]["name"] == "multiply"
        assert payload["tool_calls"][0]["arguments"] == {"a": 6, "b": 7}
        result_text = contents[2]["parts"][0]["text"]
        assert (
            'name="multiply"' in result_text and "call_abc" in result_text and "42" in result_text
        )

    @pytest.mark.parametrize("mode", ["prompt", "native"])
    def test_tool_results_for_calls_without_ids_still_name_their_tool(self, make, srv, mode):
        # Calls without ids (another LLM's history, hand-built messages): the tool
        # messages' ids match nothing, so results pair with the open calls in order.
        llm = make(tool_calling=mode)
        history = [
            ChatMessage(role="user", content="3*4 and 1+2?"),
            ChatMessage(
                role="assistant",
                blocks=[
                    ToolCallBlock(tool_name="multiply", tool_kwargs={"a": 3, "b": 4}),
                    ToolCallBlock(tool_name="add", tool_kwargs={"a": 1, "b": 2}),
                ],
            ),
            ChatMessage(role="tool", content="12", additional_kwargs={"tool_call_id": "call_x1"}),
            ChatMessage(role="tool", content="3"),
        ]
        before = copy.deepcopy(history)
        reply(srv, 200, text_body("12 and 3."))
        llm.chat(history)
        assert history == before
        results = posts(srv)[0].messages["contents"][2]
        assert results["role"] == "user"
        if mode == "native":
            names = [p["functionResponse"]["name"] for p in results["parts"]]
            assert names == ["multiply", "add"]
        else:
            text = results["parts"][0]["text"]
            assert 'name="multiply" call_id="call_x1"' in text
            assert 'name="add"' in text
            assert 'name="tool"' not in text

    async def test_function_agent_run(self, llm, srv):
        seen: list[tuple[int, int]] = []

        def mult(a: int, b: int) -> int:
            """Multiply two integers."""
            seen.append((a, b))
            return a * b

        agent = FunctionAgent(
            tools=[FunctionTool.from_defaults(mult, name="multiply")],
            llm=llm,
            system_prompt="Use tools for arithmetic.",
        )
        reply(srv, 200, prompted_calls(("multiply", {"a": 1234, "b": 5678})))
        reply(srv, 200, text_body("1234 * 5678 = 7006652."))
        result = await agent.run(user_msg="What is 1234 * 5678?")
        assert seen == [(1234, 5678)]
        assert "7006652" in str(result)
        assert [t.tool_name for t in result.tool_calls] == ["multiply"]
        assert len(posts(srv)) == 2
        second = posts(srv)[1].messages
        assert "Use tools for arithmetic." in system_text(second)
        assert "7006652" in all_text(second)  # the tool's output went back

    async def test_react_agent_run(self, llm, srv):
        agent = ReActAgent(tools=[FunctionTool.from_defaults(multiply)], llm=llm)
        reply(
            srv,
            200,
            text_body(
                "Thought: The user wants a product. I need to use a tool.\n"
                "Action: multiply\n"
                'Action Input: {"a": 12, "b": 34}'
            ),
        )
        reply(
            srv,
            200,
            text_body("Thought: I can answer without using any more tools.\nAnswer: 12 * 34 = 408"),
        )
        result = await agent.run(user_msg="What is 12 * 34?")
        assert "408" in str(result)
        assert len(posts(srv)) == 2
        second = all_text(posts(srv)[1].messages)
        assert "Observation: 408" in second or "408" in second
        assert "tools" not in posts(srv)[0].messages


# =========================================================================== structured


class TestStructured:
    def test_structured_predict_repairs_once(self, llm, srv):
        reply(srv, 200, text_body('{"name": "Lima", "country": "Peru", "population_millions": }'))
        reply(
            srv,
            200,
            text_body(
                'Here it is:\n```json\n{"name": "Lima", "country": "Peru", '
                '"population_millions": 10.1}\n```'
            ),
        )
        city = llm.structured_predict(
            City, PromptTemplate("Describe the capital of {country}."), country="Peru"
        )
        assert city == City(name="Lima", country="Peru", population_millions=10.1)
        assert len(posts(srv)) == 2
        first, second = (r.messages for r in posts(srv))
        assert "population_millions" in system_text(first)  # the schema went along
        assert "Describe the capital of Peru." in all_text(first)
        assert [c["role"] for c in second["contents"]][-2:] == ["model", "user"]
        assert '"population_millions": }' in all_text(second)  # the bad answer is quoted

    def test_structured_predict_schema_mismatch_then_gives_up(self, llm, srv):
        reply(srv, 200, text_body('{"name": "Lima"}'))
        reply(srv, 200, text_body("I cannot answer that."))
        with pytest.raises(StructuredOutputError) as info:
            llm.structured_predict(City, PromptTemplate("Capital of {c}?"), c="Peru")
        assert isinstance(info.value, ValueError)
        assert len(posts(srv)) == 2  # exactly one repair

    async def test_astructured_predict(self, llm, srv):
        reply(
            srv, 200, text_body('{"name": "Oslo", "country": "Norway", "population_millions": 0.7}')
        )
        city = await llm.astructured_predict(City, PromptTemplate("Capital of {c}?"), c="Norway")
        assert city.name == "Oslo"

    def test_as_structured_llm(self, llm, srv):
        reply(srv, 200, text_body('{"name": "Lima", "country": "Peru", "population_millions": 10}'))
        structured = llm.as_structured_llm(City)
        msgs = [ChatMessage(role="user", content="Describe Lima.")]
        before = copy.deepcopy(msgs)
        resp = structured.chat(msgs)
        assert msgs == before
        assert isinstance(resp.raw, City) and resp.raw.country == "Peru"


# =========================================================================== RAG


class TestRag:
    def test_query_engine_over_a_vector_index(self, llm, srv):
        docs = [
            Document(text="The warranty covers manufacturing defects for two years."),
            Document(text="Returns are accepted within 30 days with a receipt."),
            Document(text="Refurbished items carry a six month warranty."),
        ]
        index = VectorStoreIndex.from_documents(docs, embed_model=MockEmbedding(embed_dim=8))
        engine = index.as_query_engine(llm=llm, similarity_top_k=3)
        reply(srv, 200, text_body("Two years, for manufacturing defects."), SEG_HEADERS)
        answer = engine.query("What does the warranty cover?")
        assert str(answer) == "Two years, for manufacturing defects."
        sent = all_text(posts(srv)[0].messages)
        assert "manufacturing defects for two years" in sent
        assert "What does the warranty cover?" in sent
        assert len(answer.source_nodes) == 3

    async def test_chat_engine_async(self, llm, srv):
        index = VectorStoreIndex.from_documents(
            [Document(text="Store hours are 9 to 5.")], embed_model=MockEmbedding(embed_dim=8)
        )
        engine = index.as_chat_engine(chat_mode="context", llm=llm)
        reply(srv, 200, text_body("9 to 5."))
        reply(srv, 200, text_body("Yes, weekends too."))
        assert str(await engine.achat("When are you open?")) == "9 to 5."
        assert str(await engine.achat("Weekends?")) == "Yes, weekends too."
        second = posts(srv)[1].messages
        assert "Store hours are 9 to 5." in all_text(second)
        assert "When are you open?" in all_text(second)  # the history went along
        assert "9 to 5." in [
            p["text"] for c in second["contents"] if c["role"] == "model" for p in c["parts"]
        ]


# =========================================================================== queue mode


class TestQueueMode:
    def test_queue_mode_through_the_llm(self, make, srv):
        llm = make(api_mode="queue")
        reply(srv, 200, text_body("queued answer"))  # the job's result
        resp = llm.chat([ChatMessage(role="user", content="A long task")])
        assert resp.message.content == "queued answer"
        job = srv.requests[1].path.split("/")[3]
        assert [(r.method, r.path) for r in srv.requests] == [
            ("POST", "/v2/gemini-2.5-flash"),
            ("GET", f"/v2/requests/{job}/status"),
            ("GET", f"/v2/requests/{job}"),
        ]
        assert all(r.headers.get("x-api-key") == KEY for r in srv.requests)
