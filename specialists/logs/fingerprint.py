"""Error lines and failure signatures: what triage and routing look at."""

from __future__ import annotations

import hashlib
import re

from specialists.logs.cleaning import clean
from specialists.logs.shapes import VOLATILE

# Lines that say what went wrong, in any of the usual tools' words.
_ERROR = re.compile(
    r"(?:\b\w*(?:Error|Exception)\b:|^E\s{2,}|\bERROR\b|\bFAILED\b|\bFAIL\b|\bfatal\b|\bpanic\b"
    r"|Traceback \(most recent call last\)|\bno such file\b|\bnot found\b|\bcommand not found\b"
    r"|\bResolutionImpossible\b|\bconflict|\bexit (?:code|status) [1-9]|\breturned a non-zero"
    r"|^error\b|^\s*\^+\s*$|\bKeyError\b|\bdenied\b|\bcannot\b|\bcould not\b|\bunable to\b)",
    re.IGNORECASE,
)
# Every _ERROR match contains one of these (after casefold). Python's ``re`` tries the whole
# case-insensitive alternation at every position of every line (~20 us a line, minutes for a
# big log); this literal screen rejects the ordinary lines about 20 times faster.
_ERROR_HINT = re.compile(
    r"^e\s\s|error|exception|fail|fatal|panic|traceback|no such file|not found|impossible|conflict"
    r"|exit |non-zero|denied|cannot|could not|unable to|\^"
)


def error_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line and _ERROR_HINT.search(line.casefold()) and _ERROR.search(line)]


def signature(raw: bytes | str | list[str]) -> str:
    """A fingerprint of *how* a build failed, stable across runs that differ only in numbers,
    paths, hashes and timestamps; two builds failing the same way share it."""
    lines = clean(raw)
    errors = [
        VOLATILE.sub("#", lines[i]).strip()
        for i in error_lines(lines)
        if re.search(r"\w(?:Error|Exception)\b|\bERROR\b|\bFAILED\b|\berror\b", lines[i])
    ]
    key = "\n".join(sorted(set(errors))) or "\n".join(VOLATILE.sub("#", line) for line in lines[-5:])
    return hashlib.sha256(key.encode()).hexdigest()[:16]
