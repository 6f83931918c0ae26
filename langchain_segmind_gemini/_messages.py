"""LangChain messages -> Gemini ``contents`` and ``system_instruction``. Pure: no I/O.

:func:`convert_messages` never reads files, never touches the network and never
mutates its input. Media given by an http(s) URL comes back as a :class:`MediaRef`
placeholder; the chat model fetches those through the core's guarded loader (sync
or async) and swaps them in with :func:`resolve_media` / :func:`aresolve_media`.

>>> from langchain_core.messages import HumanMessage, SystemMessage
>>> prompt = convert_messages([SystemMessage("Be brief."), HumanMessage("Hi")])
>>> prompt.system, prompt.contents
(['Be brief.'], [{'role': 'user', 'parts': [{'text': 'Hi'}]}])

Roles: leading system messages become the system instruction; a system message
later in the conversation becomes a ``user`` turn marked ``[System note]``; human
is ``user``; AI is ``model``; tool results are a ``user`` turn. Tool calls and
results are rendered by the core for the chosen ``tool_calling`` mode.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from segmind_gemini.errors import InvalidRequestError, MediaError
from segmind_gemini.media.file_refs import file_data_part
from segmind_gemini.media.loader import inline_part_from_base64, inline_part_from_data_url
from segmind_gemini.media.mime import normalize_mime_type
from segmind_gemini.planning.options import part_media_resolution
from segmind_gemini.tools import ToolCall, ToolResult
from segmind_gemini.tools.calling import ToolCallingMode, tool_call_turn, tool_result_turn
from segmind_gemini.wire.encoding import refuse_lone_surrogates

__all__ = [
    "ACCEPTED_BLOCKS",
    "SYSTEM_NOTE_PREFIX",
    "TEXT_SIGNATURE_KEY",
    "THOUGHT_SIGNATURES_KEY",
    "GeminiPrompt",
    "MediaRef",
    "aresolve_media",
    "check_block_types",
    "convert_messages",
    "resolve_media",
]

#: ``AIMessage.additional_kwargs`` key holding ``{tool_call_id: thoughtSignature}``.
THOUGHT_SIGNATURES_KEY = "thought_signatures"
#: ``AIMessage.additional_kwargs`` key holding the signature Gemini put on the answer text.
TEXT_SIGNATURE_KEY = "text_thought_signature"
#: How a system message in the middle of a conversation is marked in its user turn.
SYSTEM_NOTE_PREFIX = "[System note] "

ACCEPTED_BLOCKS = (
    "accepted content blocks: text; image_url (a data: URL, an http(s) URL, a gs:// URI or "
    "a YouTube URL, string or "
    "{'url': ...}); image, file, audio, video with base64 + mime_type or an http(s)/data "
    "url (v1 'base64'/'url' keys, or v0 'source_type' base64/url); OpenAI file with "
    "file_data; input_audio; text-plain"
)

# Blocks an assistant message may carry that are not sent back: reasoning is the
# model's own scratchpad, and tool calls are rendered from AIMessage.tool_calls.
_AI_SKIPPED = frozenset(
    {
        "reasoning",
        "thinking",
        "redacted_thinking",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "tool_use",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "refusal",
    }
)
_MEDIA_TYPES = frozenset({"image", "file", "audio", "video", "document"})
_TOOL_MEDIA = _MEDIA_TYPES | {"image_url", "input_audio", "text-plain"}
_UNREADABLE_KEYS = ("file_id", "id", "path")


@dataclass(frozen=True)
class MediaRef:
    """An http(s) URL to fetch into an ``inlineData`` part before sending.

    ``where`` names the message and block, for error messages.
    """

    url: str
    mime_type: str | None
    where: str
    extra: tuple[tuple[str, Any], ...] = ()
    """Part fields sent beside the fetched data (a per-part ``mediaResolution``)."""


Part = dict[str, Any] | MediaRef


@dataclass(frozen=True)
class GeminiPrompt:
    """The converted conversation.

    ``contents`` are Gemini turns (same-role neighbours not yet merged; the core's
    ``build_request`` does that); their parts may hold :class:`MediaRef` until
    resolved. ``system`` holds the texts of the leading system messages.
    """

    contents: list[dict[str, Any]]
    system: list[str]
    media_refs: int = 0


class _Refusal(Exception):
    """A block that cannot be sent; re-raised with its location."""


def _fail(where: str, reason: str) -> InvalidRequestError:
    return InvalidRequestError(f"{where}: {reason}; {ACCEPTED_BLOCKS}")


@contextmanager
def _blamed_on(where: str) -> Iterator[None]:
    """Every refusal inside names ``where`` (message index and block) and what is accepted."""
    try:
        yield
    except _Refusal as exc:
        raise _fail(where, str(exc)) from None
    except MediaError as exc:
        raise MediaError(f"{where}: {exc.message}") from exc
    except InvalidRequestError:
        raise
    except (TypeError, AttributeError, KeyError, ValueError, RecursionError) as exc:
        # A value of a type no check above foresaw: still the caller's block at fault.
        raise _fail(where, f"the block is malformed ({type(exc).__name__}: {exc})") from None


# Block keys whose values must be strings when present (None counts as absent).
_STRING_KEYS = (
    "type",
    "text",
    "url",
    "base64",
    "data",
    "mime_type",
    "media_type",
    "source_type",
    "format",
    "file_data",
)
_NESTED_KEYS = ("image_url", "source", "file", "input_audio")


def _check_value_types(block: Mapping[str, Any]) -> None:
    for mapping in (block, *(block[k] for k in _NESTED_KEYS if isinstance(block.get(k), Mapping))):
        for key in _STRING_KEYS:
            value = mapping.get(key)
            if value is not None and not isinstance(value, str):
                raise _Refusal(f"{key!r} must be a string, got {type(value).__name__}")


# --------------------------------------------------------------------------- blocks


def _url_part(url: Any, mime_type: str | None, where: str) -> Part:
    if not isinstance(url, str) or not url.strip():
        raise _Refusal("the URL is missing or not a string")
    url = url.strip()
    reference = file_data_part(url, mime_type)
    if reference is not None:  # gs:// and YouTube: Gemini reads these itself
        return reference
    lowered = url[:8].lower()
    if lowered.startswith("data:"):
        part = inline_part_from_data_url(url)
        if mime_type:
            part["inlineData"]["mimeType"] = normalize_mime_type(mime_type)
        return part
    if lowered.startswith(("http://", "https://")):
        return MediaRef(url, normalize_mime_type(mime_type) if mime_type else None, where)
    # Never read local paths or file: URLs named in message content.
    scheme = url.split(":", 1)[0] + ":" if ":" in url[:12] else "a local path"
    raise _Refusal(
        f"{scheme} is not accepted as a media source (only data:, http(s) and gs:// URLs; "
        "local files are never read: load them yourself and pass base64)"
    )


def _base64_part(data: Any, mime_type: Any) -> dict[str, Any]:
    if not isinstance(data, str):
        raise _Refusal("the base64 data is missing or not a string")
    mime = mime_type if isinstance(mime_type, str) and mime_type else None
    return inline_part_from_base64(data, mime)


def _data_block_part(block: Mapping[str, Any], where: str) -> Part:
    """image / file / audio / video / document blocks, in every dialect LangChain uses."""
    mime_type = block.get("mime_type")
    source_type = block.get("source_type")
    if source_type is not None:  # LangChain v0
        if source_type == "base64":
            return _base64_part(block.get("data"), mime_type)
        if source_type == "url":
            return _url_part(block.get("url"), mime_type, where)
        if source_type == "text" and isinstance(block.get("text"), str):
            return {"text": block["text"]}
        raise _Refusal(f"source_type {source_type!r} is not supported (use base64 or url)")
    source = block.get("source")
    if isinstance(source, Mapping):  # Anthropic style
        kind = source.get("type")
        if kind == "base64":
            return _base64_part(source.get("data"), source.get("media_type"))
        if kind == "url":
            return _url_part(source.get("url"), source.get("media_type"), where)
        if kind == "text" and isinstance(source.get("data"), str):
            return {"text": source["data"]}
        raise _Refusal(f"source type {kind!r} is not supported (use base64 or url)")
    file = block.get("file")
    if isinstance(file, Mapping):  # OpenAI Chat Completions file block
        if isinstance(file.get("file_data"), str):
            data = file["file_data"]
            if data[:5].lower() == "data:":
                return _url_part(data, mime_type, where)
            return _base64_part(data, mime_type or "application/pdf")
        raise _Refusal("OpenAI file blocks need file_data (file ids cannot be resolved here)")
    if "base64" in block:  # LangChain v1
        return _base64_part(block["base64"], mime_type)
    if "data" in block:
        return _base64_part(block["data"], mime_type)
    if "url" in block:
        return _url_part(block["url"], mime_type, where)
    held = [k for k in _UNREADABLE_KEYS if k in block and k != "id"]
    if held:
        raise _Refusal(
            f"it gives only {held[0]!r}; send the data itself as base64 or an http(s) URL"
        )
    raise _Refusal("it has no data: give base64 + mime_type, or a url")


def _with_resolution(part: Part, block: Mapping[str, Any]) -> Part:
    """``part`` with the block's own ``media_resolution`` (block or ``extras``), if any."""
    extra = part_media_resolution(block)
    if not extra:
        return part
    if isinstance(part, MediaRef):
        return dataclasses.replace(part, extra=tuple(extra.items()))
    return {**part, **extra}


