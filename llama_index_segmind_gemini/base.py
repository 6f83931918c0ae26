"""``SegmindGemini``: Segmind's hosted Gemini models as a LlamaIndex ``FunctionCallingLLM``.

>>> from llama_index_segmind_gemini import SegmindGemini
>>> llm = SegmindGemini(model="gemini-2.5-flash")          # key from $SEGMIND_API_KEY
>>> llm.complete("Name a prime number.").text
>>> from llama_index.core import Settings
>>> Settings.llm = llm                                      # query engines, chat engines, agents

Errors are the core's: every failure raises a
:class:`segmind_gemini.errors.SegmindError` subclass (``RateLimitError``,
``AuthenticationError``, ``ContentBlockedError``...) unchanged, since LlamaIndex
has no error types of its own to map them to. Bad input (an unsupported image
type, an unknown role) raises :class:`~segmind_gemini.errors.InvalidRequestError`
or :class:`~segmind_gemini.errors.MediaError`, both ``ValueError``s, before
anything is sent.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar, cast

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

# Re-exported by llama_index.core.instrumentation without an __all__, hence the ignore.
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictInProgressEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.types import PydanticProgramMode

from segmind_gemini.client.gemini_client import SegmindGeminiClient
from segmind_gemini.client.slot import ClientSlot, slotted_client
from segmind_gemini.errors import InvalidRequestError, MissingAPIKeyError
from segmind_gemini.media.loader import part_from_url
from segmind_gemini.planning.arguments import move_unknown, screen_arguments
from segmind_gemini.planning.options import SETTING_ALIASES, layered_settings, settings_of
from segmind_gemini.planning.plan import Plan, plan_call
from segmind_gemini.planning.state import StateCache
from segmind_gemini.planning.structured import (
    Repair,
    arun_repairing,
    run_repairing,
    schema_instruction,
)
from segmind_gemini.ratelimit import hide_store_password, resolve_rate_limit_store
from segmind_gemini.registry import get_model_info
from segmind_gemini.settings import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RATE_LIMIT_WAIT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT,
    MAX_COUNT,
    MAX_SECONDS,
    hide_secrets,
    resolve_base_url,
)
from segmind_gemini.tools.builtin import (
    builtin_tool,
    check_builtin_mode,
)
from segmind_gemini.tools.calling import check_setting
from segmind_gemini.wire.response import GenerateContentResult

from ._arguments import (
    ENTRY_POINTS,
    LLM_KWARGS_ENTRY_POINTS,
    TOOL_ENTRY_POINTS,
    presign,
    refusing_secrets,
)
from ._messages import (
    Converted,
    UrlLoader,
    convert_messages,
    prefetch_media,
    tool_chat_arguments,
    tool_selections,
    tool_specs,
)
from ._output import (
    chat_response,
    completion_response,
    first_call_only,
    parse_structured,
    repair_messages,
)

if TYPE_CHECKING:
    from llama_index.core.prompts import BasePromptTemplate
    from llama_index.core.tools.types import BaseTool

__all__ = ["SegmindGemini"]

dispatcher = get_dispatcher(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])
_M = TypeVar("_M", bound=BaseModel)


# The framework's decorators are typed as returning a bare Callable; these casts
# keep the decorated methods' signatures visible to type checkers.
def _chat_callback() -> Callable[[_F], _F]:
    return cast("Callable[[_F], _F]", llm_chat_callback())


def _completion_callback() -> Callable[[_F], _F]:
    return cast("Callable[[_F], _F]", llm_completion_callback())


_OWNER = "SegmindGemini"
# Builds the derived state from the StateCache's snapshot (a subclass's override too).
_BUILD_STATE = operator.methodcaller("_build_state")


class _Derived(NamedTuple):
    """What every call works out from the LLM's fields (kept in a :class:`StateCache`)."""

    settings: dict[str, Any] | None
    client_key: tuple[Any, ...]


# Passed along by LlamaIndex's own helpers; nothing to do with them here.
_FRAMEWORK_KEYS = frozenset({"formatted", "tool_required", "verbose"})


