"""Each error class a user can meet, through both adapters, replayed from cassettes.

401 (a wrong key) and 404 (an unknown slug) can be produced on demand by the live API
and are re-recorded live like every other journey. 406, 410, 422, 429 and 500 cannot,
so their cassettes are recorded against the emulator (its own credit check for the 406,
scripted ``{"error": "scripted ..."}`` answers for the rest; URIs say 127.0.0.1) and
the tests are skipped when recording live. ``max_retries=0`` keeps one exchange per
cassette: retries are covered by the emulator tests, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from _replay_support import WRONG_API_KEY, Script, sent_bodies
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
)

from segmind_gemini import (
    AuthenticationError,
    InsufficientCreditsError,
    InternalServerError,
    ModelRetiredError,
    NotFoundError,
    RateLimitError,
    SegmindError,
    UnprocessableEntityError,
)

pytestmark = pytest.mark.vcr

UNKNOWN_SLUG = "gemini-0-no-such-model"
EMULATOR_ONLY = "the live API cannot produce this error on demand"


@dataclass(frozen=True)
class Case:
    status: int
    error: type[SegmindError]
    langchain_error: type[ModelError]
    prepare: Callable[[Script], Any] = lambda script: None
    settings: dict[str, Any] = field(default_factory=dict)


CASES = {
    "401": Case(
        401,
        AuthenticationError,
        ModelAuthenticationError,
        settings={"api_key": WRONG_API_KEY},
    ),
    "404": Case(
        404,
        NotFoundError,
        ModelNotFoundError,
        prepare=lambda s: s.queue_error(404, f"scripted 404: no model named {UNKNOWN_SLUG}"),
        settings={"model": UNKNOWN_SLUG},
    ),
    "406-credits": Case(
        406,
        InsufficientCreditsError,
        ModelPermissionDeniedError,
        # The emulator's own balance check answers 406 "Insufficient credits".
        prepare=lambda s: s.set_credits(0.0),
    ),
    "410": Case(
        410,
        ModelRetiredError,
        ModelNotFoundError,
        prepare=lambda s: s.queue_error(410, "scripted 410: this model has been retired"),
    ),
    "422": Case(
        422,
        UnprocessableEntityError,
        ModelInvalidRequestError,
        prepare=lambda s: s.queue_error(422, "scripted 422: the request failed validation"),
    ),
    "429": Case(
        429,
        RateLimitError,
        ModelRateLimitError,
        prepare=lambda s: s.queue_fault(
            "rate_limit", reset_after=30.0, message="scripted 429: rate limit exceeded"
        ),
        # A 429 waits its turn by default; with no waiting allowed it surfaces at once.
        settings={"max_rate_limit_wait": 0},
    ),
    "500": Case(
        500,
        InternalServerError,
        ModelAPIError,
        prepare=lambda s: s.queue_error(500, "scripted 500: internal server error"),
    ),
}

LIVE_CAPABLE = {"401", "404"}


def _params() -> list[Any]:
    params = []
    for adapter in ("langchain", "llama_index"):
        for name in CASES:
            marks = [] if name in LIVE_CAPABLE else [pytest.mark.emulator_only(EMULATOR_ONLY)]
            params.append(pytest.param(adapter, name, id=f"{adapter}-{name}", marks=marks))
    return params


@pytest.mark.parametrize(("adapter", "case_name"), _params())
def test_error(
    adapter: str,
    case_name: str,
    script: Script,
    make_chat_model: Callable[..., Any],
    make_llm: Callable[..., Any],
    vcr: Any,
) -> None:
    case = CASES[case_name]
    case.prepare(script)
    question = f"Say hello ({adapter} error test {case_name})."
    if adapter == "langchain":
        model = make_chat_model(**case.settings)
        with pytest.raises(case.error) as caught:
            model.invoke(question)
        # LangChain code can catch the provider-neutral type instead.
        assert isinstance(caught.value, case.langchain_error)
    else:
        llm = make_llm(**case.settings)
        with pytest.raises(case.error) as caught:
            llm.complete(question)
    error = caught.value
    assert error.status_code == case.status
    assert error.message
    if isinstance(error, ModelRetiredError):
        assert error.current_models  # what to use instead
    [sent] = sent_bodies(vcr)  # exactly one request: nothing was retried
    assert sent["contents"][0]["parts"][0]["text"] == question
