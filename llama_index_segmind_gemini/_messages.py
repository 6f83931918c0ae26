"""LlamaIndex ``ChatMessage`` lists to Gemini ``contents`` and a system instruction.

Pure: the only I/O is reading local files named by a block's ``path``; URLs are
handed to a loader the caller injects (sync or pre-fetched async), so this module
never opens a socket. The caller's messages and blocks are never modified.

>>> from llama_index.core.llms import ChatMessage
>>> conv = convert_messages([
...     ChatMessage(role="system", content="Be brief."),
...     ChatMessage(role="user", content="Hi"),
... ])
>>> conv.system, conv.contents
(['Be brief.'], [{'role': 'user', 'parts': [{'text': 'Hi'}]}])

Roles: ``system`` and ``developer`` become the system instruction; ``user`` stays
``user``; ``assistant``, ``model`` and ``chatbot`` become ``model``; ``tool`` and
``function`` messages become tool results through the core's tool protocol (in
either tool-calling mode), named by looking their ``tool_call_id`` up in the
earlier assistant tool calls; a result whose id matches no call (calls that had
no id) answers the latest assistant turn's open calls in order.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from io import IOBase
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    CitableBlock,
    CitationBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)
from llama_index.core.llms.llm import ToolSelection

from segmind_gemini.errors import InvalidRequestError, MediaError
from segmind_gemini.media.file_refs import file_data_part, is_file_reference
from segmind_gemini.media.loader import (
    apart_from_url,
    inline_part_from_base64,
    inline_part_from_bytes,
    inline_part_from_data_url,
)
from segmind_gemini.media.mime import is_generic_mime_type, normalize_mime_type
from segmind_gemini.media.urlguard import redact_url
from segmind_gemini.planning.options import part_media_resolution
from segmind_gemini.tools import ToolCall, ToolResult, ToolSpec, new_call_id
from segmind_gemini.tools.calling import ToolCallingMode, tool_call_turn, tool_result_turn
from segmind_gemini.wire.encoding import refuse_lone_surrogates

__all__ = [
    "ACCEPTED_BLOCKS",
    "Conversation",
    "Converted",
    "MediaRef",
    "UrlLoader",
    "convert_messages",
    "media_urls",
    "prefetch_media",
    "tool_calls_of",
    "tool_chat_arguments",
    "tool_selections",
]

#: ``(url, declared mime type or None) -> inlineData part``.
UrlLoader = Callable[[str, "str | None"], dict[str, Any]]

#: What error messages list as accepted content.
ACCEPTED_BLOCKS = (
    "TextBlock, ImageBlock, DocumentBlock, AudioBlock, VideoBlock, CitableBlock, "
    "ThinkingBlock and ToolCallBlock (assistant messages), CachePoint and CitationBlock (skipped)"
)

_MediaBlock = ImageBlock | DocumentBlock | AudioBlock | VideoBlock

_SYSTEM_ROLES = frozenset({MessageRole.SYSTEM, MessageRole.DEVELOPER})
_MODEL_ROLES = frozenset({MessageRole.ASSISTANT, MessageRole.MODEL, MessageRole.CHATBOT})
_TOOL_ROLES = frozenset({MessageRole.TOOL, MessageRole.FUNCTION})

# AudioBlock.format holds a file extension ("mp3"), not a MIME type.
_AUDIO_FORMATS = {
    "mp3": "audio/mp3",
    "mpeg": "audio/mpeg",
    "wav": "audio/wav",
    "wave": "audio/wav",
    "aif": "audio/aiff",
    "aiff": "audio/aiff",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "flac": "audio/flac",
}


@dataclass
class Conversation:
    """The converted messages.

    ``contents`` are Gemini turns (same-role neighbours are merged later by
    :func:`segmind_gemini.wire.request.build_request`); ``system`` holds the texts of
    the system and developer messages, in order.
    """

    contents: list[dict[str, Any]] = field(default_factory=list)
    system: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MediaRef:
    """A media block that needs a network fetch: its URL, declared type and location.

    ``where`` (``"messages[2].blocks[0] (ImageBlock)"``) names the block in errors.
    """

    url: str
    mime_type: str | None
    where: str = field(default="", compare=False)


def _where(index: int, block_index: int | None, block: object | None) -> str:
    if block_index is None:
        return f"messages[{index}]"
    return f"messages[{index}].blocks[{block_index}] ({type(block).__name__})"


# --------------------------------------------------------------------------- media


def _block_payload(block: _MediaBlock) -> bytes | IOBase | None:
    if isinstance(block, ImageBlock):
        return block.image
    if isinstance(block, AudioBlock):
        return block.audio
    if isinstance(block, VideoBlock):
        return block.video
    return block.data


def _declared_mime(block: _MediaBlock) -> str | None:
    if isinstance(block, ImageBlock):
        return block.image_mimetype
    if isinstance(block, VideoBlock):
        return block.video_mimetype
    if isinstance(block, DocumentBlock):
        return block.document_mimetype
    fmt = (block.format or "").strip().lower()
    if not fmt:
        return None
    return fmt if "/" in fmt else _AUDIO_FORMATS.get(fmt, f"audio/{fmt}")


def _read_stream(stream: IOBase) -> bytes:
    # Put the caller's stream back where it was: reading it must not "use it up".
    pos = stream.tell()
    try:
        stream.seek(0)
        data = stream.read()
    finally:
        stream.seek(pos)
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


def _part_from_payload(data: bytes, mime: str | None) -> dict[str, Any]:
    # The 0.14 blocks store bytes as base64 once validated; bytes set later (or a
    # block built with model_construct) may still be raw. Same test as
    # llama_index.core.utils.resolve_binary, so both sides agree on what they hold.
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return inline_part_from_bytes(data, mime)
    return inline_part_from_base64(data.decode("ascii"), mime)


def _url_of(block: _MediaBlock) -> str | None:
    return str(block.url) if block.url is not None else None


def _is_data_url(url: str) -> bool:
    return url[:5].lower() == "data:"


def _media_part(block: _MediaBlock, load_url: UrlLoader | None) -> dict[str, Any]:
    mime = _declared_mime(block)
    payload = _block_payload(block)
    if isinstance(payload, IOBase):
        part = inline_part_from_bytes(_read_stream(payload), mime)
    elif payload:
        part = _part_from_payload(bytes(payload), mime)
    elif block.path is not None:
        try:
            with open(str(block.path), "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise MediaError(f"cannot read {block.path}: {exc.strerror or exc}") from None
        part = inline_part_from_bytes(data, mime)
    else:
        url = _url_of(block)
        if not url:
            raise MediaError("the block has no data, path or url")
        reference = file_data_part(url, mime)
        if reference is not None:  # gs:// and YouTube: Gemini reads these itself
            part = reference
        elif _is_data_url(url):
            part = inline_part_from_data_url(url)
            if mime and not is_generic_mime_type(mime):
                blob = {**part["inlineData"], "mimeType": normalize_mime_type(mime)}
                part = {"inlineData": blob}
        elif load_url is None:
            raise MediaError(f"no URL loader was given to fetch {redact_url(url)}")
        else:
            part = load_url(url, mime)
    if isinstance(block, VideoBlock) and block.fps:
        part = {**part, "videoMetadata": {"fps": block.fps}}
    if isinstance(block, ImageBlock) and block.detail in _DETAIL_LEVELS:
        # LlamaIndex's own per-image setting, read as Gemini's per-part resolution.
        part = {**part, **part_media_resolution({"media_resolution": block.detail})}
    return part


_DETAIL_LEVELS = frozenset({"low", "medium", "high"})


def media_urls(messages: Sequence[ChatMessage]) -> list[MediaRef]:
    """The media blocks that will need a fetch (no bytes, no path, only a URL), in order.

    The async path fetches these concurrently first, then converts with a loader
    that looks the parts up.
    """
    refs: list[MediaRef] = []
    for index, message in enumerate(messages):
        for j, block in enumerate(message.blocks):
            inner = block.content if isinstance(block, CitableBlock) else [block]
            for item in inner:
                if (
                    isinstance(item, ImageBlock | DocumentBlock | AudioBlock | VideoBlock)
                    and not _block_payload(item)
                    and item.path is None
                    and item.url is not None
                    and not _is_data_url(str(item.url))
                    and not is_file_reference(str(item.url))
                ):
                    where = _where(index, j, item)
                    refs.append(MediaRef(str(item.url), _declared_mime(item), where))
    return refs


# --------------------------------------------------------------------------- tool calls


def _args_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return dict(parsed) if isinstance(parsed, dict) else {}
    return {}


def _getter(obj: Any) -> Callable[[str], Any]:
    if isinstance(obj, Mapping):
        return obj.get

    def get(key: str) -> Any:
        return getattr(obj, key, None)

    return get


def _legacy_call(entry: Any) -> tuple[str, str, dict[str, Any]] | None:
    """(id, name, args) of one ``additional_kwargs["tool_calls"]`` entry, in any known shape.

    OpenAI dicts and SDK objects (``function.name``/``arguments``), Anthropic
    (``name``/``input``), LlamaIndex ``ToolSelection`` and plain ``name``/``args``.
    """
    get = _getter(entry)
    fn = get("function")
    if fn is not None:
        fn_get = _getter(fn)
        name, args = fn_get("name"), fn_get("arguments")
    else:
        name = get("name") or get("tool_name")
        args = next(
            (get(k) for k in ("input", "args", "arguments", "tool_kwargs") if get(k) is not None),
            None,
        )
    if not isinstance(name, str) or not name:
        return None
    call_id = get("id") or get("tool_id") or get("tool_call_id") or ""
    return str(call_id), name, _args_dict(args)


def tool_calls_of(message: ChatMessage) -> list[ToolCall]:
    """The tool calls an assistant message carries: its ``ToolCallBlock``s, plus
    any older-style ``additional_kwargs["tool_calls"]`` entries not already among them.

    Thought signatures saved by this package (``additional_kwargs["thought_signatures"]``,
    keyed by call id) go back onto their calls, as Gemini requires in native mode.
    """
    kwargs = message.additional_kwargs
    signatures = kwargs.get("thought_signatures")
    sigs: Mapping[str, Any] = signatures if isinstance(signatures, Mapping) else {}
    calls: list[ToolCall] = []
    seen: set[str] = set()
    for block in message.blocks:
        if isinstance(block, ToolCallBlock):
            call_id = block.tool_call_id or ""
            seen.add(call_id)
            sig = sigs.get(call_id)
            calls.append(
                ToolCall(
                    name=block.tool_name,
                    args=_args_dict(block.tool_kwargs),
                    id=call_id,
                    thought_signature=sig if isinstance(sig, str) else None,
                )
            )
    legacy = kwargs.get("tool_calls")
    if isinstance(legacy, list):
        for entry in legacy:
            parsed = _legacy_call(entry)
            if parsed is None or parsed[0] in seen:
                continue
            seen.add(parsed[0])
            sig = sigs.get(parsed[0])
            calls.append(
                ToolCall(
                    name=parsed[1],
                    args=parsed[2],
                    id=parsed[0],
                    thought_signature=sig if isinstance(sig, str) else None,
                )
            )
    return calls


# --------------------------------------------------------------------------- conversion


def tool_selections(message: ChatMessage, error_on_no_tool_call: bool) -> list[ToolSelection]:
    """``message``'s tool calls as ``ToolSelection``s.

    Raises:
        ValueError: there are none and ``error_on_no_tool_call`` is true.
    """
    calls = tool_calls_of(message)
    if not calls and error_on_no_tool_call:
        answer = (message.content or "").strip()
        raise ValueError(
            "Expected at least one tool call, but the model answered in text"
            + (f": {answer[:200]!r}" if answer else " (empty)")
        )
    return [
        ToolSelection(tool_id=c.id or new_call_id(), tool_name=c.name, tool_kwargs=c.args)
        for c in calls
    ]


class Converted:
    """The converted messages, as the core planner takes them."""

    __slots__ = ("contents", "system")

    def __init__(self, contents: list[dict[str, Any]], system: list[str]) -> None:
        self.contents = contents
        self.system = system


class _Converter:
    def __init__(self, mode: ToolCallingMode, load_url: UrlLoader | None) -> None:
        self.mode: ToolCallingMode = mode
        self.load_url = load_url
        self.out = Conversation()
        self.call_names: dict[str, str] = {}
        # The latest assistant turn's calls that no tool message has answered yet,
        # for results whose id matches none of them (see tool_message).
        self.unanswered: list[ToolCall] = []
        self.pending: list[ToolResult] = []
        self.pending_parts: list[dict[str, Any]] = []

    def run(self, messages: Sequence[ChatMessage]) -> Conversation:
        for index, message in enumerate(messages):
            role = message.role
            if role in _TOOL_ROLES:
                self.tool_message(index, message)
                continue
            self.flush_tool_results()
            if role in _SYSTEM_ROLES:
                self.system_message(index, message)
            elif role == MessageRole.USER:
                parts = self.parts(index, message.blocks, allow_model_blocks=False)
                self.out.contents.append({"role": "user", "parts": parts})
            elif role in _MODEL_ROLES:
                self.model_message(index, message)
            else:
                raise InvalidRequestError(
                    f"{_where(index, None, None)} has role {getattr(role, 'value', role)!r}; "
                    "accepted roles: "
                    "system, developer, user, assistant, model, chatbot, tool, function"
                )
        self.flush_tool_results()
        return self.out

    # -- roles

    def system_message(self, index: int, message: ChatMessage) -> None:
        for j, block in enumerate(message.blocks):
            if isinstance(block, TextBlock):
                refuse_lone_surrogates(block.text, _where(index, j, block))
                if block.text.strip():
                    self.out.system.append(block.text)
            elif not isinstance(block, CachePoint):
                raise InvalidRequestError(
                    f"{_where(index, j, block)}: a system message may hold only TextBlocks "
                    "(Gemini's system instruction is text); put media in a user message"
                )

    def model_message(self, index: int, message: ChatMessage) -> None:
        calls = tool_calls_of(message)
        refuse_lone_surrogates(
            [{"name": c.name, "args": c.args, "id": c.id} for c in calls],
            f"{_where(index, None, None)} tool calls",
        )
        self.unanswered = list(calls)
        parts = self.parts(index, message.blocks, allow_model_blocks=True)
        if not calls:
            self.out.contents.append({"role": "model", "parts": parts})
            return
        for call in calls:
            if call.id:
                self.call_names[call.id] = call.name
        # The calls' turn carries the text; thoughts and media stay in their own
        # parts, before it, so signatures and blobs go back untouched.
        text = "".join(p["text"] for p in parts if _is_plain_text(p))
        others = [p for p in parts if not _is_plain_text(p)]
        if others:
            self.out.contents.append({"role": "model", "parts": others})
        self.out.contents.append(tool_call_turn(calls, text or None, mode=self.mode))

    def tool_message(self, index: int, message: ChatMessage) -> None:
        kwargs = message.additional_kwargs
        call_id = str(
            kwargs.get("tool_call_id") or kwargs.get("tool_use_id") or kwargs.get("id") or ""
        )
        explicit = kwargs.get("name") or kwargs.get("tool_name")
        name = explicit or self.call_names.get(call_id)
        answered = next((c for c in self.unanswered if call_id and c.id == call_id), None)
        if answered is None and self.unanswered and call_id not in self.call_names:
            # Calls without ids (another LLM's history, hand-built messages) get
            # results whose ids match nothing: answer the open calls in order,
            # as agents run them, so the result still names its tool.
            answered = next(
                (c for c in self.unanswered if not name or c.name == name),
                None,
            )
        if answered is not None:
            self.unanswered.remove(answered)
            name = name or answered.name
            call_id = call_id or answered.id
        if not isinstance(name, str) or not name:
            # The assistant turn holding the call may have been trimmed from memory;
            # the result is still worth sending, under a neutral name.
            name = "tool"
        texts: list[str] = []
        refuse_lone_surrogates({"tool_call_id": call_id, "name": name}, _where(index, None, None))
        for j, block in enumerate(message.blocks):
            if isinstance(block, TextBlock):
                refuse_lone_surrogates(block.text, _where(index, j, block))
                texts.append(block.text)
            else:
                self.pending_parts.extend(self.parts(index, [block], False, offset=j))
        self.pending.append(
            ToolResult(
                call_id=call_id,
                name=name,
                content="\n".join(texts),
                is_error=bool(kwargs.get("is_error", False)),
            )
        )

    def flush_tool_results(self) -> None:
        if not self.pending:
            return
        self.out.contents.append(tool_result_turn(self.pending, mode=self.mode))
        if self.pending_parts:
            self.out.contents.append({"role": "user", "parts": self.pending_parts})
        self.pending = []
        self.pending_parts = []

    # -- blocks

    def parts(
        self,
        index: int,
        blocks: Sequence[Any],
        allow_model_blocks: bool,
        *,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for j, block in enumerate(blocks, start=offset):
            try:
                produced = self.block(block, allow_model_blocks)
                refuse_lone_surrogates(produced[0] if len(produced) == 1 else produced)
                parts.extend(produced)
            except MediaError as exc:
                raise MediaError(f"{_where(index, j, block)}: {exc.message}") from exc
            except InvalidRequestError as exc:
                raise InvalidRequestError(f"{_where(index, j, block)}: {exc.message}") from exc
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                # llama-index's own resolvers raise plain ValueErrors.
                raise MediaError(f"{_where(index, j, block)}: {exc}") from exc
        return parts

    def block(self, block: Any, allow_model_blocks: bool) -> list[dict[str, Any]]:
        if isinstance(block, TextBlock):
            return [{"text": block.text}] if block.text else []
        if isinstance(block, ImageBlock | DocumentBlock | AudioBlock | VideoBlock):
            return [_media_part(block, self.load_url)]
        if isinstance(block, CitableBlock):
            header = f"[Source: {block.title} ({block.source})]"
            parts: list[dict[str, Any]] = [{"text": header}]
            for inner in block.content:
                parts.extend(self.block(inner, allow_model_blocks))
            return parts
        if isinstance(block, CachePoint | CitationBlock):
            # No prompt caching on Segmind; citations point back at earlier content.
            return []
        if isinstance(block, ThinkingBlock):
            if not allow_model_blocks:
                return []
            sig = block.additional_information.get("thought_signature")
            if not isinstance(sig, str) or not sig:
                # Thought summaries without a signature tell the model nothing new.
                return []
            return [{"text": block.content or "", "thought": True, "thoughtSignature": sig}]
        if isinstance(block, ToolCallBlock):
            if allow_model_blocks:
                return []  # collected by tool_calls_of
            raise InvalidRequestError(
                "a ToolCallBlock belongs in an assistant message (the model's turn)"
            )
        raise InvalidRequestError(
            f"{type(block).__name__} is not supported; accepted: {ACCEPTED_BLOCKS}"
        )


def _is_plain_text(part: Mapping[str, Any]) -> bool:
    return "text" in part and not part.get("thought") and len(part) == 1


def convert_messages(
    messages: Sequence[ChatMessage],
    *,
    mode: ToolCallingMode = "prompt",
    load_url: UrlLoader | None = None,
) -> Conversation:
    """Convert ``messages`` into Gemini turns and system texts; raise before any sending.

    ``load_url(url, mime_type)`` turns a URL-only media block into an ``inlineData``
    part; without one, such blocks raise. Errors name the message and block index,
    the block type and what is accepted:

    >>> convert_messages([ChatMessage(role="user", blocks=[ImageBlock(image=gif_bytes)])])
    Traceback (most recent call last):
    ...
    segmind_gemini.errors.MediaError: messages[0].blocks[0] (ImageBlock): image/gif is not ...

    Raises:
        MediaError: a media block cannot be loaded or has a type Gemini refuses.
        InvalidRequestError: an unknown role or block, or a block in the wrong role.
    """
    return _Converter(mode, load_url).run(messages)


def tool_specs(tools: Any) -> list[ToolSpec]:
    """ToolSpecs from LlamaIndex tools, ToolSpecs or OpenAI-style dicts."""
    if not tools:
        return []
    specs: list[ToolSpec] = []
    for tool in tools:
        if isinstance(tool, ToolSpec):
            specs.append(tool)
        elif isinstance(tool, Mapping):
            specs.append(ToolSpec.from_openai(tool))
        else:
            meta = tool.metadata
            specs.append(
                ToolSpec(
                    name=meta.get_name(),
                    description=meta.description or "",
                    parameters=meta.get_parameters_dict(),
                )
            )
    return specs


async def prefetch_media(
    messages: Sequence[ChatMessage], *, allow_private: bool
) -> UrlLoader | None:
    """Every media URL in ``messages`` fetched at once (one fetch per URL, however often
    it appears), as a loader the message conversion reads from; ``None`` without URLs."""
    refs = media_urls(messages)
    if not refs:
        return None
    unique: dict[tuple[str, str | None], MediaRef] = {}
    for ref in refs:
        unique.setdefault((ref.url, ref.mime_type), ref)

    async def fetch(ref: MediaRef) -> dict[str, Any]:
        try:
            return await apart_from_url(ref.url, ref.mime_type, allow_private=allow_private)
        except MediaError as exc:
            raise MediaError(f"{ref.where}: {exc.message}") from exc

    parts = await asyncio.gather(*(fetch(r) for r in unique.values()))
    fetched = dict(zip(unique, parts, strict=True))

    def lookup(url: str, mime_type: str | None) -> dict[str, Any]:
        return fetched[(url, mime_type)]

    return lookup


def tool_chat_arguments(
    tools: Sequence[Any],
    user_msg: str | ChatMessage | None,
    chat_history: list[ChatMessage] | None,
    *,
    allow_parallel_tool_calls: bool,
    tool_required: bool,
    tool_choice: str | dict[str, Any] | None,
    kwargs: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``chat`` arguments that offer ``tools``; ``chat_history`` is copied, not extended."""
    messages = list(chat_history or [])
    if isinstance(user_msg, str):
        messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
    elif user_msg is not None:
        messages.append(user_msg)
    if tool_choice is None and kwargs.get("tool_config") is None:  # the peers' spelling
        tool_choice = "required" if tool_required else "auto"
    return {
        **kwargs,
        "messages": messages,
        "tools": tool_specs(tools),
        "tool_choice": tool_choice,
        "allow_parallel_tool_calls": allow_parallel_tool_calls,
    }