def _block_part(block: Any, where: str, *, ai: bool) -> Part | None:
    """One content block as a Gemini part; ``None`` for blocks not sent back."""
    if isinstance(block, str):
        return {"text": block} if block else None
    if not isinstance(block, Mapping):
        raise _Refusal(f"a content block must be a string or a dict, got {type(block).__name__}")
    _check_value_types(block)
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            raise _Refusal("a text block needs a string 'text'")
        return {"text": text} if text else None
    if kind == "image_url":
        image = block.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        return _with_resolution(_url_part(url, None, where), block)
    if kind in _MEDIA_TYPES:
        return _with_resolution(_data_block_part(block, where), block)
    if kind == "text-plain":
        if isinstance(block.get("text"), str):
            return {"text": block["text"]}
        if "base64" in block:
            return _base64_part(block["base64"], "text/plain")
        if "url" in block:
            return _url_part(block["url"], "text/plain", where)
        raise _Refusal("a text-plain block needs text, base64 or url")
    if kind == "input_audio":
        audio = block.get("input_audio")
        if not isinstance(audio, Mapping):
            raise _Refusal("an input_audio block needs {'data': base64, 'format': 'wav'|'mp3'}")
        fmt = str(audio.get("format") or "wav").lower()
        return _base64_part(audio.get("data"), f"audio/{fmt}")
    if ai and kind in _AI_SKIPPED:
        return None
    raise _Refusal(f"unsupported content block type {kind!r}")