class SegmindGemini(FunctionCallingLLM):
    """Gemini on Segmind as a LlamaIndex LLM: chat, completion, tools, structured output.

    Works wherever LlamaIndex takes an LLM: query and chat engines, ``FunctionAgent``,
    ``ReActAgent``, ``AgentWorkflow``, ``structured_predict`` and ``as_structured_llm``.

    >>> from llama_index.core.llms import ChatMessage
    >>> llm = SegmindGemini(model="gemini-2.5-flash", temperature=0.2)
    >>> llm.chat([ChatMessage(role="user", content="Hi")]).message.content
    >>> await llm.acomplete("Hi")                         # truly async (aiohttp)
    >>> llm.chat(msgs).additional_kwargs["cost"]          # Segmind's x-cost, USD
    >>> llm.chat(msgs).raw["usage_metadata"]              # real token counts

    Every Gemini setting (``temperature``, ``max_tokens``, ``thinking_level``,
    ``seed``, ``response_schema``, ``media_resolution``, ``cached_content``,
    ``safety_settings``... see :mod:`segmind_gemini.planning.options`) is sent only when set,
    and each may be overridden per call: ``llm.chat(msgs, temperature=0)``.
    ``generation_config`` (a raw dict) is merged over the named settings; per call
    beats the constructor. Other per-call keywords: ``timeout``, ``built_in_tool``,
    and ``tools`` / ``tool_choice`` / ``allow_parallel_tool_calls`` (set for you by
    ``chat_with_tools`` and the agents). An unknown argument, in the constructor or
    per call, is kept with a warning and sent as a top-level field of the Gemini
    request (constructor ones in ``additional_kwargs``), as ``ChatSegmindGemini`` does;
    a credential is never accepted per call.

    Streaming: Segmind does not stream, so ``stream_*`` yield the whole answer as
    one chunk with ``delta`` set.

    Tool calling: ``tool_calling="prompt"`` (default) describes the tools in the
    system instruction and parses a JSON reply, so every slug can call tools;
    ``"native"`` sends Gemini ``functionDeclarations`` (for gateways that forward them).
    """

    model: str = Field(default=DEFAULT_MODEL, description="Segmind model slug.")
    api_key: SecretStr | None = Field(
        default=None,
        description="Segmind API key; defaults to $SEGMIND_API_KEY. Never serialized.",
        exclude=True,
        repr=False,
        frozen=True,
    )
    base_url: str | None = Field(
        default=None,
        description="API base; defaults to $SEGMIND_BASE_URL or https://api.segmind.com/v1.",
        frozen=True,
    )
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, gt=0, description="maxOutputTokens.")
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    top_k: int | None = Field(default=None, gt=0)
    stop: list[str] | None = Field(default=None, description="Stop sequences.")
    thinking_budget: int | None = Field(default=None, description="Thinking tokens budget.")
    include_thoughts: bool | None = Field(
        default=None, description="Return the model's thoughts as ThinkingBlocks."
    )
    seed: int | None = Field(default=None)
    thinking_level: str | None = Field(
        default=None, description="thinkingConfig.thinkingLevel (Gemini 3): 'low' or 'high'."
    )
    candidate_count: int | None = Field(
        default=None,
        gt=0,
        description="candidateCount; answers past the first are in "
        "additional_kwargs['other_candidates'].",
    )
    presence_penalty: float | None = Field(default=None)
    frequency_penalty: float | None = Field(default=None)
    response_mime_type: str | None = Field(default=None, description="responseMimeType.")
    response_schema: dict[str, Any] | None = Field(default=None, description="responseSchema.")
    response_json_schema: dict[str, Any] | None = Field(
        default=None, description="responseJsonSchema (plain JSON Schema)."
    )
    response_modalities: list[str] | None = Field(
        default=None, description="responseModalities, e.g. ['TEXT', 'IMAGE']."
    )
    response_logprobs: bool | None = Field(default=None, description="responseLogprobs.")
    logprobs: int | None = Field(
        default=None, ge=0, description="Top candidates per token (turns responseLogprobs on)."
    )
    media_resolution: str | None = Field(
        default=None, description="mediaResolution: 'low', 'medium' or 'high'."
    )
    cached_content: str | None = Field(
        default=None, description="cachedContent: a context cache name."
    )
    labels: dict[str, str] | None = Field(default=None, description="labels (Vertex AI).")
    safety_settings: list[dict[str, Any]] | dict[str, Any] | None = Field(
        default=None,
        description="Gemini safetySettings: [{'category': ..., 'threshold': ...}] or "
        "{category: threshold}.",
    )
    image_config: dict[str, Any] | None = Field(
        default=None, description="imageConfig for image output, e.g. {'aspectRatio': '16:9'}."
    )
    generation_config: dict[str, Any] | None = Field(
        default=None, description="Raw generationConfig entries, merged over the named ones."
    )
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Raw top-level request fields, merged into the body last; unknown "
        "constructor arguments land here, with a warning.",
    )
    additional_headers: dict[str, str] | None = Field(
        default=None, description="Extra HTTP headers on every request.", frozen=True
    )
    rate_limit_window: float = Field(
        default=60.0,
        gt=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        frozen=True,
        description="Seconds requests_per_minute counts over.",
    )
    built_in_tool: Any = Field(
        default=None,
        description="Gemini built-in tool(s) such as {'google_search': {}} (native mode only).",
    )
    timeout: float = Field(
        default=DEFAULT_TIMEOUT,
        gt=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="Seconds per call.",
    )
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, le=MAX_COUNT, frozen=True)
    max_connections: int = Field(default=DEFAULT_MAX_CONNECTIONS, gt=0, le=MAX_COUNT, frozen=True)
    requests_per_minute: int | None = Field(
        default=None,
        gt=0,
        le=MAX_COUNT,
        frozen=True,
        description="Your plan's limit (5 free, 50 Pro; default $SEGMIND_REQUESTS_PER_MINUTE): "
        "calls are paced from the first one. Unset, the pace is learned from 429 answers.",
    )
    max_rate_limit_wait: float = Field(
        default=DEFAULT_MAX_RATE_LIMIT_WAIT,
        ge=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        frozen=True,
        description="Longest wait for a turn under a rate limit (seconds); a reset further "
        "away raises RateLimitError at once with retry_after.",
    )
    rate_limit_store: str | None = Field(
        default=None,
        frozen=True,
        description="Where the rate state is shared: 'machine' (default: every process of "
        "this user here), 'process', 'sqlite:///PATH' or 'redis://HOST:PORT/DB'; default "
        "$SEGMIND_RATE_LIMIT_STORE.",
    )

    @field_validator("rate_limit_store")
    @classmethod
    def _known_store(cls, value: str | None) -> str | None:
        return None if value is None else hide_store_password(resolve_rate_limit_store(value))

    api_mode: Literal["sync", "queue"] = Field(
        default="sync", description="'sync' (/v1) or 'queue' (Segmind's /v2 async queue)."
    )
    tool_calling: Literal["prompt", "native", "auto"] = Field(
        default="prompt",
        description="'prompt' (works on every slug), 'native', or 'auto' (native when the "
        "latest `segmind-gemini check` report for the slug says native_tools: supported).",
    )
    context_window: int | None = Field(
        default=None, gt=0, description="Overrides the registry's context window."
    )
    allow_private_urls: bool = Field(
        default=False,
        description="Let image/document URLs point at private or loopback addresses.",
    )

    _slot: ClientSlot = PrivateAttr(default_factory=ClientSlot)
    # The constructor's settings layer (None when invalid), rebuilt when a field changes.
    _layer: StateCache[_Derived] = PrivateAttr(
        default_factory=lambda: StateCache(FunctionCallingLLM)
    )

    def __init__(self, **kwargs: Any) -> None:
        # Screened before pydantic runs: a refusal raised inside validation would be
        # wrapped in a ValidationError that quotes the input, credentials included.
        screened = screen_arguments(
            kwargs, where="constructor", owner=_OWNER, allowed_secrets=("api_key",)
        )
        if isinstance(screened.get("base_url"), str):
            # Checked now, not inside validation (whose error quotes the input): a URL
            # holding a password or a query is refused before any repr could show it.
            resolve_base_url(screened["base_url"])
        super().__init__(**screened)

    @model_validator(mode="wrap")
    @classmethod
    def _hide_key(cls, values: Any, handler: Any) -> Any:
        """The key is a SecretStr before anything else reads it: no error can quote it."""
        return handler(hide_secrets(values, ("api_key",), SecretStr))

    @model_validator(mode="before")
    @classmethod
    def _screen_arguments(cls, values: Any) -> Any:
        """Peers' spellings mapped, credentials refused, unknown arguments kept with a warning.

        The same rule as ``ChatSegmindGemini`` (see :mod:`segmind_gemini.planning.arguments`).
        """
        if not isinstance(values, dict):
            return values
        values = screen_arguments(
            values, where="constructor", owner=_OWNER, allowed_secrets=("api_key",)
        )
        for alias, canonical in SETTING_ALIASES.items():  # the table's names work too
            if canonical in values and alias in cls.model_fields and alias not in values:
                values[alias] = values.pop(canonical)
        known = {*cls.model_fields, "class_name"}
        return move_unknown(values, known, into="additional_kwargs", owner=_OWNER, stacklevel=4)

    def model_post_init(self, context: Any, /) -> None:
        """Check the settings and create the one core client this LLM reuses for every call."""
        check_setting(self.tool_calling)
        layered_settings(self._constructor_settings())  # a bad value fails here
        check_builtin_mode(self._builtin_tools(self.built_in_tool), self.tool_calling)
        # Built now, so a bad setting fails here. Like ChatSegmindGemini, a missing key
        # is said by the first call (nothing is sent), so config code can create the
        # LLM early.
        with contextlib.suppress(MissingAPIKeyError):
            self.client  # noqa: B018

    def _new_client(self) -> SegmindGeminiClient:
        return SegmindGeminiClient(
            self.api_key,
            model=self.model,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            api_mode=self.api_mode,
            max_connections=self.max_connections,
            requests_per_minute=self.requests_per_minute,
            max_rate_limit_wait=self.max_rate_limit_wait,
            rate_limit_window=self.rate_limit_window,
            default_headers=self.additional_headers,
            rate_limit_store=self.rate_limit_store,
        )

    @property
    def client(self) -> SegmindGeminiClient:
        """The core client for the current settings (a copy with another key, headers
        or address gets its own; created again after unpickling, from $SEGMIND_API_KEY).
        """
        return slotted_client(self, self._state().client_key, self._new_client)

    def __getstate__(self) -> dict[Any, Any]:
        # The key stays out of pickles like every other serialization; an
        # unpickled LLM reads $SEGMIND_API_KEY.
        state = super().__getstate__()
        state["__dict__"] = {k: v for k, v in state["__dict__"].items() if k != "api_key"}
        return state

    @classmethod
    def class_name(cls) -> str:
        return "SegmindGemini"

    @property
    def metadata(self) -> LLMMetadata:
        """Limits from the model registry (any slug works; unknown ones get safe defaults)."""
        info = get_model_info(self.model)
        return LLMMetadata(
            context_window=self.context_window or info.context_window,
            num_output=self.max_tokens or info.max_output_tokens,
            is_chat_model=True,
            # The prompted protocol lets every slug call tools.
            is_function_calling_model=True,
            model_name=self.model,
        )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Release the connection pools (the LLM reconnects if used again)."""
        client = self._slot.client
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Release the connection pools, including this event loop's async session."""
        client = self._slot.client
        if client is not None:
            await client.aclose()

    def __enter__(self) -> SegmindGemini:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> SegmindGemini:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ requests

    def _constructor_settings(self) -> dict[str, Any]:
        return {
            **settings_of(self),
            "generation_config": self.generation_config,
            "model_kwargs": self.additional_kwargs,
        }

    def _settings_layer(self) -> dict[str, Any] | None:
        """The constructor's settings as request fields, built again only when a field changed."""
        return self._state().settings

    def _state(self) -> _Derived:
        # Read from pydantic's private dict: `self._layer` goes through its __getattr__.
        cache: StateCache[_Derived] = self.__pydantic_private__["_layer"]  # type: ignore[index]
        return cache.get(self, _BUILD_STATE)

    def _build_state(self) -> _Derived:
        try:
            settings = layered_settings(self._constructor_settings())
        except Exception:
            settings = None  # the call builds them again and raises the error there
        headers = self.additional_headers or {}
        client_key = (
            self.api_key,
            self.model,
            self.base_url,
            self.timeout,
            self.max_retries,
            self.api_mode,
            self.max_connections,
            self.requests_per_minute,
            self.max_rate_limit_wait,
            self.rate_limit_window,
            tuple(sorted(headers.items())),
            self.rate_limit_store,
        )
        return _Derived(settings, client_key)

    @staticmethod
    def _builtin_tools(value: Any) -> list[dict[str, Any]]:
        if value is None:
            return []
        items = value if isinstance(value, list | tuple) else [value]
        out: list[dict[str, Any]] = []
        for item in items:
            entry = builtin_tool(item)
            if entry is None:
                raise InvalidRequestError(
                    f"built_in_tool must name Gemini built-in tools such as "
                    f"{{'google_search': {{}}}}, {{'code_execution': {{}}}} or "
                    f"{{'url_context': {{}}}}; got {item!r}"
                )
            out.append(entry)
        return out

    def _system(self, texts: list[str]) -> list[str]:
        # system_prompt is sent once: LLM.predict already puts it first as a system
        # message, while a direct chat() call relies on it being added here.
        prompt = self.system_prompt
        if prompt and (not texts or texts[0] != prompt):
            return [prompt, *texts]
        return texts

    def _plan(
        self,
        messages: Sequence[ChatMessage] | None,
        prompt: str | None,
        kwargs: Mapping[str, Any],
        load_url: UrlLoader | None,
        client: SegmindGeminiClient,
    ) -> Plan:
        """Plan one call (the core planner; the tool mode is resolved once, there)."""
        call = dict(kwargs)
        if call:  # most calls (complete, a query engine's) carry no arguments
            if call.get("tools"):
                call["tools"] = tool_specs(call["tools"])
            if "allow_parallel_tool_calls" in call:
                call["parallel_tool_calls"] = call.pop("allow_parallel_tool_calls")
            if "built_in_tool" in call:
                call["builtin_tools"] = self._builtin_tools(call.pop("built_in_tool"))

        def convert(mode: Any) -> Converted:
            if messages is None:
                return Converted([{"role": "user", "parts": [{"text": prompt}]}], self._system([]))
            conv = convert_messages(messages, mode=mode, load_url=load_url)
            return Converted(conv.contents, self._system(conv.system))

        built = self._settings_layer()
        return plan_call(
            convert,
            call,
            defaults=self._constructor_settings() if built is None else {},
            owner=_OWNER,
            model=self.model,
            tool_calling=self.tool_calling,
            base_url=client.base_url,
            framework_keys=_FRAMEWORK_KEYS,
            builtin_tools=self._builtin_tools(self.built_in_tool),
            built_defaults=built,
        )

    def _call_args(self, client: SegmindGeminiClient, plan: Plan) -> dict[str, Any]:
        args: dict[str, Any] = {}
        model = plan.model or self.model
        if model != client.model:
            args["model"] = model
        api_mode = plan.api_mode or self.api_mode
        if api_mode != client.api_mode:
            args["api_mode"] = api_mode
        timeout = plan.timeout if plan.timeout is not None else self.timeout
        if timeout != client.timeout:
            args["timeout"] = timeout
        return args

    def _load_url(self, url: str, mime_type: str | None) -> dict[str, Any]:
        return part_from_url(url, mime_type, allow_private=self.allow_private_urls)

    async def _prefetch(self, messages: Sequence[ChatMessage]) -> UrlLoader | None:
        return await prefetch_media(messages, allow_private=self.allow_private_urls)

    def _complete(self, prompt: str, kwargs: Mapping[str, Any]) -> GenerateContentResult:
        client = self.client
        plan = self._plan(None, prompt, kwargs, None, client)
        return client.generate_content(plan.request, **self._call_args(client, plan))

    async def _acomplete(self, prompt: str, kwargs: Mapping[str, Any]) -> GenerateContentResult:
        client = self.client
        plan = self._plan(None, prompt, kwargs, None, client)
        return await client.agenerate_content(plan.request, **self._call_args(client, plan))

    @staticmethod
    def _to_chat(plan: Plan, result: GenerateContentResult, *, delta: bool) -> ChatResponse:
        reply = plan.reply(result) if plan.tools else None
        return chat_response(result, reply, delta=delta)

    def _chat_impl(
        self, messages: Sequence[ChatMessage], kwargs: Mapping[str, Any], *, delta: bool
    ) -> ChatResponse:
        client = self.client
        plan = self._plan(messages, None, kwargs, self._load_url, client)
        result = client.generate_content(plan.request, **self._call_args(client, plan))
        return self._to_chat(plan, result, delta=delta)

    async def _achat_impl(
        self, messages: Sequence[ChatMessage], kwargs: Mapping[str, Any], *, delta: bool
    ) -> ChatResponse:
        loader = await self._prefetch(messages)
        client = self.client
        plan = self._plan(messages, None, kwargs, loader, client)
        result = await client.agenerate_content(plan.request, **self._call_args(client, plan))
        return self._to_chat(plan, result, delta=delta)

    # ------------------------------------------------------------------ entry points

    @_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Send a conversation, return the answer (text, tool calls, thoughts, usage)."""
        return self._chat_impl(messages, kwargs, delta=False)

    @_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Send one user prompt (plus ``system_prompt``), return the answer text."""
        return completion_response(self._complete(prompt, kwargs))

    @_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Like :meth:`chat`, as a stream of one chunk (Segmind does not stream)."""

        def gen() -> ChatResponseGen:
            yield self._chat_impl(messages, kwargs, delta=True)

        return gen()

    @_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Like :meth:`complete`, as a stream of one chunk."""

        def gen() -> CompletionResponseGen:
            yield completion_response(self._complete(prompt, kwargs), delta=True)

        return gen()

    @_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`; URLs in media blocks are fetched concurrently."""
        return await self._achat_impl(messages, kwargs, delta=False)

    @_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`."""
        return completion_response(await self._acomplete(prompt, kwargs))

    @_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`: one chunk holding the whole answer."""

        async def gen() -> ChatResponseAsyncGen:
            yield await self._achat_impl(messages, kwargs, delta=True)

        return gen()

    @_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`: one chunk holding the whole answer."""

        async def gen() -> CompletionResponseAsyncGen:
            yield completion_response(await self._acomplete(prompt, kwargs), delta=True)

        return gen()

    # ------------------------------------------------------------------ tools

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The ``chat`` arguments that offer ``tools``; ``chat_history`` is copied, not extended.

        ``tool_choice`` may be ``"auto"``, ``"required"``/``"any"``, ``"none"`` or a
        tool name; without it, ``tool_required=True`` means ``"required"``.
        """
        return tool_chat_arguments(
            tools,
            user_msg,
            chat_history,
            allow_parallel_tool_calls=allow_parallel_tool_calls,
            tool_required=tool_required,
            tool_choice=tool_choice,
            kwargs=kwargs,
        )

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call unless parallel calls were allowed."""
        return response if allow_parallel_tool_calls else first_call_only(response)

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """The response's tool calls as ``ToolSelection``s.

        Raises:
            ValueError: there are none and ``error_on_no_tool_call`` is true.
        """
        return tool_selections(response.message, error_on_no_tool_call)

    # ------------------------------------------------------------------ structured output

    def _structured_messages(
        self, output_cls: type[BaseModel], prompt: BasePromptTemplate, prompt_args: Any
    ) -> tuple[list[ChatMessage], dict[str, Any]]:
        schema = output_cls.model_json_schema()
        messages = self._get_messages(prompt, **prompt_args)
        instruction = schema_instruction(schema, name=output_cls.__name__)
        return [*messages, ChatMessage(role=MessageRole.SYSTEM, content=instruction)], schema

    def structured_predict(
        self,
        output_cls: type[_M],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> _M:
        """Ask for JSON matching ``output_cls``'s schema; return a validated instance.

        The schema goes into the system instruction (no forced tool call, so it works
        on every slug); an answer that is not valid JSON for the schema gets one
        repair round trip that quotes the problem back to the model.

        >>> from pydantic import BaseModel
        >>> from llama_index.core.prompts import PromptTemplate
        >>> class City(BaseModel):
        ...     name: str
        ...     country: str
        >>> city = llm.structured_predict(City, PromptTemplate("Capital of {country}?"),
        ...                               country="Peru")
        >>> isinstance(city, City)
        True

        Raises:
            StructuredOutputError: (a ``ValueError``) the repaired answer is still invalid.
        """
        if self.pydantic_program_mode != PydanticProgramMode.DEFAULT:
            return cast(
                "_M", super().structured_predict(output_cls, prompt, llm_kwargs, **prompt_args)
            )
        _started(output_cls, prompt, prompt_args)
        result = self._predict(output_cls, prompt, llm_kwargs, prompt_args)
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result

    def _predict(
        self,
        output_cls: type[_M],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None,
        prompt_args: dict[str, Any],
    ) -> _M:
        """Ask, parse, repair once (the core flow); no structured-predict events."""
        kwargs = dict(llm_kwargs or {})
        messages, schema = self._structured_messages(output_cls, prompt, prompt_args)

        def send(repair: Repair | None) -> str:
            reply = self.chat(repair_messages(messages, repair), **kwargs)
            return reply.message.content or ""

        return run_repairing(send, lambda text: parse_structured(output_cls, text), schema)

    async def _apredict(
        self,
        output_cls: type[_M],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None,
        prompt_args: dict[str, Any],
    ) -> _M:
        """The async form of :meth:`_predict`."""
        kwargs = dict(llm_kwargs or {})
        messages, schema = self._structured_messages(output_cls, prompt, prompt_args)

        async def send(repair: Repair | None) -> str:
            reply = await self.achat(repair_messages(messages, repair), **kwargs)
            return reply.message.content or ""

        return await arun_repairing(send, lambda text: parse_structured(output_cls, text), schema)

    async def astructured_predict(
        self,
        output_cls: type[_M],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> _M:
        """Async :meth:`structured_predict` (same prompting and single repair)."""
        if self.pydantic_program_mode != PydanticProgramMode.DEFAULT:
            return cast(
                "_M",
                await super().astructured_predict(output_cls, prompt, llm_kwargs, **prompt_args),
            )
        _started(output_cls, prompt, prompt_args)
        result = await self._apredict(output_cls, prompt, llm_kwargs, prompt_args)
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result

    def stream_structured_predict(
        self,
        output_cls: type[_M],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[_M, None, None]:
        """:meth:`structured_predict` as a stream of one complete object."""
        if self.pydantic_program_mode != PydanticProgramMode.DEFAULT:
            return cast(
                "Generator[_M, None, None]",
                super().stream_structured_predict(output_cls, prompt, llm_kwargs, **prompt_args),
            )

        def gen() -> Generator[_M, None, None]:
            # llama-index-core's order: start, one in-progress event per object, end.
            _started(output_cls, prompt, prompt_args)
            result = self._predict(output_cls, prompt, llm_kwargs, prompt_args)
            dispatcher.event(LLMStructuredPredictInProgressEvent(output=result))
            yield result
            dispatcher.event(LLMStructuredPredictEndEvent(output=result))

        return gen()

    async def astream_structured_predict(
        self,
        output_cls: type[_M],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[_M, None]:
        """Async :meth:`stream_structured_predict`: one complete object."""
        if self.pydantic_program_mode != PydanticProgramMode.DEFAULT:
            return cast(
                "AsyncGenerator[_M, None]",
                await super().astream_structured_predict(
                    output_cls, prompt, llm_kwargs, **prompt_args
                ),
            )

        async def gen() -> AsyncGenerator[_M, None]:
            _started(output_cls, prompt, prompt_args)
            result = await self._apredict(output_cls, prompt, llm_kwargs, prompt_args)
            dispatcher.event(LLMStructuredPredictInProgressEvent(output=result))
            yield result
            dispatcher.event(LLMStructuredPredictEndEvent(output=result))

        return gen()


# ---------------------------------------------------------------------- helpers


def _started(output_cls: type[BaseModel], prompt: Any, prompt_args: dict[str, Any]) -> None:
    dispatcher.event(
        LLMStructuredPredictStartEvent(
            output_cls=output_cls, template=prompt, template_args=prompt_args
        )
    )


for _name in ENTRY_POINTS:
    presign(SegmindGemini.__dict__[_name])
    setattr(SegmindGemini, _name, refusing_secrets(SegmindGemini.__dict__[_name], _OWNER))
for _name in TOOL_ENTRY_POINTS:
    setattr(SegmindGemini, _name, refusing_secrets(getattr(SegmindGemini, _name), _OWNER))
for _name in LLM_KWARGS_ENTRY_POINTS:
    _method = SegmindGemini.__dict__[_name]
    setattr(SegmindGemini, _name, refusing_secrets(_method, _OWNER, only="llm_kwargs"))
