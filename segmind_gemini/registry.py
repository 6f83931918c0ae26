"""Known Segmind Gemini slugs and their limits.

Any slug is accepted; unknown ones get conservative defaults, so a model that
Segmind adds tomorrow works today.

>>> get_model_info("gemini-2.5-flash").context_window
1048576
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from segmind_gemini.errors import InvalidRequestError

__all__ = [
    "CURRENT_MODELS",
    "DEFAULT_MODEL",
    "MODELS",
    "ModelInfo",
    "RetiredModelWarning",
    "check_slug",
    "current_model_slugs",
    "get_model_info",
    "warn_if_retired",
]

#: The one default slug: the client, both adapters, the CLI and ``check`` all use it.
#: ``gemini-2.5-flash`` is Google's stable (GA, not preview) general model on Segmind's
#: list: current, cheap enough for a default (a fraction of 2.5-pro's price), with
#: thinking, tools and every input kind; the 3.x slugs are newer but still previews.
DEFAULT_MODEL = "gemini-2.5-flash"

_ALL_INPUTS = ("text", "image", "pdf", "audio", "video")


@dataclass(frozen=True)
class ModelInfo:
    """What is known about one slug.

    Attributes:
        slug: the path segment after ``/v1/``.
        context_window: input tokens the model accepts.
        max_output_tokens: the most tokens it will generate.
        input_modalities: kinds of input it reads (text, image, pdf, audio, video).
        legacy: retired by Google for new projects; kept only for old pages.
        thinking: whether the model emits thought tokens by default.
        known: ``False`` for a slug not in the registry (defaults were used).
    """

    slug: str
    context_window: int
    max_output_tokens: int
    input_modalities: tuple[str, ...] = _ALL_INPUTS
    legacy: bool = False
    thinking: bool = False
    known: bool = True

    @property
    def supports_images(self) -> bool:
        return "image" in self.input_modalities


MODELS: dict[str, ModelInfo] = {
    m.slug: m
    for m in (
        ModelInfo("gemini-3.1-pro", 1_048_576, 65_536, thinking=True),
        ModelInfo("gemini-3.1-flash-lite", 1_048_576, 65_536, thinking=True),
        ModelInfo("gemini-3-pro", 1_048_576, 65_536, thinking=True),
        ModelInfo("gemini-3-flash", 1_048_576, 65_536, thinking=True),
        ModelInfo("gemini-2.5-pro", 1_048_576, 65_536, thinking=True),
        ModelInfo("gemini-2.5-flash", 1_048_576, 65_536, thinking=True),
        ModelInfo("gemini-2.5-flash-lite", 1_048_576, 65_536, thinking=True),
        ModelInfo("gemini-1.5-pro", 2_097_152, 8_192, legacy=True),
    )
}

CURRENT_MODELS: tuple[str, ...] = tuple(slug for slug, m in MODELS.items() if not m.legacy)


def current_model_slugs() -> list[str]:
    """The slugs Segmind lists today, newest first."""
    return list(CURRENT_MODELS)


class RetiredModelWarning(UserWarning):
    """A client was made for a slug Google has retired (Segmind answers it with 410)."""


def warn_if_retired(slug: str, *, stacklevel: int = 3) -> None:
    """Warn, naming the current slugs, when ``slug`` is one Google has retired."""
    info = MODELS.get(slug)
    if info is not None and info.legacy:
        warnings.warn(
            f"model {slug!r} is retired by Google for new projects and Segmind may answer "
            f"it with HTTP 410; use a current slug: {', '.join(CURRENT_MODELS)} "
            f"(the default is {DEFAULT_MODEL!r})",
            RetiredModelWarning,
            stacklevel=stacklevel,
        )


def check_slug(model: str) -> str:
    """``model`` stripped, or :class:`~segmind_gemini.errors.InvalidRequestError` when it
    cannot be a slug (empty, or holding ``/`` or a space)."""
    if not isinstance(model, str) or not model.strip() or "/" in model or " " in model.strip():
        raise InvalidRequestError(
            f"model must be a Segmind slug such as {DEFAULT_MODEL!r}, got {model!r}"
        )
    return model.strip()


def get_model_info(slug: str) -> ModelInfo:
    """Return the registry entry for ``slug``, or safe defaults for an unknown slug."""
    info = MODELS.get(slug)
    if info is not None:
        return info
    # A modest window keeps memory-based prompt truncation in the frameworks safe.
    return ModelInfo(slug, 1_048_576, 8_192, known=False)
