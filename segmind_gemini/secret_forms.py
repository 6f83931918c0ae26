"""Every spelling a secret can take in a body: literal, JSON-escaped (once or again),
URL-encoded (once or again) or inside base64.

Used wherever the package masks the key in what a server sent back: answers and
errors (:meth:`segmind_gemini.settings.APIKey.mask`) and ``check --record``'s cassettes.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache

__all__ = ["secret_pattern"]

# Shorter than this, a base64 fragment would match ordinary text by chance.
_MIN_B64 = 8


def _char_forms(char: str) -> list[str]:
    """Every way one character of the key can be written in a JSON or URL body."""
    forms = {re.escape(char)}
    code = ord(char)
    units = (
        [code]
        if code < 0x10000
        else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)]
    )
    # JSON \uXXXX in either case, escaped once or again (a JSON error carried as a
    # string inside another JSON body doubles the backslash).
    forms.add("".join(rf"\\+u(?i:{u:04x})" for u in units))
    named = {'"': r'\\+"', "\\": r"\\\\+", "/": r"\\+/", "\b": r"\\+b", "\f": r"\\+f",
             "\n": r"\\+n", "\r": r"\\+r", "\t": r"\\+t"}  # fmt: skip
    if char in named:
        forms.add(named[char])
    # URL-encoded, once or again (%2D, %252D).
    forms.add("".join(f"%(?:25)*(?i:{b:02x})" for b in char.encode("utf-8")))
    if char == " ":
        forms.add(r"\+")
    return sorted(forms, key=len, reverse=True)


def _b64_cores(secret: str) -> list[str]:
    """The base64 text any encoding of ``secret`` shows, whatever bytes surround it.

    Base64 works in 3-byte groups, so the key starts at one of three offsets; for
    each, the characters that depend on the key's bytes alone are fixed.
    """
    raw = secret.encode("utf-8")
    cores: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        # Only the characters whose 6 bits all come from the key's bytes.
        first = (8 * offset + 5) // 6
        last = 8 * (offset + len(raw)) // 6
        core = encoded[first:last]
        if len(core) >= _MIN_B64:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))  # URL-safe alphabet
    return sorted(cores, key=len, reverse=True)


@lru_cache(maxsize=8)
def secret_pattern(secret: str, *, in_base64: bool = True) -> re.Pattern[str]:
    """A pattern matching ``secret`` in every spelling a JSON or URL body can give it.

    >>> secret_pattern("sk-abcdefgh").sub("X", '{"e": "sk\\\\u002dabcdefgh"}')
    '{"e": "X"}'
    """
    spelled = "".join("(?:" + "|".join(_char_forms(c)) + ")" for c in secret)
    cores = _b64_cores(secret) if in_base64 else []
    alternatives = [spelled, *(re.escape(core) for core in cores)]
    return re.compile("|".join(alternatives))
