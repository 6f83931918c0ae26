"""Media in requests: loading files and URLs, recognising types, the SSRF guard."""

from segmind_gemini.media.loader import *  # noqa: F403
