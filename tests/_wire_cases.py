"""Each named setting, a value, and where and how it must appear in the Gemini request.

Shared by the LangChain and LlamaIndex wire-form tests; ``{adapter}`` names that
differ between frameworks are resolved there.
"""

from __future__ import annotations

import base64
from typing import Any

from segmind_gemini.testing.samples import tiny_png

HARASSMENT = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]

# (argument name, value, path in the request body, value expected there)
SETTING_CASES: list[tuple[str, Any, tuple[str, ...], Any]] = [
    ("temperature", 0.3, ("generationConfig", "temperature"), 0.3),
    ("top_p", 0.8, ("generationConfig", "topP"), 0.8),
    ("top_k", 5, ("generationConfig", "topK"), 5),
    ("max_tokens", 64, ("generationConfig", "maxOutputTokens"), 64),
    ("stop", ["END"], ("generationConfig", "stopSequences"), ["END"]),
    ("seed", 7, ("generationConfig", "seed"), 7),
    ("presence_penalty", 0.5, ("generationConfig", "presencePenalty"), 0.5),
    ("frequency_penalty", 0.25, ("generationConfig", "frequencyPenalty"), 0.25),
    ("response_mime_type", "application/json", ("generationConfig", "responseMimeType"),
     "application/json"),
    ("response_schema", {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}},
     ("generationConfig", "responseSchema"),
     {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}}),
    ("response_json_schema", {"type": "object", "properties": {"a": {"type": "string"}}},
     ("generationConfig", "responseJsonSchema"),
     {"type": "object", "properties": {"a": {"type": "string"}}}),
    ("response_modalities", ["TEXT", "IMAGE"], ("generationConfig", "responseModalities"),
     ["TEXT", "IMAGE"]),
    ("response_logprobs", True, ("generationConfig", "responseLogprobs"), True),
    ("logprobs", 3, ("generationConfig", "logprobs"), 3),
    ("media_resolution", "low", ("generationConfig", "mediaResolution"), "MEDIA_RESOLUTION_LOW"),
    ("thinking_budget", 0, ("generationConfig", "thinkingConfig", "thinkingBudget"), 0),
    ("include_thoughts", True, ("generationConfig", "thinkingConfig", "includeThoughts"), True),
    ("thinking_level", "low", ("generationConfig", "thinkingConfig", "thinkingLevel"), "LOW"),
    ("cached_content", "cachedContents/abc123", ("cachedContent",), "cachedContents/abc123"),
    ("labels", {"team": "search"}, ("labels",), {"team": "search"}),
    ("safety_settings", HARASSMENT, ("safetySettings",), HARASSMENT),
    ("safety_settings", {"HARM_CATEGORY_HARASSMENT": "BLOCK_ONLY_HIGH"}, ("safetySettings",),
     HARASSMENT),
]  # fmt: skip

SETTING_IDS = [f"{name}-{type(value).__name__}" for name, value, _, _ in SETTING_CASES]


def at(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in ``body`` (KeyError when it is not there)."""
    value: Any = body
    for key in path:
        value = value[key]
    return value


PNG = tiny_png(8, 8)
PNG_B64 = base64.b64encode(PNG).decode("ascii")

#: A Gemini answer with every field the adapters must surface (shaped like recorded
#: Gemini answers; built for these tests, not returned by Gemini).
RICH_ANSWER: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": "Let me compute that."},
                    {"executableCode": {"language": "PYTHON", "code": "print(6 * 7)"}},
                    {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "42\n"}},
                    {"text": "The answer is 42."},
                    {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
                ],
            },
            "finishReason": "STOP",
            "avgLogprobs": -0.25,
            "logprobsResult": {
                "topCandidates": [
                    {
                        "candidates": [
                            {"token": "The", "logProbability": -0.1},
                            {"token": "A", "logProbability": -2.5},
                        ]
                    }
                ],
                "chosenCandidates": [{"token": "The", "logProbability": -0.1}],
            },
            "groundingMetadata": {
                "webSearchQueries": ["six times seven"],
                "groundingChunks": [{"web": {"uri": "https://example.org/x", "title": "x"}}],
            },
            "citationMetadata": {"citationSources": [{"startIndex": 0, "endIndex": 5}]},
            "urlContextMetadata": {
                "urlMetadata": [
                    {
                        "retrievedUrl": "https://example.org/x",
                        "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS",
                    }
                ]
            },
        }
    ],
    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20, "totalTokenCount": 30},
    "modelVersion": "gemini-2.5-flash",
}


def two_candidates() -> dict[str, Any]:
    """An answer with two candidates (``candidateCount: 2``)."""
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "first"}]}, "finishReason": "STOP"},
            {
                "content": {"role": "model", "parts": [{"text": "second"}]},
                "finishReason": "STOP",
                "index": 1,
            },
        ],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5},
    }
