"""LlamaIndex adapter: Segmind's hosted Gemini models as a ``FunctionCallingLLM``.

>>> from llama_index.core import Settings, VectorStoreIndex
>>> from llama_index_segmind_gemini import SegmindGemini
>>> Settings.llm = SegmindGemini(model="gemini-2.5-flash")   # key from $SEGMIND_API_KEY
>>> VectorStoreIndex.from_documents(docs).as_query_engine().query("What is in the docs?")

Errors are those of the core (:mod:`segmind_gemini.errors`), raised unchanged.
"""

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "llama_index_segmind_gemini needs llama-index-core: "
        "pip install 'segmind-gemini[llama-index]'"
    ) from exc

from .base import SegmindGemini

__all__ = ["SegmindGemini"]