def _content_parts(
    content: str | list[Any], index: int, role: str, *, ai: bool = False
) -> tuple[list[Part], int]:
    """Parts for a message's content, and how many of them are URL placeholders."""
    if isinstance(content, str):
        if not content.isascii():  # ASCII holds no lone surrogate
            refuse_lone_surrogates(content, f"message {index} ({role}), content")
        return ([{"text": content}] if content else []), 0
    parts: list[Part] = []
    refs = 0
    for j, block in enumerate(content):
        where = _block_where(index, role, j, block)
        with _blamed_on(where):
            part = _block_part(block, where, ai=ai)
            refuse_lone_surrogates(part.url if isinstance(part, MediaRef) else part, where)
        if part is None:
            continue
        if isinstance(part, MediaRef):
            refs += 1
        parts.append(part)
    return parts, refs


def check_block_types(messages: Sequence[BaseMessage]) -> None:
    """Refuse content blocks that LangChain's own pre-processing cannot read.

    ``BaseChatModel`` formats every message for tracing and normalises its blocks
    before a chat model sees them, and fails with a bare ``TypeError``/``ValueError``
    on some blocks (a ``type`` that is not a string, base64 image data without
    ``mime_type``). This runs the same steps first, one block at a time, and names
    the block instead.
    """
    for i, msg in enumerate(messages):
        if not isinstance(msg.content, list):
            continue
        for j, block in enumerate(msg.content):
            kind = block.get("type") if isinstance(block, Mapping) else None
            if kind is not None and not isinstance(kind, str):
                raise _fail(
                    _block_where(i, msg.type, j, block),
                    f"'type' must be a string, got {type(kind).__name__}",
                )
            problem = _langchain_problem(msg, block) if kind in _TOOL_MEDIA else None
            if problem is not None:
                raise _fail(
                    _block_where(i, msg.type, j, block), f"LangChain cannot read it ({problem})"
                )


