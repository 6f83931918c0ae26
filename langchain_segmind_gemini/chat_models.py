"""``ChatSegmindGemini``: Segmind's hosted Gemini models as a LangChain chat model."""

from __future__ import annotations

import functools
import operator
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import (
    BaseChatModel,
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.language_models.chat_models import _ChatModelBinding
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, LLMResult
from langchain_core.prompt_values import PromptValue, StringPromptValue
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils import from_env, secret_from_env
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from segmind_gemini.client.gemini_client import SegmindGeminiClient
from segmind_gemini.client.slot import ClientSlot, slotted_client
from segmind_gemini.errors import SegmindError
from segmind_gemini.media.loader import apart_from_url, part_from_url
from segmind_gemini.planning.arguments import check_no_secrets, move_unknown, screen_arguments
from segmind_gemini.planning.options import layered_settings, settings_of
from segmind_gemini.planning.plan import Plan, plan_call
from segmind_gemini.planning.state import StateCache
from segmind_gemini.ratelimit import hide_store_password, resolve_rate_limit_store
from segmind_gemini.registry import warn_if_retired
from segmind_gemini.settings import (
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT,
    MAX_COUNT,
    MAX_SECONDS,
    hide_secrets,
    resolve_base_url,
)
from segmind_gemini.tokens import estimate_text_tokens
from segmind_gemini.tools import ToolSpec, resolve_tool_choice
from segmind_gemini.tools.builtin import (
    check_builtin_mode,
    split_builtin_tools,
)
from segmind_gemini.tools.calling import check_setting, resolve_mode
from segmind_gemini.wire.response import GenerateContentResult

from ._counting import prompt_tokens
from ._errors import to_langchain_error
from ._messages import (
    MediaRef,
    aresolve_media,
    check_block_types,
    convert_messages,
    resolve_media,
    with_contents,
)
from ._output import to_ai_message, to_ai_message_chunk
from ._profile import model_profile
from ._structured import structured_output_runnable
from ._tool_schema import openai_tool

__all__ = ["ChatSegmindGemini"]

_OWNER = "ChatSegmindGemini"
# Builds the derived state from the StateCache's snapshot (a subclass's override too).
_BUILD_STATE = operator.methodcaller("_build_state")
# Passed by LangChain's own streaming helpers; there is nothing to switch.
_FRAMEWORK_KEYS = frozenset({"stream"})
_CONSTRUCTOR_SECRETS = ("api_key", "segmind_api_key")
# What LangChain passes to generate() on every call: empty, they hold nothing to screen.
_PLUMBING = frozenset({"stop", "callbacks", "tags", "metadata", "run_name", "run_id"})

# The key's field name and alias: wrapped in a SecretStr before any validation.
_KEY_NAMES = frozenset({"api_key", "segmind_api_key"})


class _Derived(NamedTuple):
    """What every call works out from the model's fields (kept in a :class:`StateCache`)."""

    settings: dict[str, Any] | None
    """The constructor's settings built into request fields; ``None`` when they are
    invalid (the call rebuilds them and raises the error where it always did)."""
    identifying: dict[str, Any]
    client_key: tuple[Any, ...]


class ChatSegmindGemini(BaseChatModel):
    """Google Gemini models hosted by Segmind (https://www.segmind.com) for LangChain.

    Each call is one ``POST https://api.segmind.com/v1/<model>`` with the Gemini
    request in ``{"messages": ...}``. Works anywhere LangChain takes a chat model:
    chains, RAG pipelines, ``create_agent``, ``with_structured_output``.

    Setup:
        ```bash
        pip install "segmind-gemini[langchain]"
        export SEGMIND_API_KEY="..."   # https://cloud.segmind.com/console/api-keys
        ```

    Instantiate:
        ```python
        from langchain_segmind_gemini import ChatSegmindGemini

        model = ChatSegmindGemini(
            model="gemini-2.5-flash",
            # temperature=0.2,
            # max_tokens=1024,
            # timeout=60,          # seconds per call
            # max_retries=2,       # on 429, 5xx, resets and timeouts
            # api_mode="queue",    # Segmind's v2 queue, for calls over ~10 s
            # tool_calling="native",
        )
        ```

    Invoke:
        ```python
        messages = [
            ("system", "You translate English to French."),
            ("human", "I love programming."),
        ]
        msg = model.invoke(messages)
        msg.content                          # "J'adore la programmation."
        msg.usage_metadata                   # {"input_tokens": 12, "output_tokens": 6, ...}
        msg.response_metadata["cost"]        # USD, from Segmind's x-cost header
        msg.response_metadata["finish_reason"]   # "STOP", "MAX_TOKENS", "SAFETY", ...
        ```

    Async and batch (truly async, on aiohttp; sync calls work inside a running loop too):
        ```python
        msg = await model.ainvoke("Hello")
        msgs = await model.abatch(["Hi", "Bonjour", "Hola"])
        ```

    Stream:
        Segmind sends no server-sent events, so a stream yields the whole answer as
        one chunk (``chunk_position="last"``) with usage and tool calls on it.

        ```python
        for chunk in model.stream("Write a haiku about rain"):
            print(chunk.text, end="")
        ```

    Images, PDFs, audio and video:
        ```python
        from langchain_core.messages import HumanMessage

        msg = model.invoke([
            HumanMessage(content=[
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image", "base64": png_b64, "mime_type": "image/png"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                {"type": "file", "base64": pdf_b64, "mime_type": "application/pdf"},
            ])
        ])
        ```
        URLs are fetched by this library (http/https only, private addresses refused
        unless ``allow_private_urls=True``); paths in message content are never read.

    Tool calling:
        ```python
        from langchain_core.tools import tool

        @tool
        def get_weather(city: str) -> str:
            \"\"\"Current weather for a city.\"\"\"
            return "12C, light rain"

        model_with_tools = model.bind_tools([get_weather])
        msg = model_with_tools.invoke("Weather in Oslo?")
        msg.tool_calls   # [{"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_..."}]
        ```
        Segmind's gateway does not forward Gemini's ``tools`` field, so by default
        (``tool_calling="prompt"``) the tools are described in the system instruction
        and the model's JSON reply is parsed back into ``tool_calls``. Use
        ``tool_calling="native"`` with a gateway that forwards Gemini function calling.

    Structured output:
        ```python
        from pydantic import BaseModel

        class City(BaseModel):
            name: str
            country: str

        model.with_structured_output(City).invoke("The capital of Norway?")
        # City(name="Oslo", country="Norway")
        ```
        An answer that is not valid JSON for the schema gets one repair round trip
        before ``OutputParserException`` is raised.

    Reasoning:
        ```python
        model = ChatSegmindGemini(model="gemini-2.5-flash", include_thoughts=True)
        msg = model.invoke("How many r's in strawberry?")
        msg.additional_kwargs["reasoning_content"]   # the model's thoughts
        [b["type"] for b in msg.content_blocks]      # ["reasoning", "text"]
        ```
        With ``output_version="v1"`` the reasoning block is stored in ``content``.

    Errors:
        Every error is both a LangChain ``langchain_core.exceptions.Model*Error`` and
        a ``segmind_gemini`` error (``ModelRateLimitError`` *and* ``RateLimitError``),
        with ``status_code``, ``body`` and ``request_id``.
    """

    model: str = Field(default=DEFAULT_MODEL, alias="model_name")
    """Segmind model slug, e.g. ``"gemini-2.5-flash"``; any slug is accepted."""

    api_key: SecretStr | None = Field(
        default_factory=secret_from_env("SEGMIND_API_KEY", default=None),
        alias="segmind_api_key",
        exclude=True,
    )
    """Segmind API key; defaults to ``$SEGMIND_API_KEY``. Never shown or serialized: not in
    ``model_dump``, LangChain's ``dumpd`` (a secret reference) or pickles; an unpickled
    model reads ``$SEGMIND_API_KEY`` again."""

    base_url: str | None = Field(default_factory=from_env("SEGMIND_BASE_URL", default=None))
    """API base, default ``$SEGMIND_BASE_URL`` or ``https://api.segmind.com/v1``."""

    temperature: float | None = None
    """Sampling temperature; sent only when set."""

    max_tokens: int | None = Field(default=None, alias="max_output_tokens")
    """Most tokens to generate (``maxOutputTokens``); sent only when set."""

    top_p: float | None = None
    """Nucleus sampling probability; sent only when set."""

    top_k: int | None = None
    """Top-k sampling; sent only when set."""

    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    """Stop sequences; sent only when non-empty."""

    timeout: float | None = Field(default=None, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds allowed for one call (default 120; in queue mode for the whole job)."""

    max_retries: int = Field(default=2, ge=0, le=MAX_COUNT)
    """Retries on 5xx, connection resets, cut bodies and timeouts (a 429 waits its turn
    instead and uses none)."""

    requests_per_minute: int | None = Field(default=None, gt=0, le=MAX_COUNT)
    """Your plan's limit (5 free, 50 Pro; default ``$SEGMIND_REQUESTS_PER_MINUTE``): calls
    are paced from the first one. Unset, the pace is learned from the server's 429
    answers. Shared by every model and client with the same key, across threads and event
    loops."""

    max_rate_limit_wait: float = Field(default=900.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    """The longest one call waits for its turn under a rate limit (seconds); a reset
    further away raises ``RateLimitError`` at once with ``retry_after``."""

    rate_limit_store: str | None = None
    """Where the rate state is shared: ``"machine"`` (default: every process of this
    user here), ``"process"``, ``"sqlite:///PATH"`` or ``"redis://HOST:PORT/DB"``;
    default ``$SEGMIND_RATE_LIMIT_STORE``."""

    @field_validator("rate_limit_store")
    @classmethod
    def _known_store(cls, value: str | None) -> str | None:
        return None if value is None else hide_store_password(resolve_rate_limit_store(value))

    api_mode: Literal["sync", "queue"] = "sync"
    """``"sync"`` posts to ``/v1`` and waits; ``"queue"`` uses Segmind's ``/v2`` queue."""

    tool_calling: Literal["prompt", "native", "auto"] = "prompt"
    """``"prompt"``: tools described in the system instruction (Segmind drops ``tools``);
    ``"native"``: Gemini ``functionDeclarations``; ``"auto"``: native when the latest
    ``segmind-gemini check`` report for the slug says ``native_tools: supported``."""

    safety_settings: list[dict[str, Any]] | dict[str, Any] | None = None
    """Gemini ``safetySettings``: ``[{"category": "HARM_CATEGORY_HARASSMENT",
    "threshold": "BLOCK_ONLY_HIGH"}]`` or ``{"HARM_CATEGORY_HARASSMENT": "BLOCK_ONLY_HIGH"}``."""

    thinking_budget: int | None = None
    """``thinkingConfig.thinkingBudget`` for thinking models (0 turns thinking off)."""

    include_thoughts: bool | None = None
    """``thinkingConfig.includeThoughts``: return the model's thoughts as reasoning."""

    thinking_level: str | None = None
    """``thinkingConfig.thinkingLevel`` (Gemini 3): ``"low"`` or ``"high"``."""

    n: int | None = Field(default=None, alias="candidate_count")
    """``candidateCount``: answers per call; ``generate`` returns ``n`` generations."""

    seed: int | None = None
    """``seed`` for sampling."""

    presence_penalty: float | None = None
    """``presencePenalty``."""

    frequency_penalty: float | None = None
    """``frequencyPenalty``."""

    response_mime_type: str | None = None
    """``responseMimeType``, e.g. ``"application/json"``."""

    response_schema: dict[str, Any] | None = None
    """``responseSchema`` (Gemini's OpenAPI subset)."""

    response_json_schema: dict[str, Any] | None = None
    """``responseJsonSchema`` (plain JSON Schema, newer models)."""

    response_modalities: list[str] | None = None
    """``responseModalities``, e.g. ``["TEXT", "IMAGE"]`` for image output."""

    response_logprobs: bool | None = None
    """``responseLogprobs``: return the chosen tokens' log probabilities."""

    logprobs: int | bool | None = None
    """``logprobs``: how many top candidates per token (turns ``response_logprobs`` on);
    ``True`` means ``response_logprobs`` only."""

    media_resolution: str | None = None
    """``mediaResolution``: ``"low"``, ``"medium"`` or ``"high"``."""

    cached_content: str | None = None
    """``cachedContent``: a context cache name, ``"cachedContents/..."``."""

    labels: dict[str, str] | None = None
    """``labels`` (Vertex AI billing labels)."""

    image_config: dict[str, Any] | None = None
    """``imageConfig`` for image output, e.g. ``{"aspectRatio": "16:9"}``."""

    additional_headers: dict[str, str] | None = None
    """Extra HTTP headers on every request (credential headers are refused: use ``api_key``)."""

    rate_limit_window: float | None = Field(default=None, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    """The seconds ``requests_per_minute`` counts over (default 60)."""

    generation_config: dict[str, Any] | None = None
    """Raw ``generationConfig`` entries, merged over the named settings."""

    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Raw top-level request fields, merged into the body last. Unknown constructor
    arguments land here, with a warning."""

    streaming: bool = False
    """Accepted for compatibility: the gateway has no SSE, so streams are one chunk."""

    allow_private_urls: bool = False
    """Let media URLs point at loopback/private addresses (trusted input only)."""

    media_timeout: float = Field(default=30.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    """Seconds allowed to fetch one media URL."""

    model_config = ConfigDict(populate_by_name=True)

    _slot: ClientSlot = PrivateAttr(default_factory=ClientSlot)
    _derived: StateCache[_Derived] = PrivateAttr(default_factory=lambda: StateCache(BaseChatModel))

    def __init__(self, **kwargs: Any) -> None:
        # Screened before pydantic runs: a refusal raised inside validation would be
        # wrapped in a ValidationError that quotes the input, credentials included.
        screened = screen_arguments(
            kwargs, where="constructor", owner=_OWNER, allowed_secrets=_CONSTRUCTOR_SECRETS
        )
        if isinstance(screened.get("base_url"), str):
            # Checked now (the client is built at the first call): a URL holding a
            # password is refused before any repr could show it.
            resolve_base_url(screened["base_url"])
        # Wrapped here too: the after-validator's error quotes __init__'s own arguments.
        super().__init__(**hide_secrets(screened, _KEY_NAMES, SecretStr))

    @model_validator(mode="wrap")
    @classmethod
    def _hide_key(cls, values: Any, handler: Any) -> Any:
        """The key is a SecretStr before anything else reads it: no error can quote it."""
        return handler(hide_secrets(values, _KEY_NAMES, SecretStr))

    @model_validator(mode="before")
    @classmethod
    def _screen_arguments(cls, values: Any) -> Any:
        """Peers' spellings mapped, credentials refused, unknown arguments kept with a warning.

        The same rule as ``SegmindGemini`` (see :mod:`segmind_gemini.planning.arguments`).
        """
        if not isinstance(values, dict):
            return values
        values = screen_arguments(
            values, where="constructor", owner=_OWNER, allowed_secrets=_CONSTRUCTOR_SECRETS
        )
        return move_unknown(
            values, _known_arguments(cls), into="model_kwargs", owner=_OWNER, stacklevel=4
        )

    @model_validator(mode="after")
    def _check_settings(self) -> ChatSegmindGemini:
        # A bad value fails here, at construction, rather than on the first call.
        layered_settings(self._constructor_settings())
        warn_if_retired(self.model, stacklevel=4)  # the client is made later, on first use
        return self

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["__dict__"] = {**state["__dict__"], "api_key": None}
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        # The key never travels in a pickle: it comes back from the environment.
        self.__dict__["api_key"] = secret_from_env("SEGMIND_API_KEY", default=None)()

    # ------------------------------------------------------------------ LangChain plumbing

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_segmind_gemini", "chat_models"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "SEGMIND_API_KEY"}

    @property
    def _llm_type(self) -> str:
        return "segmind-gemini"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return dict(self._state().identifying)

    def _state(self) -> _Derived:
        """The values derived from the fields, rebuilt only when a field changed."""
        # Read from pydantic's private dict: `self._derived` goes through its
        # __getattr__, ~1.3 us.
        cache: StateCache[_Derived] = self.__pydantic_private__["_derived"]  # type: ignore[index]
        return cache.get(self, _BUILD_STATE)

    def _build_state(self) -> _Derived:
        try:
            settings: dict[str, Any] | None = layered_settings(self._constructor_settings())
        except Exception:
            settings = None
        params: dict[str, Any] = {
            "model": self.model,
            "base_url": self.base_url,
            "api_mode": self.api_mode,
            "tool_calling": self.tool_calling,
        }
        params.update(self._settings())
        return _Derived(settings, params, self._client_key())

    def _client_key(self) -> tuple[Any, ...]:
        """The settings the core client is built from."""
        return (
            self.api_key,
            self.base_url,
            self.timeout,
            self.max_retries,
            self.api_mode,
            self.requests_per_minute,
            self.max_rate_limit_wait,
            self.rate_limit_window,
            tuple(sorted(self.additional_headers.items())) if self.additional_headers else (),
            self.rate_limit_store,
        )

    def _named_settings(self) -> dict[str, Any]:
        """The named settings by their canonical names (``None`` = not set)."""
        values = settings_of(self)
        values["stop_sequences"] = self.stop or None
        return values

    def _constructor_settings(self) -> dict[str, Any]:
        return {
            **self._named_settings(),
            "generation_config": self.generation_config,
            "model_kwargs": self.model_kwargs,
        }

    def _settings(self) -> dict[str, Any]:
        """Generation settings that are set (the rest are not sent)."""
        values = self._named_settings()
        values["generation_config"] = self.generation_config
        values["model_kwargs"] = self.model_kwargs or None
        return {k: v for k, v in values.items() if v is not None}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="segmind",
            ls_model_name=kwargs.get("model") or self.model,
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", kwargs.get("max_output_tokens", self.max_tokens))
        if max_tokens:
            params["ls_max_tokens"] = max_tokens
        ls_stop = stop or kwargs.get("stop") or self.stop
        # Trace metadata only: a bad stop is refused by the planner, not here.
        if isinstance(ls_stop, str):
            params["ls_stop"] = [ls_stop]
        elif isinstance(ls_stop, (list, tuple)) and ls_stop:
            params["ls_stop"] = list(ls_stop)
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        return model_profile(self.model)

    # --------------------------------------------------------------------------- client

    @property
    def client(self) -> SegmindGeminiClient:
        """The core client, built on first use and reused by every call on this object.

        Changing a connection setting (key, base URL, timeout, retries, API mode)
        on the model makes the next call build a new one.
        """
        return self._client_for(self._state())

    def _client_for(self, state: _Derived) -> SegmindGeminiClient:
        return slotted_client(self, state.client_key, self._new_client)

    def _new_client(self) -> SegmindGeminiClient:
        return SegmindGeminiClient(
            self.api_key,
            model=self.model,
            base_url=self.base_url,
            timeout=self.timeout if self.timeout else DEFAULT_TIMEOUT,
            max_retries=self.max_retries,
            api_mode=self.api_mode,
            requests_per_minute=self.requests_per_minute,
            max_rate_limit_wait=self.max_rate_limit_wait,
            rate_limit_window=self.rate_limit_window or 60.0,
            default_headers=self.additional_headers,
            rate_limit_store=self.rate_limit_store,
        )

    def close(self) -> None:
        """Release the sync connection pool (the model can still be used afterwards)."""
        client, self._slot.client = self._slot.client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Release the connections of the running event loop and the sync pool."""
        client, self._slot.client = self._slot.client, None
        if client is not None:
            await client.aclose()

    # -------------------------------------------------------------------------- requests

    def _convert_input(self, model_input: LanguageModelInput) -> PromptValue:
        # Every entry point (invoke, stream, batch and their async forms) converts its
        # input here, before LangChain's own handling of content blocks could fail on one.
        value = super()._convert_input(model_input)
        if type(value) is StringPromptValue:
            return value  # one text message: no content blocks to check
        try:
            check_block_types(value.to_messages())
        except SegmindError as exc:
            raise to_langchain_error(exc) from exc
        return value

    def _prepare(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: Mapping[str, Any],
        client: SegmindGeminiClient,
        state: _Derived,
    ) -> Plan:
        call = dict(kwargs)
        if stop is not None:
            call["stop_sequences"] = stop
        built = state.settings
        return plan_call(
            lambda mode: convert_messages(messages, mode=mode),
            call,
            defaults=self._constructor_settings() if built is None else {},
            owner=_OWNER,
            model=self.model,
            tool_calling=self.tool_calling,
            base_url=client.base_url,
            framework_keys=_FRAMEWORK_KEYS,
            built_defaults=built,
        )

    def _load_media(self, ref: MediaRef) -> dict[str, Any]:
        return part_from_url(
            ref.url,
            ref.mime_type,
            allow_private=self.allow_private_urls,
            timeout=self.media_timeout,
        )

    async def _aload_media(self, ref: MediaRef) -> dict[str, Any]:
        return await apart_from_url(
            ref.url,
            ref.mime_type,
            allow_private=self.allow_private_urls,
            timeout=self.media_timeout,
        )

    def _send(self, call: Plan, client: SegmindGeminiClient) -> GenerateContentResult:
        request = call.request
        if call.converted.media_refs:
            contents = resolve_media(with_contents(call.converted, request), self._load_media)
            request = {**request, "contents": contents}
        return client.generate_content(
            request, model=call.model or self.model, api_mode=call.api_mode, timeout=call.timeout
        )

    async def _asend(self, call: Plan, client: SegmindGeminiClient) -> GenerateContentResult:
        request = call.request
        if call.converted.media_refs:
            contents = await aresolve_media(
                with_contents(call.converted, request), self._aload_media
            )
            request = {**request, "contents": contents}
        return await client.agenerate_content(
            request, model=call.model or self.model, api_mode=call.api_mode, timeout=call.timeout
        )

    def _chat_result(self, call: Plan, result: GenerateContentResult) -> ChatResult:
        # One generation per candidate (candidate_count / n > 1 gives several).
        model = call.model or self.model
        return ChatResult(
            generations=[
                ChatGeneration(message=to_ai_message(r, call.reply(r), model=model))
                for r in (result, *result.other_candidates)
            ]
        )

    # ------------------------------------------------------------------------- the calls
    #
    # LangChain hands call arguments to callbacks and traces (``on_chat_model_start``)
    # before ``_generate`` runs: a credential is refused at these entry points, first.

    def _refuse_secrets(self, kwargs: Mapping[str, Any]) -> None:
        # LangChain always passes tags, metadata, run_name and run_id: skip the unset,
        # and its own ones left empty (None, [], {}).
        kwargs = {k: v for k, v in kwargs.items() if v is not None and (v or k not in _PLUMBING)}
        if not kwargs:
            return
        key = self.api_key.get_secret_value() if self.api_key is not None else None
        try:
            check_no_secrets(kwargs, where="call", owner=_OWNER, key=key)
        except SegmindError as exc:
            raise to_langchain_error(exc) from exc

    def bind(self, **kwargs: Any) -> _ChatModelBinding:
        """Bind call arguments; a credential among them is refused here, not sent."""
        self._refuse_secrets(kwargs)
        return super().bind(**kwargs)

    # The entry points LangChain routes every call through (invoke and batch reach
    # generate / agenerate): *args keeps their signatures LangChain's own.
    def generate(self, *args: Any, **kwargs: Any) -> LLMResult:
        self._refuse_secrets(kwargs)
        return super().generate(*args, **kwargs)

    async def agenerate(self, *args: Any, **kwargs: Any) -> LLMResult:
        self._refuse_secrets(kwargs)
        return await super().agenerate(*args, **kwargs)

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[AIMessageChunk]:
        self._refuse_secrets(kwargs)
        return super().stream(*args, **kwargs)

    def astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[AIMessageChunk]:
        self._refuse_secrets(kwargs)
        return super().astream(*args, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        try:
            state = self._state()
            client = self._client_for(state)
            call = self._prepare(messages, stop, kwargs, client, state)
            result = self._send(call, client)
        except SegmindError as exc:
            raise to_langchain_error(exc) from exc
        return self._chat_result(call, result)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        try:
            state = self._state()
            client = self._client_for(state)
            call = self._prepare(messages, stop, kwargs, client, state)
            result = await self._asend(call, client)
        except SegmindError as exc:
            raise to_langchain_error(exc) from exc
        return self._chat_result(call, result)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        try:
            state = self._state()
            client = self._client_for(state)
            call = self._prepare(messages, stop, kwargs, client, state)
            result = self._send(call, client)
        except SegmindError as exc:
            raise to_langchain_error(exc) from exc
        # LangChain itself reports the chunk to callbacks (on_llm_new_token).
        yield ChatGenerationChunk(
            message=to_ai_message_chunk(result, call.reply(result), model=call.model or self.model)
        )

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        try:
            state = self._state()
            client = self._client_for(state)
            call = self._prepare(messages, stop, kwargs, client, state)
            result = await self._asend(call, client)
        except SegmindError as exc:
            raise to_langchain_error(exc) from exc
        yield ChatGenerationChunk(
            message=to_ai_message_chunk(result, call.reply(result), model=call.model or self.model)
        )

    # ------------------------------------------------------------------- token counting

    def get_num_tokens(self, text: str) -> int:
        """Estimated Gemini tokens in ``text``, offline (see :mod:`segmind_gemini.tokens`)."""
        return estimate_text_tokens(text)

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[Any] | None = None,
    ) -> int:
        """Estimated prompt tokens for ``messages`` (and ``tools``), offline.

        Counts what would be sent: text, media by Gemini's per-model rules, and the
        tools as this model's ``tool_calling`` mode sends them. Media given by an
        http(s) URL is not fetched: an image counts as one small image, other media 0.
        Works as ``trim_messages(..., token_counter=model)``.
        """
        mode = resolve_mode(self.tool_calling, self.model, resolve_base_url(self.base_url))
        settings = layered_settings(self._constructor_settings())
        return prompt_tokens(messages, tools, mode=mode, settings=settings, model=self.model)

    # ----------------------------------------------------------------- tools and schemas

    def bind_tools(
        self,
        tools: Sequence[Mapping[str, Any] | type | Callable[..., Any] | BaseTool],
        tool_config: Mapping[str, Any] | Any | None = None,
        *,
        tool_choice: str | bool | Mapping[str, Any] | None = None,
        tool_calling: Literal["prompt", "native", "auto"] | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer tools to the model; its calls come back in ``AIMessage.tool_calls``.

        Args:
            tools: LangChain tools, functions, pydantic models, TypedDicts or
                OpenAI-style tool dicts; and Gemini's built-in tools
                (``{"google_search": {}}``, ``{"code_execution": {}}``,
                ``{"url_context": {}}``), which need ``tool_calling="native"``.
            tool_config: langchain-google-genai's spelling: Gemini's ``tool_config``
                (``{"function_calling_config": {"mode": "ANY", ...}}``), read as ``tool_choice``.
            tool_choice: ``"auto"`` (default), ``"any"``/``"required"``/``True``
                (must call one), ``"none"``/``False``, or a tool name.
            tool_calling: override the model's ``tool_calling`` mode for this binding.
            parallel_tool_calls: ``False`` asks for one call at a time and keeps only
                the first call of an answer (like LlamaIndex's
                ``allow_parallel_tool_calls=False``).
            strict: accepted for compatibility; arguments are not schema-enforced.
            kwargs: other call settings (``temperature``...), bound as well; the
                peers' ``tool_config`` (``function_calling_config``) means ``tool_choice``.

        >>> model.bind_tools([get_weather], tool_choice="get_weather").invoke("Oslo?")
        AIMessage(content='', tool_calls=[{'name': 'get_weather', 'args': {'city': 'Oslo'}, ...}])
        """
        try:
            if tool_config is not None:
                kwargs["tool_config"] = tool_config
            kwargs = screen_arguments(kwargs, where="bind_tools", owner=_OWNER)
            if tool_choice is None:
                tool_choice = kwargs.pop("tool_choice", None)
            if parallel_tool_calls is not None:
                kwargs["parallel_tool_calls"] = parallel_tool_calls
            functions, builtins = split_builtin_tools(tools)
            formatted = [openai_tool(t) for t in functions]
            # Check each definition now; a name defined twice is refused when called.
            names = list(dict.fromkeys(ToolSpec.from_openai(t).name for t in formatted))
            if tool_choice is not None and names:
                kwargs["tool_choice"] = resolve_tool_choice(tool_choice, names)
            if tool_calling is not None:
                kwargs["tool_calling"] = check_setting(tool_calling)
            if builtins:
                check_builtin_mode(builtins, kwargs.get("tool_calling") or self.tool_calling)
                kwargs["builtin_tools"] = builtins
        except SegmindError as exc:
            raise to_langchain_error(exc) from exc
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: Mapping[str, Any] | type | None = None,
        *,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """A runnable that answers with data matching ``schema`` instead of a message.

        Args:
            schema: a pydantic model (answers are instances of it), a TypedDict, or a
                JSON Schema / OpenAI tool dict (answers are dicts). Optional for
                ``json_mode``.
            method:
                - ``"json_schema"`` (default): the schema goes into the system
                  instruction (and, in native mode, ``responseSchema``); the reply is
                  parsed (bare or fenced JSON), validated, and on failure repaired
                  with one more round trip before ``OutputParserException``.
                - ``"function_calling"``: the schema is bound as a forced tool and the
                  call's arguments are the answer.
                - ``"json_mode"``: asks for JSON only; describe the shape in your prompt.
            include_raw: return ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}``
                and never raise a parsing error.
            strict: accepted for compatibility; recorded in tracing metadata.

        >>> class City(BaseModel):
        ...     name: str
        ...     country: str
        >>> model.with_structured_output(City).invoke("Capital of Norway?")
        City(name='Oslo', country='Norway')
        """
        if kwargs:
            raise ValueError(f"Received unsupported arguments {kwargs}")
        return structured_output_runnable(
            self, schema, method=method, include_raw=include_raw, strict=strict
        )


@functools.cache
def _known_arguments(cls: type[BaseModel]) -> frozenset[str]:
    """Field names and aliases a model class accepts (fields are fixed per class)."""
    fields = cls.model_fields
    return frozenset({*fields, *(f.alias for f in fields.values() if f.alias)})
