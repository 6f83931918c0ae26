"""The HTTP layer: the client, its transport, retries and the answer classification."""

from segmind_gemini.client.gemini_client import SegmindGeminiClient

__all__ = ["SegmindGeminiClient"]