def _langchain_problem(msg: BaseMessage, block: Any) -> str | None:
    if _LC_PREPROCESS is None:  # pragma: no cover - a LangChain without these helpers
        return None
    one = msg.model_copy(update={"content": [block]})
    try:
        for step in _LC_PREPROCESS:
            step([one])
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _preprocessing() -> tuple[Callable[[list[BaseMessage]], Any], ...] | None:
    try:
        from langchain_core.language_models._utils import _normalize_messages
        from langchain_core.language_models.chat_models import _format_for_tracing
    except ImportError:  # pragma: no cover - private helpers moved
        return None
    return (_format_for_tracing, _normalize_messages)


_LC_PREPROCESS = _preprocessing()


def _block_where(index: int, role: str, j: int, block: Any) -> str:
    kind = block.get("type") if isinstance(block, Mapping) else type(block).__name__
    return f"message {index} ({role}), content block {j} (type {kind!r})"


def _text_only(content: str | list[Any], index: int, role: str) -> str:
    refuse_lone_surrogates(content, f"message {index} ({role}), content")
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for j, block in enumerate(content):
        if isinstance(block, str):
            texts.append(block)
        elif isinstance(block, Mapping) and block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        else:
            kind = block.get("type") if isinstance(block, Mapping) else type(block).__name__
            raise InvalidRequestError(
                f"message {index} ({role}), content block {j} (type {kind!r}): a system "
                "message may hold only text blocks; put media in a human message"
            )
    return "\n".join(t for t in texts if t)


# --------------------------------------------------------------------------- tools


def _tool_output(content: str | list[Any], index: int) -> tuple[Any, list[Part], int]:
    """A tool message's output for the result, plus media parts to send after it."""
    if isinstance(content, str):
        refuse_lone_surrogates(content, f"message {index} (tool), content")
        return content, [], 0
    texts: list[str] = []
    data: list[Any] = []
    media: list[Part] = []
    refs = 0
    for j, block in enumerate(content):
        where = _block_where(index, "tool", j, block)
        refuse_lone_surrogates(block, where)
        if isinstance(block, str):
            texts.append(block)
            continue
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif isinstance(kind, str) and kind in _TOOL_MEDIA:
            with _blamed_on(where):
                part = _block_part(block, where, ai=False)
            if part is not None:
                refs += isinstance(part, MediaRef)
                media.append(part)
        else:
            # A tool's output is data, not instructions: anything else is sent as JSON.
            try:
                json.dumps(block, default=str)
            except (TypeError, ValueError, RecursionError) as exc:
                raise InvalidRequestError(
                    f"{where}: tool output that is not a text or media block is sent as JSON, "
                    f"and this block cannot be ({type(exc).__name__}: {exc}); use string keys "
                    "and JSON values, or convert the output to text"
                ) from None
            data.append(block)
    if data:
        texts.append(json.dumps(data, ensure_ascii=False, default=str))
    output = "\n".join(texts)
    if media and not output:
        output = "(the tool returned the media attached after this result)"
    return output, media, refs


