"""The settings table, the call planner and the argument rules, through both adapters."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

from langchain_segmind_gemini import ChatSegmindGemini
from llama_index_segmind_gemini import SegmindGemini
from segmind_gemini.errors import BadRequestError
from segmind_gemini.planning.arguments import is_secret_name
from segmind_gemini.planning.options import SETTINGS, Setting
from segmind_gemini.testing import SegmindEmulator

HI = [ChatMessage(role="user", content="Hi")]
SECRET = "sk-live-0123456789abcdef"


class City(BaseModel):
    name: str
    country: str


@pytest.fixture
def lc(emu: SegmindEmulator) -> Iterator[Callable[..., ChatSegmindGemini]]:
    made: list[ChatSegmindGemini] = []

    def make(**kwargs: Any) -> ChatSegmindGemini:
        made.append(
            ChatSegmindGemini(api_key=emu.api_key, base_url=emu.base_url, max_retries=0, **kwargs)
        )
        return made[-1]

    yield make
    for model in made:
        model.close()


@pytest.fixture
def li(emu: SegmindEmulator) -> Iterator[Callable[..., SegmindGemini]]:
    made: list[SegmindGemini] = []

    def make(**kwargs: Any) -> SegmindGemini:
        made.append(
            SegmindGemini(api_key=emu.api_key, base_url=emu.base_url, max_retries=0, **kwargs)
        )
        return made[-1]

    yield make
    for llm in made:
        llm.close()


def _wire(body: dict[str, Any], setting: Setting) -> Any:
    if setting.place == "body":
        return body.get(setting.wire)
    config = body.get("generationConfig") or {}
    if setting.place == "thinking":
        config = config.get("thinkingConfig") or {}
    return config.get(setting.wire)


def _disagreements(
    setting: Setting, emu: SegmindEmulator, lc: Callable[..., Any], li: Callable[..., Any]
) -> list[str]:
    """Where an adapter does not accept ``setting`` or does not send it."""
    problems: list[str] = []
    value = setting.sample
    ways: list[tuple[str, Callable[[], Any]]] = [
        ("ChatSegmindGemini constructor", lambda: lc(**{setting.name: value}).invoke("Hi")),
        ("ChatSegmindGemini per call", lambda: lc().invoke("Hi", **{setting.name: value})),
        ("SegmindGemini constructor", lambda: li(**{setting.name: value}).chat(HI)),
        ("SegmindGemini per call", lambda: li().chat(HI, **{setting.name: value})),
    ]
    for label, call in ways:
        emu.reset()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "moved to model_kwargs" means not accepted
            try:
                call()
            except Exception as exc:
                problems.append(f"{label} refuses {setting.name}: {exc}")
                continue
        if _wire(emu.requests[-1].messages, setting) is None:
            problems.append(f"{label} does not send {setting.name} as {setting.wire}")
    return problems


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_every_table_setting_is_accepted_and_sent_by_both_adapters(
    setting: Setting, emu: SegmindEmulator, lc: Any, li: Any
) -> None:
    # Adding a row to options.SETTINGS runs this for it: it fails naming the adapter
    # (and constructor or per call) that does not take the new setting.
    assert _disagreements(setting, emu, lc, li) == []


def test_a_table_row_an_adapter_lacks_is_named(emu: SegmindEmulator, lc: Any, li: Any) -> None:
    new = Setting("shiny_new", "shinyNew", "config", int, "A setting from the future.", 1, 9, 3)
    problems = _disagreements(new, emu, lc, li)
    assert any(p.startswith("ChatSegmindGemini constructor") for p in problems)
    assert any(p.startswith("SegmindGemini constructor") for p in problems)


def test_the_same_unknown_constructor_argument_has_the_same_outcome(
    emu: SegmindEmulator, lc: Any, li: Any
) -> None:
    with pytest.warns(UserWarning, match="'candidateCountt' is not a ChatSegmindGemini setting"):
        lc_model = lc(candidateCountt=2)
    with pytest.warns(UserWarning, match="'candidateCountt' is not a SegmindGemini setting"):
        li_model = li(candidateCountt=2)
    # Gemini answers an unknown field with 400 "Unknown name" (an emulator as strict
    # may too): what matters here is that both sent it.
    with contextlib.suppress(BadRequestError):
        lc_model.invoke("Hi")
    with contextlib.suppress(BadRequestError):
        li_model.chat(HI)
    assert [r.messages.get("candidateCountt") for r in emu.requests] == [2, 2]


@pytest.mark.parametrize("value", [math.nan, math.inf, 1e300, -1.0])
def test_absurd_numbers_are_refused_at_construction_by_both(value: float, lc: Any, li: Any) -> None:
    with pytest.raises(ValueError, match="temperature must be a finite number from 0 to 2"):
        lc(temperature=value)
    with pytest.raises(ValueError, match="temperature"):
        li(temperature=value)


# --------------------------------------------------------------------------- credentials


class _Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.seen.append(repr((serialized, messages, kwargs)))

    def on_llm_start(self, serialized: Any, prompts: Any, **kwargs: Any) -> None:
        self.seen.append(repr((serialized, prompts, kwargs)))


class _Events(BaseEventHandler):
    seen: list[str] = []

    @classmethod
    def class_name(cls) -> str:
        return "Events"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.seen.append(repr(event))


_words = st.sampled_from(
    ["api_key", "apiKey", "key", "token", "secret", "password", "auth", "credentials"]
)
_secret_names = st.builds(
    lambda pre, word, post: f"{pre}{word}{post}",
    st.one_of(
        st.sampled_from(["", "segmind_", "google_", "x_", "access_", "my"]),
        st.from_regex(r"[a-z]{1,6}_?", fullmatch=True),
    ),
    _words,
    st.sampled_from(["", "_value", "Id", "_2", "_x"]),
)


@settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=_secret_names, value=st.text(min_size=8, max_size=30))
def test_a_credential_per_call_is_refused_before_any_trace_or_request(
    name: str, value: str, emu: SegmindEmulator, lc: Any, li: Any
) -> None:
    emu.reset()
    handler = _Recorder()
    model = lc()
    for call in (
        lambda: model.invoke("Hi", config={"callbacks": [handler]}, **{name: value}),
        lambda: list(model.stream("Hi", config={"callbacks": [handler]}, **{name: value})),
        lambda: model.bind(**{name: value}),
        lambda: model.invoke("Hi", model_kwargs={"nested": {name: value}}),
    ):
        with pytest.raises(ValueError) as caught:
            call()
        assert value not in str(caught.value)
    assert handler.seen == []
    events = _Events()
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(events)
    try:
        llm = li()
        with pytest.raises(ValueError) as caught:
            llm.chat(HI, **{name: value})
        assert value not in str(caught.value)
        with pytest.raises(ValueError):
            llm.complete("Hi", generation_config={name: value})
    finally:
        dispatcher.event_handlers.remove(events)
    assert not any(value in seen for seen in events.seen)
    assert emu.requests == []


@settings(
    derandomize=True,
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=_secret_names,
    value=st.text(min_size=8, max_size=30),
    shape=st.sampled_from(["dict", "list", "deep", "bearer"]),
)
def test_a_credential_inside_any_call_argument_is_refused_before_a_trace_or_request(
    name: str, value: str, shape: str, emu: SegmindEmulator, lc: Any, li: Any
) -> None:
    # Unknown call arguments are sent as they are and traced whole: a credential nested
    # anywhere in one (a dict, a list, a "Bearer ..." string) never leaves.
    emu.reset()
    inner: Any = {
        "dict": {name: value},
        "list": [{"category": "x", name: value}],
        "deep": {"a": [{"b": {name: value}}]},
        "bearer": "Bearer " + value.strip().replace(" ", "x").ljust(8, "x"),
    }[shape]
    handler = _Recorder()
    with pytest.raises(ValueError) as caught:
        lc().invoke("Hi", config={"callbacks": [handler]}, labels=inner)
    assert value not in str(caught.value)
    assert handler.seen == []
    with pytest.raises(ValueError):
        li().chat(HI, safety_settings=inner)
    assert emu.requests == []


def test_a_tool_parameter_named_like_a_credential_is_still_a_tool(lc: Any) -> None:
    # Tool schemas are not raw values: a tool may take an ``api_key`` argument.
    tool = {
        "type": "function",
        "function": {
            "name": "fetch",
            "description": "Fetch a page.",
            "parameters": {
                "type": "object",
                "properties": {"url": {"type": "string"}, "api_key": {"type": "string"}},
            },
        },
    }
    assert lc().bind_tools([tool]).invoke("Hi").content is not None


@pytest.mark.parametrize(
    "name", ["google_api_key", "credentials", "vertexai", "project", "location"]
)
def test_google_only_settings_are_refused_naming_the_segmind_key(
    name: str, emu: SegmindEmulator, lc: Any, li: Any
) -> None:
    for make in (lc, li):
        with pytest.raises(ValueError, match="Segmind API key: pass api_key=") as caught:
            make(**{name: "short"})
        assert "short" not in str(caught.value)
    assert emu.requests == []


# --------------------------------------------------------------------------- peers' spellings


def test_peer_spellings_map_to_the_same_settings(emu: SegmindEmulator, lc: Any, li: Any) -> None:
    model = ChatSegmindGemini(
        api_key=emu.api_key,
        base_url=emu.base_url,
        request_timeout=12,
        retries=1,
        reasoning_effort="low",
    )
    assert (model.timeout, model.max_retries, model.thinking_level) == (12, 1, "low")
    model.invoke("Hi", thinking_config={"thinking_budget": 64, "include_thoughts": True})
    thinking = emu.requests[-1].messages["generationConfig"]["thinkingConfig"]
    assert thinking == {"thinkingLevel": "LOW", "thinkingBudget": 64, "includeThoughts": True}
    llm = li(
        generation_config={
            "temperature": 0.2,
            "thinking_config": {"thinking_budget": 0},
            "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"}],
            "http_options": {"timeout": 30_000},
        }
    )
    assert llm.timeout == 30.0
    llm.chat(HI)
    body = emu.requests[-1].messages
    assert body["generationConfig"]["temperature"] == 0.2
    assert body["safetySettings"][0]["threshold"] == "OFF"
    model.close()


def test_tool_config_means_tool_choice_in_bind_tools(emu: SegmindEmulator, lc: Any) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    config = {"function_calling_config": {"mode": "NONE"}}
    lc(tool_calling="native").bind_tools([add], tool_config=config).invoke("Hi")
    assert emu.requests[-1].messages["toolConfig"]["functionCallingConfig"]["mode"] == "NONE"
    # langchain-google-genai takes it as the second positional argument.
    forced = {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["add"]}}
    lc(tool_calling="native").bind_tools([add], forced).invoke("Hi")
    assert emu.requests[-1].messages["toolConfig"]["functionCallingConfig"] == {
        "mode": "ANY",
        "allowedFunctionNames": ["add"],
    }


# --------------------------------------------------------------------------- adapter bugs


def test_cached_content_with_a_system_instruction_is_refused_before_sending(
    emu: SegmindEmulator, lc: Any, li: Any
) -> None:
    with pytest.raises(ValueError, match="cached_content cannot be sent with a system"):
        lc(cached_content="cachedContents/x").invoke([("system", "Be brief."), ("human", "Hi")])
    with pytest.raises(ValueError, match="cached_content cannot be sent with"):
        li(cached_content="cachedContents/x", system_prompt="Be brief.").chat(HI)
    assert emu.requests == []


def test_parallel_tool_calls_false_keeps_one_call(emu: SegmindEmulator, lc: Any) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    emu.queue_prompted_tool_calls([("add", {"a": 1, "b": 2}), ("add", {"a": 3, "b": 4})])
    message = lc().bind_tools([add], parallel_tool_calls=False).invoke("Hi")
    assert isinstance(message, AIMessage)
    assert [c["args"] for c in message.tool_calls] == [{"a": 1, "b": 2}]
    assert "Call at most one tool" in str(emu.requests[-1].messages["system_instruction"])


@pytest.mark.parametrize("include_raw", [False, True])
@pytest.mark.parametrize("method", ["json_schema", "json_mode", "function_calling"])
def test_structured_output_takes_per_call_settings(
    method: str, include_raw: bool, emu: SegmindEmulator, lc: Any
) -> None:
    structured = lc().with_structured_output(City, method=method, include_raw=include_raw)
    for run in (
        lambda: structured.invoke("Capital of Norway?", temperature=0.1),
        lambda: asyncio.run(structured.ainvoke("Capital of Norway?", temperature=0.1)),
    ):
        if method != "function_calling":
            emu.queue_text('{"name": "Oslo", "country": "Norway"}')
        out = run()
        assert emu.requests[-1].messages["generationConfig"]["temperature"] == 0.1
        assert isinstance(out["parsed"] if include_raw else out, City)


def test_stream_structured_predict_reports_each_object(li: Any) -> None:
    events = _Events()
    events.seen = []
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(events)
    llm = li()

    async def astream() -> list[City]:
        stream = await llm.astream_structured_predict(City, PromptTemplate("Capital of Peru?"))
        return [city async for city in stream]

    try:
        out = list(llm.stream_structured_predict(City, PromptTemplate("Capital of Peru?")))
        out += asyncio.run(astream())
    finally:
        dispatcher.event_handlers.remove(events)
    assert len(out) == 2
    kinds = [e.split("(")[0] for e in events.seen if "LLMStructuredPredict" in e]
    one = ["LLMStructuredPredictStartEvent", "LLMStructuredPredictInProgressEvent"]
    assert kinds == [*one, "LLMStructuredPredictEndEvent"] * 2


@pytest.mark.parametrize("where", ["extras", "block"])
def test_a_blocks_own_media_resolution_is_sent_on_its_part(
    where: str, emu: SegmindEmulator, lc: Any
) -> None:
    from langchain_core.messages import HumanMessage

    from segmind_gemini.testing.samples import tiny_png

    block: dict[str, Any] = {
        "type": "image",
        "base64": base64.b64encode(tiny_png()).decode(),
        "mime_type": "image/png",
    }
    if where == "extras":
        block["extras"] = {"media_resolution": "high"}
    else:
        block["media_resolution"] = "MEDIA_RESOLUTION_HIGH"
    lc().invoke([HumanMessage(content=[{"type": "text", "text": "What is it?"}, block])])
    parts = emu.requests[-1].messages["contents"][0]["parts"]
    assert parts[1]["mediaResolution"] == {"level": "MEDIA_RESOLUTION_HIGH"}
    assert "mediaResolution" not in parts[0]


def test_the_docs_name_every_table_setting() -> None:
    root = Path(__file__).resolve().parents[1]
    pages = [root / "README.md", *sorted((root / "docs").glob("**/*.md"))]
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages if p.exists())
    assert [s.name for s in SETTINGS if f"`{s.name}`" not in text] == []


def test_langchain_run_tracing_records_no_run_for_a_refused_credential(lc: Any) -> None:
    from langchain_core.tracers.context import collect_runs

    model = lc()
    with collect_runs() as runs:
        with pytest.raises(ValueError):
            model.invoke("Hi", api_key=SECRET)
        with pytest.raises(ValueError):
            model.bind(segmind_api_key=SECRET).invoke("Hi")
        model.invoke("Hi", temperature=0.1)  # a traced call, for contrast
    assert len(runs.traced_runs) == 1
    assert SECRET not in repr(runs.traced_runs[0].dict())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"additional_headers": {"Authorization": f"Bearer {SECRET}"}},
        {"http_options": {"headers": {"x-api-key": SECRET}}},
        {"model_kwargs": {"auth": {"token": SECRET}}},
        {"access_token": SECRET},
    ],
)
def test_a_credential_in_constructor_extras_is_refused_by_both(
    kwargs: dict[str, Any], lc: Any, li: Any
) -> None:
    for make in (lc, li):
        with pytest.raises(ValueError, match="credential") as caught:
            make(**kwargs)
        assert SECRET not in str(caught.value)
        assert SECRET not in repr(getattr(caught.value, "errors", lambda: "")())


@settings(derandomize=True, max_examples=300, deadline=None)
@given(name=_secret_names)
def test_every_name_holding_a_credential_word_is_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_no_setting_name_looks_like_a_credential(setting: Setting) -> None:
    assert not is_secret_name(setting.name)


def test_the_request_types_hold_every_table_setting() -> None:
    from segmind_gemini.wire.types import GenerateContentRequest, GenerationConfig

    config = set(GenerationConfig.__annotations__)
    body = set(GenerateContentRequest.__annotations__)
    missing = [
        s.wire
        for s in SETTINGS
        if (s.place == "config" and s.wire not in config)
        or (s.place == "body" and s.wire not in body)
    ]
    assert missing == []
    assert "thinkingConfig" in config


def test_tool_config_on_a_constructor_points_to_the_tools(lc: Any, li: Any) -> None:
    config = {"function_calling_config": {"mode": "ANY"}}
    with pytest.raises(ValueError, match="tool_config belongs with the tools"):
        lc(tool_config=config)
    with pytest.raises(ValueError, match="tool_config belongs with the tools"):
        li(generation_config={"tool_config": config})


def test_per_call_tool_config_and_generation_config_work_in_llama_index(
    emu: SegmindEmulator, li: Any
) -> None:
    from llama_index.core.tools import FunctionTool

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    llm = li(tool_calling="native")
    llm.chat_with_tools(
        [FunctionTool.from_defaults(add)],
        user_msg="Hi",
        generation_config={"tool_config": {"function_calling_config": {"mode": "NONE"}}},
    )
    assert emu.requests[-1].messages["toolConfig"]["functionCallingConfig"]["mode"] == "NONE"


@pytest.mark.parametrize("mode", ["NONE", "ANY"])
def test_llama_index_chat_with_tools_takes_a_top_level_tool_config(
    emu: SegmindEmulator, li: Any, mode: str
) -> None:
    # Was refused as "tool_choice is given twice": the default "auto" was filled in first.
    from llama_index.core.tools import FunctionTool

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    config = {"function_calling_config": {"mode": mode}}
    li(tool_calling="native").chat_with_tools(
        [FunctionTool.from_defaults(add)], user_msg="Hi", tool_config=config
    )
    assert emu.requests[-1].messages["toolConfig"]["functionCallingConfig"]["mode"] == mode


def test_the_models_own_key_under_any_name_is_refused_per_call(
    emu: SegmindEmulator, lc: Any, li: Any
) -> None:
    key = emu.api_key
    for call in (
        lambda: lc().invoke("Hi", notes={"x": [key]}),
        lambda: lc().bind(extra=f"Bearer {key}").invoke("Hi"),
        lambda: li().chat(HI, notes=key),
    ):
        with pytest.raises(ValueError, match="holds a credential") as caught:
            call()
        assert key not in str(caught.value)
    assert emu.requests == []


@pytest.mark.parametrize("name", ["client_options", "transport", "api_version"])
def test_google_client_settings_are_refused_saying_why(name: str, lc: Any, li: Any) -> None:
    for make in (lc, li):
        with pytest.raises(ValueError, match=f"{name} configures Google's own client"):
            make(**{name: "x"})


def test_auto_tool_mode_reads_the_reports_once_per_call(
    monkeypatch: pytest.MonkeyPatch, emu: SegmindEmulator, lc: Any, li: Any
) -> None:
    import segmind_gemini.reports as reports

    reads: list[str] = []

    def status(model: str, probe: str, base_url: str) -> str | None:
        reads.append(probe)
        return None

    monkeypatch.setattr(reports, "latest_probe_status", status)
    from llama_index.core.tools import FunctionTool

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    li(tool_calling="auto").chat_with_tools([FunctionTool.from_defaults(add)], user_msg="Hi")
    assert reads == ["native_tools"]
    reads.clear()
    lc(tool_calling="auto").bind_tools([add]).invoke("Hi")
    assert reads == ["native_tools"]


def test_both_adapters_pass_rate_limit_window_and_headers_to_the_client(
    emu: SegmindEmulator, lc: Any, li: Any
) -> None:
    headers = {"x-team": "search"}
    for model in (
        lc(rate_limit_window=0.5, additional_headers=headers),
        li(rate_limit_window=0.5, http_options={"headers": headers}),
    ):
        assert model.client.rate_limit_window == 0.5
        emu.reset()
        (model.invoke("Hi") if isinstance(model, ChatSegmindGemini) else model.complete("Hi"))
        assert emu.requests[-1].headers.get("x-team") == "search"
