"""The excerpt: the best scored lines that fit a byte budget, shown in log order."""

from __future__ import annotations

import heapq

from specialists.logs.cleaning import clean
from specialists.logs.scoring import Scorer
from specialists.logs.shapes import indent_of, template

_LENGTH_WEIGHT = 0.4  # a line's priority is its score / (length + _LENGTH_OFFSET) ** _LENGTH_WEIGHT
_LENGTH_OFFSET = 40


def distill(raw: bytes | str | list[str], budget: int = 4096, *, green: bytes | str | list[str] | None = None) -> str:
    """The excerpt that explains a failure, at most ``budget`` bytes of UTF-8, in log order, with
    ``...`` where lines were left out and the indentation that kept lines share removed.

    Args:
        raw: the build log, raw or already cleaned.
        budget: the most bytes the excerpt may take.
        green: the last green log of the same job, if known: lines like its lines (up to numbers,
            paths, hashes and timestamps) are not what broke, and are left out.
    """
    lines = clean(raw)
    if not lines:
        return ""
    green_templates = {template(line) for line in clean(green) if line.strip()} if green is not None else set()
    scores = Scorer(lines, green_templates).run()
    # One candidate per distinct text (a repeat explains nothing new), the best first; a long line
    # must be worth more to displace several short ones; later lines win ties, the end of a log
    # being nearer the failure than its start.
    best: dict[str, int] = {}
    for i, score in scores.items():
        text = lines[i].strip()
        if text not in best or score > scores[best[text]]:
            best[text] = i

    longest = max(budget // 2, 80)  # no line may take more than half the excerpt

    def priority(i: int) -> tuple[float, int]:
        return -scores[i] / (min(len(lines[i]), longest) + _LENGTH_OFFSET) ** _LENGTH_WEIGHT, -i

    order = heapq.nsmallest(max(20_000, budget), best.values(), key=priority)
    shown = {i: _shorten(lines[i], longest) for i in order}
    excerpt = _render(shown, _select(shown, order, budget))
    # Removing shared indentation may free room: fill it (twice at most, the gain shrinks fast).
    for _ in range(2):
        room = budget - len(excerpt.encode())
        if room < 64:
            break
        more = _render(shown, _select(shown, order, budget + room))
        if len(more.encode()) > budget:
            break
        excerpt = more
    return excerpt


def _shorten(line: str, limit: int) -> str:
    """The line, cut to ``limit`` bytes of UTF-8 if longer."""
    data = line.encode()
    return line if len(data) <= limit else data[: limit - 6].decode("utf-8", errors="ignore") + " [...]"


def _select(lines: dict[int, str], order: list[int], budget: int) -> list[int]:
    """The lines to keep, taken in ``order`` while they fit in ``budget`` bytes with the ``...``
    between them, in log order."""
    chosen: set[int] = set()
    used = 0
    for i in order:
        cost = len(lines[i].encode()) + 1
        if i - 1 not in chosen and i + 1 not in chosen:
            cost += 4  # the "...\n" that may separate it from the lines around it
        if used + cost <= budget + 1:  # the last line needs no newline
            chosen.add(i)
            used += cost
    return sorted(chosen)


def _render(lines: dict[int, str], chosen: list[int]) -> str:
    """The chosen lines, ``...`` between runs of consecutive lines, each run without the
    indentation its lines share."""
    runs: list[list[str]] = []
    previous = -2
    for i in chosen:
        if i != previous + 1:
            runs.append([])
        runs[-1].append(lines[i])
        previous = i
    out: list[str] = []
    for run in runs:
        prefix = run[0][: min(indent_of(line) for line in run)]
        cut = len(prefix) if all(line.startswith(prefix) for line in run) else 0
        if out:
            out.append("...")
        out.extend(line[cut:] for line in run)
    return "\n".join(out)