def _ai_turn(
    msg: AIMessage, index: int, mode: ToolCallingMode
) -> tuple[dict[str, Any] | None, int]:
    parts, refs = _content_parts(msg.content, index, "ai", ai=True)
    calls = msg.tool_calls
    refuse_lone_surrogates(calls, f"message {index} (ai), tool_calls")
    extra = msg.additional_kwargs
    text_signature = extra.get(TEXT_SIGNATURE_KEY)
    if not calls:
        if text_signature and parts:
            # Gemini wants a signature back on the part it came with: the answer text.
            for k, part in enumerate(parts):
                if isinstance(part, dict) and "text" in part:
                    parts[k] = {**part, "thoughtSignature": text_signature}
                    break
        return ({"role": "model", "parts": parts} if parts else None), refs
    signatures = extra.get(THOUGHT_SIGNATURES_KEY)
    signatures = signatures if isinstance(signatures, Mapping) else {}
    core_calls = [
        ToolCall(
            name=call["name"],
            args=dict(call.get("args") or {}),
            id=call.get("id") or "",
            thought_signature=signatures.get(call.get("id") or ""),
        )
        for call in calls
    ]
    text = "".join(p["text"] for p in parts if isinstance(p, dict) and "text" in p)
    media = [p for p in parts if not (isinstance(p, dict) and "text" in p)]
    turn = tool_call_turn(core_calls, text or None, mode=mode)
    if mode == "native" and text_signature:
        turn["parts"] = [
            {**p, "thoughtSignature": text_signature} if "text" in p and k == 0 else p
            for k, p in enumerate(turn["parts"])
        ]
    if media:
        turn = {**turn, "parts": [*media, *turn["parts"]]}
    return turn, refs


# --------------------------------------------------------------------------- messages


def convert_messages(
    messages: Sequence[BaseMessage], *, mode: ToolCallingMode = "prompt"
) -> GeminiPrompt:
    """Convert LangChain messages to Gemini turns. Raises before anything is sent.

    Raises:
        InvalidRequestError: an unsupported message or content block; the message
            names its index, the block type and what is accepted.
        MediaError: media that Gemini does not accept (GIF, bad base64, ...).

    >>> from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
    >>> convert_messages([
    ...     HumanMessage("Weather in Oslo?"),
    ...     AIMessage("", tool_calls=[{"name": "weather", "args": {"city": "Oslo"}, "id": "c1"}]),
    ...     ToolMessage("12C, rain", tool_call_id="c1"),
    ... ], mode="native").contents[1]
    {'role': 'model', 'parts': [{'functionCall': {'name': 'weather', 'args': {'city': 'Oslo'}, \
'id': 'c1'}}]}
    """
    contents: list[dict[str, Any]] = []
    system: list[str] = []
    call_names: dict[str, str] = {}
    pending: list[ToolResult] = []
    pending_media: list[Part] = []
    refs = 0
    leading = True

    def flush_results() -> None:
        if pending:
            turn = tool_result_turn(list(pending), mode=mode)
            if pending_media:
                turn = {**turn, "parts": [*turn["parts"], *pending_media]}
            contents.append(turn)
            pending.clear()
            pending_media.clear()

    for i, msg in enumerate(messages):
        if isinstance(msg, (ToolMessage, FunctionMessage)):
            leading = False
            output, media, n = _tool_output(msg.content, i)
            refs += n
            if isinstance(msg, ToolMessage):
                call_id = msg.tool_call_id
                name = call_names.get(call_id) or msg.name or "tool"
                is_error = msg.status == "error"
            else:
                call_id, name, is_error = msg.name, msg.name, False
            refuse_lone_surrogates({"tool_call_id": call_id, "name": name}, f"message {i} (tool)")
            pending.append(
                ToolResult(call_id=call_id, name=name, content=output, is_error=is_error)
            )
            pending_media.extend(media)
            continue
        flush_results()
        role = _role_of(msg, i)
        if role == "system":
            text = _text_only(msg.content, i, "system")
            if leading:
                if text:
                    system.append(text)
            elif text:
                contents.append({"role": "user", "parts": [{"text": SYSTEM_NOTE_PREFIX + text}]})
            continue
        leading = False
        if role == "model" and isinstance(msg, AIMessage):
            for call in msg.tool_calls:
                known_id = call.get("id")
                if known_id:
                    call_names[known_id] = call["name"]
            for bad in msg.invalid_tool_calls:
                bad_id, bad_name = bad.get("id"), bad.get("name")
                if bad_id and bad_name:
                    call_names[bad_id] = bad_name
            turn, n = _ai_turn(msg, i, mode)
            refs += n
            if turn is not None:
                contents.append(turn)
            continue
        parts, n = _content_parts(
            msg.content, i, "ai" if role == "model" else "human", ai=role == "model"
        )
        refs += n
        if parts:
            contents.append({"role": role, "parts": parts})
    flush_results()
    if not contents:
        raise InvalidRequestError(
            "nothing to send: the messages hold no human, AI or tool content (Gemini needs "
            "at least one turn besides system messages)"
        )
    return GeminiPrompt(contents, system, refs)


