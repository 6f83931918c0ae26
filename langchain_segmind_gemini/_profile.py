"""What LangChain may know about a model before calling it: its ``ModelProfile``."""

from __future__ import annotations

from langchain_core.language_models import ModelProfile

from segmind_gemini.registry import get_model_info

__all__ = ["model_profile"]


def model_profile(model: str) -> ModelProfile:
    """The profile of ``model`` from the registry (limits, input kinds, capabilities)."""
    info = get_model_info(model)
    inputs = set(info.input_modalities)
    profile = ModelProfile(
        name=info.slug,
        max_input_tokens=info.context_window,
        max_output_tokens=info.max_output_tokens,
        text_inputs=True,
        image_inputs="image" in inputs,
        image_url_inputs="image" in inputs,
        pdf_inputs="pdf" in inputs,
        audio_inputs="audio" in inputs,
        video_inputs="video" in inputs,
        image_tool_message="image" in inputs,
        pdf_tool_message="pdf" in inputs,
        reasoning_output=info.thinking,
        text_outputs=True,
        image_outputs=False,
        audio_outputs=False,
        video_outputs=False,
        tool_calling=True,
        tool_choice=True,
        tool_call_streaming=True,
        mid_conversation_system_messages=True,
        # with_structured_output works in both tool modes, and OpenAI's
        # response_format (create_agent's ProviderStrategy) is read as the same
        # schema instruction.
        structured_output=True,
        temperature=True,
    )
    if info.known:
        profile["status"] = "deprecated" if info.legacy else "active"
    return profile
