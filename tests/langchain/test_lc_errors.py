"""Every error is both a LangChain ``Model*Error`` and a segmind-gemini error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)

import segmind_gemini.errors as core
from langchain_segmind_gemini import ChatSegmindGemini, SegmindRateLimitError
from langchain_segmind_gemini._errors import to_langchain_error
from segmind_gemini.testing import SegmindEmulator

Make = Callable[..., ChatSegmindGemini]

STATUS_CASES = [
    (400, "Invalid value for temperature", core.BadRequestError, ModelInvalidRequestError),
    (401, "Unauthorized", core.AuthenticationError, ModelAuthenticationError),
    (403, "Forbidden for this key", core.PermissionDeniedError, ModelPermissionDeniedError),
    (404, "Model not found", core.NotFoundError, ModelNotFoundError),
    (406, "Insufficient credits", core.InsufficientCreditsError, ModelPermissionDeniedError),
    (406, "Invalid content type", core.InvalidContentTypeError, ModelInvalidRequestError),
    (410, "Model is retired", core.ModelRetiredError, ModelNotFoundError),
    (422, "Validation failed: messages", core.UnprocessableEntityError, ModelInvalidRequestError),
    (429, "Too many requests", core.RateLimitError, ModelRateLimitError),
    (500, "Internal error", core.InternalServerError, ModelAPIError),
    (503, "Upstream unavailable", core.InternalServerError, ModelAPIError),
]


@pytest.mark.parametrize(("status", "message", "core_type", "lc_type"), STATUS_CASES)
def test_status_errors_are_both_kinds(
    make_model: Make,
    emu: SegmindEmulator,
    status: int,
    message: str,
    core_type: type[Exception],
    lc_type: type[Exception],
) -> None:
    # A 429 waits its turn; with no waiting allowed it surfaces at once.
    model = make_model(max_rate_limit_wait=0)
    emu.queue_error(status, message)
    with pytest.raises(lc_type) as info:
        model.invoke("Hi")
    err = info.value
    assert isinstance(err, core_type)
    assert isinstance(err, core.SegmindError) and isinstance(err, ModelError)
    assert err.status_code == status  # type: ignore[attr-defined]
    assert message in str(err)
    assert err.request_id  # type: ignore[attr-defined]
    assert err.body == {"error": message}  # type: ignore[attr-defined]
    assert isinstance(err.__cause__, core_type) and not isinstance(err.__cause__, ModelError)
    assert emu.api_key not in str(err) and emu.api_key not in repr(err)


async def test_async_errors_are_converted_too(make_model: Make, emu: SegmindEmulator) -> None:
    model = make_model(max_rate_limit_wait=0)
    emu.queue_error(401, "Unauthorized")
    with pytest.raises(ModelAuthenticationError):
        await model.ainvoke("Hi")
    emu.queue_error(429, "slow down")
    with pytest.raises(ModelRateLimitError):
        async for _ in model.astream("Hi"):
            pass


def test_rate_limit_waits_for_the_reset_then_answers(
    make_model: Make, emu: SegmindEmulator
) -> None:
    emu.queue_fault("rate_limit", reset_after=0.3).queue_text("after the reset")
    model = make_model()  # max_retries=0: waiting for a turn is not a retry
    assert model.invoke("Hi").content == "after the reset"
    assert model.client.rate_limit_status().rate_limited == 1


def test_rate_limit_keeps_the_retry_hint(make_model: Make, emu: SegmindEmulator) -> None:
    emu.queue_fault("rate_limit", reset_after=30)
    model = make_model(max_rate_limit_wait=5)  # a reset further away fails at once
    with pytest.raises(SegmindRateLimitError) as info:
        model.invoke("Hi")
    assert isinstance(info.value, core.RateLimitError)
    assert info.value.retry_after is not None and 20 < info.value.retry_after <= 31
    assert info.value.is_retryable is True


def test_retired_model_lists_current_slugs(make_model: Make, emu: SegmindEmulator) -> None:
    emu.queue_error(410, "Gone")
    with pytest.raises(ModelNotFoundError) as info:
        make_model(model="gemini-1.5-pro").invoke("Hi")
    assert isinstance(info.value, core.ModelRetiredError)
    assert "gemini-2.5-flash" in info.value.current_models
    assert "gemini-2.5-flash" in str(info.value)


def test_connection_reset_is_a_connection_error(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_fault("reset")
    with pytest.raises(ModelConnectionError) as info:
        model.invoke("Hi")
    assert isinstance(info.value, core.APIConnectionError)


def test_timeout_is_a_timeout_error(make_model: Make, emu: SegmindEmulator) -> None:
    emu.queue_fault("slow", delay=2.0)
    with pytest.raises(ModelTimeoutError) as info:
        make_model(timeout=0.3).invoke("Hi")
    assert isinstance(info.value, core.APITimeoutError)


def test_per_call_timeout(model: ChatSegmindGemini, emu: SegmindEmulator) -> None:
    emu.queue_fault("slow", delay=2.0)
    with pytest.raises(ModelTimeoutError):
        model.invoke("Hi", timeout=0.3)


def test_non_json_gateway_page_is_an_api_error(
    model: ChatSegmindGemini, emu: SegmindEmulator
) -> None:
    emu.queue_fault("html_502")
    with pytest.raises(ModelAPIError) as info:
        model.invoke("Hi")
    assert info.value.status_code == 502  # type: ignore[attr-defined]
    assert "502 Bad Gateway" in str(info.value)


def test_missing_key_is_an_authentication_error_at_call_time(emu: SegmindEmulator) -> None:
    model = ChatSegmindGemini(model="gemini-2.5-flash", base_url=emu.base_url)  # no key anywhere
    with pytest.raises(ModelAuthenticationError, match="SEGMIND_API_KEY") as info:
        model.invoke("Hi")
    assert isinstance(info.value, core.AuthenticationError)
    assert emu.requests == []


def test_retries_then_success(make_model: Make, emu: SegmindEmulator) -> None:
    emu.queue_error(503, "busy").queue_text("second time lucky")
    assert make_model(max_retries=1).invoke("Hi").content == "second time lucky"
    assert len(emu.requests) == 2


def test_unlisted_core_subclasses_keep_their_type() -> None:
    failed = core.QueueJobFailedError("job failed", status_code=422, body={"x": 1}, request_id="r")
    err = to_langchain_error(failed)
    assert isinstance(err, core.QueueJobFailedError) and isinstance(err, ModelAPIError)
    assert (err.status_code, err.body, err.request_id, str(err)) == (
        422,
        {"x": 1},
        "r",
        str(failed),
    )
    assert type(to_langchain_error(core.QueueJobFailedError("again"))) is type(err)
    assert to_langchain_error(err) is err


def test_blocked_prompt_is_a_refusal() -> None:
    blocked = core.ContentBlockedError("blocked", block_reason="SAFETY", request_id="r")
    err = to_langchain_error(blocked)
    assert isinstance(err, ModelRefusalError) and isinstance(err, core.ContentBlockedError)
    assert err.block_reason == "SAFETY"  # type: ignore[attr-defined]
    assert err.raw_message is None  # type: ignore[attr-defined]