_CHAT_ROLES = {
    "user": "user",
    "human": "user",
    "assistant": "model",
    "ai": "model",
    "model": "model",
    "system": "system",
    "developer": "system",
}


def _role_of(msg: BaseMessage, index: int) -> str:
    if isinstance(msg, HumanMessage):
        return "user"
    if isinstance(msg, AIMessage):
        return "model"
    if isinstance(msg, SystemMessage):
        return "system"
    if isinstance(msg, ChatMessage):
        role = _CHAT_ROLES.get(msg.role.lower())
        if role is not None:
            return role
        raise InvalidRequestError(
            f"message {index} (chat): role {msg.role!r} is not supported; use user, "
            "assistant or system"
        )
    raise InvalidRequestError(
        f"message {index}: {type(msg).__name__} is not supported; send HumanMessage, "
        "AIMessage, SystemMessage, ToolMessage or ChatMessage"
    )


# --------------------------------------------------------------------------- media


def _swap(
    contents: list[dict[str, Any]], fetched: Mapping[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for content in contents:
        parts = content["parts"]
        if any(isinstance(p, MediaRef) for p in parts):
            parts = [
                {**fetched[id(p)], **dict(p.extra)} if isinstance(p, MediaRef) else p for p in parts
            ]
            content = {**content, "parts": parts}
        out.append(content)
    return out


def _refs(contents: list[dict[str, Any]]) -> list[MediaRef]:
    return [p for c in contents for p in c["parts"] if isinstance(p, MediaRef)]


def _located(ref: MediaRef, exc: MediaError) -> MediaError:
    return MediaError(f"{ref.where}: {exc.message}")


def resolve_media(
    prompt: GeminiPrompt, load: Callable[[MediaRef], dict[str, Any]]
) -> list[dict[str, Any]]:
    """``prompt.contents`` with every :class:`MediaRef` replaced by ``load(ref)``."""
    if not prompt.media_refs:
        return prompt.contents
    fetched: dict[int, dict[str, Any]] = {}
    for ref in _refs(prompt.contents):
        try:
            fetched[id(ref)] = load(ref)
        except MediaError as exc:
            raise _located(ref, exc) from exc
    return _swap(prompt.contents, fetched)


async def aresolve_media(
    prompt: GeminiPrompt, aload: Callable[[MediaRef], Awaitable[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Async :func:`resolve_media`; fetches all URLs concurrently."""
    if not prompt.media_refs:
        return prompt.contents
    refs = _refs(prompt.contents)

    async def one(ref: MediaRef) -> dict[str, Any]:
        try:
            return await aload(ref)
        except MediaError as exc:
            raise _located(ref, exc) from exc

    parts = await asyncio.gather(*(one(r) for r in refs))
    return _swap(prompt.contents, {id(r): p for r, p in zip(refs, parts, strict=True)})


def counted_part(part: Any) -> Any:
    """A part to count: an unfetched URL stands in as an image reference (or nothing)."""
    if isinstance(part, MediaRef):
        mime = part.mime_type or "image/*"
        return {"fileData": {"fileUri": part.url, "mimeType": mime}}
    return part


def with_contents(prompt: GeminiPrompt, request: Mapping[str, Any]) -> GeminiPrompt:
    """The prompt whose contents are the (merged) ones in ``request``."""
    return GeminiPrompt(request["contents"], prompt.system, prompt.media_refs)
