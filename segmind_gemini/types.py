"""The Gemini wire format as typed structures.

Requests are plain dicts (what ``json.dumps`` sends); these ``TypedDict``s
document their shape for type checkers and readers. Gemini accepts camelCase
and snake_case keys; this package writes camelCase, except the top-level
``system_instruction`` that Segmind's docs show.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = [
    "Blob",
    "Content",
    "FunctionCallData",
    "FunctionResponseData",
    "GenerateContentRequest",
    "GenerationConfig",
    "Part",
    "Role",
    "SystemInstruction",
]

Role = Literal["user", "model"]


class Blob(TypedDict):
    mimeType: str
    data: str  # base64


class FunctionCallData(TypedDict, total=False):
    name: str
    args: dict[str, Any]
    id: str


class FunctionResponseData(TypedDict, total=False):
    name: str
    response: dict[str, Any]
    id: str


class Part(TypedDict, total=False):
    text: str
    thought: bool
    thoughtSignature: str
    inlineData: Blob
    functionCall: FunctionCallData
    functionResponse: FunctionResponseData


class Content(TypedDict):
    role: Role
    parts: list[Part]


class SystemInstruction(TypedDict):
    parts: list[Part]


class GenerationConfig(TypedDict, total=False):
    temperature: float
    topP: float
    topK: int
    maxOutputTokens: int
    stopSequences: list[str]
    candidateCount: int
    responseMimeType: str
    responseSchema: dict[str, Any]
    thinkingConfig: dict[str, Any]
    seed: int
    presencePenalty: float
    frequencyPenalty: float
    responseJsonSchema: dict[str, Any]
    responseModalities: list[str]
    responseLogprobs: bool
    logprobs: int
    mediaResolution: str


class GenerateContentRequest(TypedDict, total=False):
    contents: list[Content]
    system_instruction: SystemInstruction
    generationConfig: GenerationConfig
    safetySettings: list[dict[str, str]]
    tools: list[dict[str, Any]]
    toolConfig: dict[str, Any]
    cachedContent: str
    labels: dict[str, str]
