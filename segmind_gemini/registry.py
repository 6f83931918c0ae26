"""Known Segmind Gemini slugs and their limits.

Any slug is accepted; unknown ones get conservative defaults, so a model that
Segmind adds tomorrow works today.

>>> get_model_info("gemini-2.5-flash").context_window
1048576
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CURRENT_MODELS", "MODELS", "ModelInfo", "current_model_slugs", "get_model_info"]

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


def get_model_info(slug: str) -> ModelInfo:
    """Return the registry entry for ``slug``, or safe defaults for an unknown slug."""
    info = MODELS.get(slug)
    if info is not None:
        return info
    # A modest window keeps memory-based prompt truncation in the frameworks safe.
    return ModelInfo(slug, 1_048_576, 8_192, known=False)
