"""Build logs: cleaning, distilling to the lines that explain a failure, failure signatures."""

from __future__ import annotations

import hashlib
import re

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

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
_TRACEBACK_START = re.compile(r"^Traceback \(most recent call last\)|^_{5,} .* _{5,}$|^={5,} (?:ERRORS|FAILURES) ={5,}$")
_SUMMARY_START = re.compile(r"^=+ short test summary info =+$")
_VOLATILE = re.compile(
    r"0x[0-9a-f]+|\b[0-9a-f]{7,64}\b|\d+(?:\.\d+)*|(?:/[\w.@+-]+)+/|\b\d{4}-\d\d-\d\dT[\d:.]+Z?\b", re.IGNORECASE
)


def clean(raw: bytes | str | list[str]) -> list[str]:
    """Decode any bytes, drop ANSI codes and control garbage, keep what a ``\\r`` left visible.
    Lines that are already clean (a list) come back as they are."""
    if isinstance(raw, list):
        return raw
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            parts = [p for p in line.split("\r") if p.strip()]
            line = parts[-1] if parts else ""
        lines.append(_CONTROL.sub("", _ANSI.sub("", line)).rstrip())
    return lines


def error_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line and _ERROR_HINT.search(line.casefold()) and _ERROR.search(line)]


def distill(raw: bytes | str | list[str], budget: int = 4096) -> str:
    """The excerpt that explains a failure, at most ``budget`` bytes, in log order.

    Priority: pytest's short summary and tracebacks' last frames and exception lines, then
    other error lines with a line of context, then the tail of the log.
    """
    lines = clean(raw)
    scores: dict[int, float] = {}

    def mark(i: int, score: float) -> None:
        if 0 <= i < len(lines) and lines[i].strip():
            scores[i] = max(scores.get(i, 0.0), score)

    n = len(lines)
    for i, line in enumerate(lines):
        if _SUMMARY_START.match(line):
            for j in range(i, min(n, i + 40)):
                mark(j, 9.0)
        if _TRACEBACK_START.match(line):
            mark(i, 6.0)
            end = i + 1
            while end < n and end - i < 200 and lines[end].strip() and not _TRACEBACK_START.match(lines[end]):
                end += 1
            for j in range(max(i + 1, end - 12), end):
                mark(j, 7.0 if j >= end - 3 else 5.0)
    for i in error_lines(lines):
        mark(i, 8.0 if re.search(r"\w(?:Error|Exception):", lines[i]) else 4.0)
        mark(i - 1, 2.0)
        mark(i + 1, 2.0)
    for i in range(max(0, n - 15), n):
        mark(i, 3.0 + (i - n) / 100)
    chosen: list[int] = []
    used = 0
    # Later lines win ties: the end of a log is nearer the failure than its start.
    for i in sorted(scores, key=lambda k: (-scores[k], -k)):
        cost = len(lines[i].encode()) + 1
        if used + cost > budget:
            continue
        chosen.append(i)
        used += cost
    out: list[str] = []
    previous = -2
    for i in sorted(chosen):
        if previous >= 0 and i != previous + 1 and used + 4 <= budget:
            out.append("...")
            used += 4
        out.append(lines[i])
        previous = i
    return "\n".join(out)


def signature(raw: bytes | str | list[str]) -> str:
    """A fingerprint of *how* a build failed, stable across runs that differ only in numbers,
    paths, hashes and timestamps; two builds failing the same way share it."""
    lines = clean(raw)
    errors = [
        _VOLATILE.sub("#", lines[i]).strip()
        for i in error_lines(lines)
        if re.search(r"\w(?:Error|Exception)\b|\bERROR\b|\bFAILED\b|\berror\b", lines[i])
    ]
    key = "\n".join(sorted(set(errors))) or "\n".join(_VOLATILE.sub("#", line) for line in lines[-5:])
    return hashlib.sha256(key.encode()).hexdigest()[:16]
