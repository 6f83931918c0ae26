"""Media Gemini reads by reference: ``gs://`` objects and YouTube videos.

Gemini fetches these itself (``fileData``), so they are neither downloaded nor
refused here:

    >>> file_data_part("https://youtu.be/9hE5-98ZeCg")
    {'fileData': {'fileUri': 'https://youtu.be/9hE5-98ZeCg'}}
    >>> file_data_part("https://example.com/cat.png") is None     # fetched as before
    True

Whether Segmind's gateway forwards ``fileData`` parts is unverified.
"""

from __future__ import annotations

import mimetypes
import urllib.parse
from typing import Any

from segmind_gemini.errors import MediaError
from segmind_gemini.media.mime import is_generic_mime_type, normalize_mime_type

__all__ = ["file_data_part", "is_file_reference"]

_YOUTUBE_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be"}
)


def _is_youtube(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    return parsed.scheme in ("http", "https") and (parsed.hostname or "") in _YOUTUBE_HOSTS


def is_file_reference(url: str) -> bool:
    """Whether Gemini reads ``url`` itself: a ``gs://`` URI or a YouTube URL."""
    url = url.strip()
    return url[:5].lower() == "gs://" or _is_youtube(url)


def file_data_part(url: str, mime_type: str | None = None) -> dict[str, Any] | None:
    """A ``fileData`` part for a ``gs://`` or YouTube URL; ``None`` for any other URL.

    The type is the declared one, else guessed from the file name; a YouTube URL
    without a declared type is sent without one, as Gemini's own examples do.

    Raises:
        MediaError: a ``gs://`` URI whose type is neither declared nor guessable.
    """
    url = url.strip()
    if not is_file_reference(url):
        return None
    declared = mime_type if mime_type and not is_generic_mime_type(mime_type) else None
    mime = normalize_mime_type(declared) if declared else None
    if mime is None and _is_youtube(url):
        return {"fileData": {"fileUri": url}}
    if mime is None:
        guessed, _ = mimetypes.guess_type(urllib.parse.urlsplit(url).path)
        mime = normalize_mime_type(guessed) if guessed else None
    if mime is None:
        raise MediaError(
            f"cannot tell the media type of {url}: give mime_type (e.g. 'application/pdf')"
        )
    return {"fileData": {"fileUri": url, "mimeType": mime}}
