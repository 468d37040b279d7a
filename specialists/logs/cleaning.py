"""Raw build logs to clean lines: any bytes decoded, ANSI codes and control garbage dropped, what a
``\\r`` left visible kept."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CLEAN_CHUNK = 1 << 23  # clean big logs 8 MB at a time, so that only the lines outlive the pass


def clean(raw: bytes | str | list[str]) -> list[str]:
    """Decode any bytes, drop ANSI codes and control garbage, keep what a ``\\r`` left visible.
    Lines that are already clean (a list) come back as they are."""
    if isinstance(raw, list):
        return raw
    lines: list[str] = []
    newline = b"\n" if isinstance(raw, bytes) else "\n"
    start = 0
    while True:
        # Whole lines at a time: a cut at a newline never splits a UTF-8 sequence.
        end = len(raw) if len(raw) - start <= _CLEAN_CHUNK else raw.find(newline, start + _CLEAN_CHUNK)  # type: ignore[arg-type]
        end = len(raw) if end < 0 else end
        piece = raw[start:end]
        text = piece.decode("utf-8", errors="replace") if isinstance(piece, bytes) else piece
        if "\r" in text:
            split = text.split("\n")
            for k, line in enumerate(split):
                if "\r" in line:
                    parts = [p for p in line.split("\r") if p.strip()]
                    split[k] = parts[-1] if parts else ""
            text = "\n".join(split)
        lines.extend(line.rstrip() for line in _CONTROL.sub("", _ANSI.sub("", text)).split("\n"))
        if end >= len(raw):
            return lines
        start = end + 1
