"""Call arguments of ``SegmindGemini``: a credential is refused before anything records it."""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Mapping
from typing import Any

from segmind_gemini.planning.arguments import check_no_secrets

__all__ = [
    "ENTRY_POINTS",
    "LLM_KWARGS_ENTRY_POINTS",
    "TOOL_ENTRY_POINTS",
    "presign",
    "refusing_secrets",
]

#: The methods every call goes through (LlamaIndex's helpers and agents call these).
ENTRY_POINTS = (
    "chat",
    "achat",
    "stream_chat",
    "astream_chat",
    "complete",
    "acomplete",
    "stream_complete",
    "astream_complete",
)

#: LlamaIndex's tool helpers: their keyword arguments go to ``chat`` whole, but their own
#: span records them first.
TOOL_ENTRY_POINTS = (
    "chat_with_tools",
    "achat_with_tools",
    "stream_chat_with_tools",
    "astream_chat_with_tools",
    "predict_and_call",
    "apredict_and_call",
)

#: Structured prediction: only ``llm_kwargs`` goes to the model (the other keyword
#: arguments fill the prompt's template, so their names are the user's own).
LLM_KWARGS_ENTRY_POINTS = (
    "structured_predict",
    "astructured_predict",
    "stream_structured_predict",
    "astream_structured_predict",
)


def _checked(kwargs: Mapping[str, Any], only: str | None) -> Mapping[str, Any]:
    if only is None:
        return kwargs
    inner = kwargs.get(only)
    return dict(inner) if isinstance(inner, Mapping) else {}


def _refuse_secrets(llm: Any, kwargs: Mapping[str, Any], owner: str) -> None:
    if kwargs:
        key = llm.api_key.get_secret_value() if llm.api_key is not None else None
        check_no_secrets(kwargs, where="call", owner=owner, key=key)


def refusing_secrets(
    method: Callable[..., Any], owner: str, *, only: str | None = None
) -> Callable[..., Any]:
    """``method`` refusing a credential among its keyword arguments before it runs
    (with ``only``, in that one keyword argument).

    LlamaIndex's callback decorator and instrumentation span record the call's
    keyword arguments (``LLMChatStartEvent.additional_kwargs``) before the body
    runs, so the check wraps them from outside.

    ``method`` is the attribute as the class stores it (the span's wrapt wrapper),
    and each call binds it to the instance first: called unbound with ``self``
    among the arguments, wrapt hands the span a partial, whose signature the span
    works out on every call (~15 us more than for a bound method).
    """
    bind = method.__get__
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def acall(self: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs:
                _refuse_secrets(self, _checked(kwargs, only), owner)
            return await bind(self, type(self))(*args, **kwargs)

        return acall

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            _refuse_secrets(self, _checked(kwargs, only), owner)
        return bind(self, type(self))(*args, **kwargs)

    return call


def presign(method: Any) -> None:
    """Give the function under LlamaIndex's span wrapper its signature, worked out once.

    The span binds every call's arguments with ``inspect.signature(func)``, which
    otherwise walks the callback decorator's function anew each call (~9 us, ~6 us
    less with ``__signature__`` set). ``method`` is the attribute as the class stores
    it (the span's wrapt wrapper); its ``__wrapped__`` is the callback's function,
    whose own signature is stored unchanged.
    """
    inner = getattr(method, "__wrapped__", None)
    if isinstance(inner, types.FunctionType) and "__signature__" not in vars(inner):
        inner.__signature__ = inspect.signature(inner)  # type: ignore[attr-defined]
