"""The Gemini wire format as typed structures.

Requests are plain dicts (what ``json.dumps`` sends); these ``TypedDict``s
document their shape for type checkers and readers. The response types are also
the schema every 200 answer is checked against before it is read. Gemini accepts camelCase
and snake_case keys; this package writes camelCase, except the top-level
``system_instruction`` that Segmind's docs show.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from segmind_gemini.wire.parts import PART_SHAPE
from segmind_gemini.wire.shape import REQUIRED_SHAPE

__all__ = [
    "REQUIRED_SHAPE",
    "Blob",
    "Candidate",
    "ChatCompletionResponse",
    "Content",
    "FunctionCallData",
    "FunctionResponseData",
    "GenerateContentRequest",
    "GenerateContentResponse",
    "GenerationConfig",
    "Part",
    "PromptFeedback",
    "ResponsePart",
    "Role",
    "SystemInstruction",
    "UsageMetadata",
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
    imageConfig: dict[str, Any]


class GenerateContentRequest(TypedDict, total=False):
    contents: list[Content]
    system_instruction: SystemInstruction
    generationConfig: GenerationConfig
    safetySettings: list[dict[str, str]]
    tools: list[dict[str, Any]]
    toolConfig: dict[str, Any]
    cachedContent: str
    labels: dict[str, str]


# --------------------------------------------------------------------------- responses
#
# What a 200 answer may hold. Every field is optional; ``Annotated[..., REQUIRED_SHAPE]``
# marks the fields on the path to the answer: when one is present with the wrong JSON
# type the body is reported as unreadable, while any other wrong-typed field is
# dropped (see :mod:`segmind_gemini.wire.validation`). Unlisted keys pass through. Each
# camelCase field also covers its snake_case spelling.


class LogprobCandidate(TypedDict, total=False):
    token: str
    tokenId: int
    logProbability: float


class TopCandidates(TypedDict, total=False):
    candidates: list[LogprobCandidate]


class LogprobsResult(TypedDict, total=False):
    chosenCandidates: list[LogprobCandidate]
    topCandidates: list[TopCandidates]


#: The shape of one answer part, built from :data:`segmind_gemini.wire.parts.PARTS`.
ResponsePart = PART_SHAPE


class ResponseContent(TypedDict, total=False):
    role: str
    parts: Annotated[list[Annotated[dict[str, Any], REQUIRED_SHAPE, PART_SHAPE]], REQUIRED_SHAPE]


class Candidate(TypedDict, total=False):
    content: Annotated[ResponseContent, REQUIRED_SHAPE]
    finishReason: str
    finishMessage: str
    safetyRatings: list[dict[str, Any]]
    citationMetadata: dict[str, Any]
    avgLogprobs: float
    index: int
    logprobsResult: LogprobsResult
    groundingMetadata: dict[str, Any]
    urlContextMetadata: dict[str, Any]


class PromptFeedback(TypedDict, total=False):
    blockReason: str
    blockReasonMessage: str
    safetyRatings: list[dict[str, Any]]


class UsageMetadata(TypedDict, total=False):
    promptTokenCount: int
    candidatesTokenCount: int
    thoughtsTokenCount: int
    cachedContentTokenCount: int
    toolUsePromptTokenCount: int
    totalTokenCount: int


class GenerateContentResponse(TypedDict, total=False):
    """Gemini's answer, as the gateway passes it through."""

    candidates: Annotated[list[Annotated[Candidate, REQUIRED_SHAPE]], REQUIRED_SHAPE]
    promptFeedback: PromptFeedback
    usageMetadata: UsageMetadata
    modelVersion: str
    responseId: str


class ChatFunction(TypedDict, total=False):
    name: Annotated[str, REQUIRED_SHAPE]
    arguments: Annotated[str | dict[str, Any], REQUIRED_SHAPE]


class ChatToolCall(TypedDict, total=False):
    id: str
    function: Annotated[ChatFunction, REQUIRED_SHAPE]


class ChatContentPiece(TypedDict, total=False):
    type: str
    text: Annotated[str, REQUIRED_SHAPE]


class ChatCompletionMessage(TypedDict, total=False):
    content: Annotated[str | list[Annotated[ChatContentPiece, REQUIRED_SHAPE]], REQUIRED_SHAPE]
    tool_calls: Annotated[list[Annotated[ChatToolCall, REQUIRED_SHAPE]], REQUIRED_SHAPE]
    reasoning_content: str


class ChatChoice(TypedDict, total=False):
    message: Annotated[ChatCompletionMessage, REQUIRED_SHAPE]
    finish_reason: str


class ChatTokenDetails(TypedDict, total=False):
    reasoning_tokens: int


class ChatUsage(TypedDict, total=False):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    completion_tokens_details: ChatTokenDetails


class ChatCompletionResponse(TypedDict, total=False):
    """The OpenAI-shaped body some Gemini slugs have been seen to return."""

    choices: Annotated[list[Annotated[ChatChoice, REQUIRED_SHAPE]], REQUIRED_SHAPE]
    usage: ChatUsage
    model: str
    id: str
