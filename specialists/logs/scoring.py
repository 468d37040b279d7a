"""Each worthwhile line's score: where it is (the output of which failing command), what it says,
the block it belongs to, how rare it is, and whether the last green log has it too."""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter

from specialists.logs.shapes import CLOSING, FRAME, SUCCESS, depth, is_banner, is_command, line_kind, phrasing, template
from specialists.logs.vocabulary import BENIGN_STRENGTH, EXIT, evidence, is_benign

# --- distill's weights ---------------------------------------------------------------------
# Set on the development half of LogChunks (bench/logchunks.py); the results are flat around them.
_LATER = 0.85  # output of a later failing command, against the first one's
_NEAR = 0.5  # extra weight right before a failing command's exit...
_NEAR_LINES = 50  # ...fading over this many lines
_OUTSIDE = 0.45  # output of commands that did not fail
_ROUTINE = 0.15  # how much a shape said more than _ROUTINE_FREE times loses per doubling
_ROUTINE_FREE = 3
_CASCADE = 5  # exits at most this many lines apart, no command started between them, are one cascade
_TAIL = 20  # lines before a failing command's exit kept even without error words...
_TAIL_WEIGHT = 1.5  # ...with this weight, fading to half
_TAIL_LIST = 60  # a list of what failed that ends in the tail is kept whole, up to this many lines
_PROGRESS = 12  # a tail that is mostly lines of one kind ("Linting x (3/53)") is progress, not failure
_BLOCK_BEFORE = 4  # header lines above an error (a test's name, the failing command)
_LISTED = 10  # lines of one kind a block takes as details before they are a listing
_BLOCK_AFTER = 40  # details, frames and carets below it
_SECTION = 100  # how far above an error the banner that opened its section may be (a pytest failure with its locals)
_VERDICT_ABOVE = 0.7  # a verdict right under a banner takes in the section above it, at this weight
_CONTEXT = 10  # lines after a kept line that may fill budget left over
_CONTEXT_AROUND = 500  # best lines that get such context


class Scorer:
    """Each worthwhile line's score (higher is kept first), from the signals in the module docstring."""

    def __init__(self, lines: list[str], green: set[str]) -> None:
        self.lines = lines
        self.green = green
        self.scores: dict[int, float] = {}
        self.templates: dict[int, str] = {}
        self.frames: dict[int, bool] = {}
        self.banners: dict[int, int | None] = {}
        self.exits: set[int] = set()

    def run(self) -> dict[int, float]:
        lines = self.lines
        errors: dict[int, float] = {}
        shapes: dict[int, tuple[str, str]] = {}  # the kind of line and its error words: how the tool says it
        exits: list[int] = []
        phrasings: dict[int, str] = {}  # the error words with the punctuation around them
        for i, line in enumerate(lines):
            if line:
                kind, strength, words = evidence(line)
                if strength > 0:
                    errors[i] = strength
                    shapes[i] = (line_kind(line), words.lower())
                    phrasings[i] = phrasing(line, words)
                    if kind == EXIT and strength > BENIGN_STRENGTH:
                        exits.append(i)
        # Each failing command's output runs from its start line (or the previous failure) to its exit.
        # A command that reports success ("exited with 0") ended there: what follows is another's.
        passed = [i for i, line in enumerate(lines) if "xit" in line and SUCCESS.search(line)]
        # Exits in a cascade (make's "*** [x] Error 1" at each level, a wrapper's "failed with exit
        # code 1" and then the shell's) close one command: its output runs to the last of them.
        ends: list[int] = []
        for i in exits:
            if ends and i - ends[-1] <= _CASCADE and not any(is_command(lines[j]) for j in range(ends[-1] + 1, i)):
                ends[-1] = i
            else:
                ends.append(i)
        ends = ends or [len(lines) - 1]
        starts: list[int] = []
        for end in ends:
            floor = ends[len(starts) - 1] + 1 if starts else 0
            k = bisect.bisect_left(passed, end)
            if k and passed[k - 1] + 1 > floor:
                floor = passed[k - 1] + 1
            starts.append(next((i for i in range(end, floor - 1, -1) if is_command(lines[i])), floor))

        def where(i: int) -> float:
            k = bisect.bisect_left(ends, i)
            if k == len(ends) or i < starts[k]:
                return _OUTSIDE
            return (1.0 if k == 0 else _LATER) * (1.0 + _NEAR * math.exp(-(ends[k] - i) / _NEAR_LINES))

        # How often the log says it this way: lines of one kind with the same error words, or the
        # same error words between the same punctuation ("x::test_a FAILED", "x::test_b FAILED").
        kinds, phrased = Counter(shapes.values()), Counter(phrasings.values())
        seeds = {
            i: errors[i] * where(i) / (1 + _ROUTINE * math.log2(max(1.0, max(kinds[shapes[i]], phrased[phrasings[i]]) / _ROUTINE_FREE)))
            for i in errors
        }
        indices = list(seeds)  # in log order
        self.exits = {i for i in exits if CLOSING.search(lines[i])}
        k = 0
        while k < len(indices):
            if indices[k] in self.exits:  # above it is the tail's, below it the next command's
                self.mark(indices[k], seeds[indices[k]])
                end = indices[k] + 1
            else:
                end = self.block(indices[k], seeds, indices[k - 1] if k else -1)
            k += 1
            while k < len(indices) and indices[k] < end:  # error lines the block took in
                k += 1
        for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
            weight = 1.0 if k == 0 else _LATER
            tail = range(max(start, end - _TAIL), end)
            if k and not any(errors.get(i, 0.0) >= 2 for i in range(start, end)):
                tail = range(0)  # a later command that failed without a word of why: cache uploads, clean-up
            kinds = Counter(line_kind(lines[i]) for i in tail)
            first, last, failing = self.failing_list(tail, start, errors)
            for i in range(first, tail.stop):  # a list of what failed weighs what its last line does
                kind = line_kind(lines[i])
                routine = BENIGN_STRENGTH if is_benign(lines[i], lines[i].lower()) or kinds[kind] >= _PROGRESS and kind not in failing else 1.0
                self.mark(i, weight * routine * _TAIL_WEIGHT * max(0.5, 1 - (end - max(i, last)) / (2 * _TAIL)))
            if first < tail.start:
                for i in range(max(start, first - 2), first):  # the list's title
                    self.mark(i, weight * _TAIL_WEIGHT * 0.5)
            if exits:
                self.mark(end, weight * 2.5)
            if is_command(lines[start]):
                self.mark(start, weight * 2.0)
        self.context(exits)
        return self.scores

    def failing_list(self, tail: range, start: int, errors: dict[int, float]) -> tuple[int, int, set[str]]:
        """Where the list of what failed that ``tail`` starts in begins and ends, and the kinds of
        line in tail and list that tell of a failure.

        A list of one kind of line is progress, unless one of them tells of a failure: then it is
        the list of what failed. It may run on above the tail, up to the line that introduced it,
        and all of it is kept; unless it is longer than a list of failures is: then it is a log of
        checks some of which failed ("-- x - not found"), and only the tail counts."""
        lines = self.lines
        first = tail.start
        head = line_kind(lines[first]) if tail else ""
        while first > max(start, tail.stop - _TAIL_LIST) and line_kind(lines[first - 1]) == head:
            first -= 1
        if first > start and line_kind(lines[first - 1]) == head:
            first = tail.start
        failing = {line_kind(lines[i]) for i in range(first, tail.stop) if errors.get(i, 0.0) >= 2}
        if head not in failing:
            return tail.start, tail.start, failing
        last = first
        while last + 1 < tail.stop and line_kind(lines[last + 1]) == head:
            last += 1
        return first, last, failing

    def mark(self, i: int, score: float) -> None:
        if score > self.scores.get(i, 0.0) and self.lines[i].strip() and not self.shared(i):
            self.scores[i] = score

    def shared(self, i: int) -> bool:
        """Whether the last green log has a line like this one."""
        if not self.green:
            return False
        if i not in self.templates:
            self.templates[i] = template(self.lines[i])
        return self.templates[i] in self.green

    def frame(self, i: int) -> bool:
        if i not in self.frames:
            self.frames[i] = bool(FRAME.search(self.lines[i]))
        return self.frames[i]

    def block(self, i: int, seeds: dict[int, float], previous: int) -> int:
        """Error line ``i`` with its header above (below error line ``previous``) and its details,
        frames and carets below, nearest first; inside a section opened by a banner, the section
        from there. The block takes in the weaker error lines it meets (a traceback's "raise
        Error(...)") and runs on after them; it stops before a stronger one, whose own block takes
        over; a Python traceback also takes in the exception that ends it, whatever its name.
        Indentation is counted after a log level prefix (``[info]   at x``). Returns where it
        stopped: each line is scanned by one block, in linear time."""
        lines = self.lines
        score = seeds[i]
        self.mark(i, score)
        kind = line_kind(lines[i])
        top = self.banner_above(i)
        if top is not None and top == i - 1:
            # A verdict right under a banner ("==== DONE ====", then "FAIL x") is about the
            # section the banner closed: that section is its detail.
            above = self.banner_above(top)
            if above is not None:
                for j in range(max(above, previous + 1), top):
                    self.mark(j, score * (_VERDICT_ABOVE - 0.002 * (top - j)))
        if top is not None:
            for j in range(max(top, previous + 1), i):
                self.mark(j, score * (0.8 - 0.002 * (i - j)))
        else:
            for j in range(i - 1, max(i - _BLOCK_BEFORE, previous + 1) - 1, -1):
                if not lines[j].strip() or line_kind(lines[j]) == kind:
                    break
                self.mark(j, score * (0.65 - 0.15 * (i - 1 - j)))
                if is_command(lines[j]):
                    break
        indent = depth(lines[i])
        traceback = lines[i].lstrip().startswith("Traceback")  # a Python traceback: it ends with its exception
        last = i  # the last error line taken in: details fade from there
        closed = False  # past an exit, only what is clearly more of the same (frames, indented lines)
        listed: Counter[str] = Counter()
        j = i + 1
        while j < min(last + _BLOCK_AFTER + 1, len(lines)):
            line = lines[j]
            if seeds.get(j, 0.0) > score:
                return j
            if j in self.exits:
                self.mark(j, seeds[j])
                closed = True
            elif not line.strip():
                # A blank line ends the block unless the next one goes on with it.
                if top is None and (j + 1 >= len(lines) or depth(lines[j + 1]) <= indent and not self.frame(j + 1)):
                    return j
            elif is_command(line) or (top is not None and is_banner(line)):
                return j
            elif top is not None or depth(line) > indent or self.frame(j):
                # Details, unless they are a long list of one kind of line ("  0001. url"): a
                # listing, of which the first few lines say enough.
                listed[line_kind(line)] += 1
                routine = 1.0 if self.frame(j) or listed[line_kind(line)] <= _LISTED else BENIGN_STRENGTH
                self.mark(j, routine * score * (0.9 - 0.01 * (j - last)))
            elif j - last <= 3 and not closed:  # the rest of the message, unless it is the next of a series of such lines
                if line_kind(line) != kind:
                    self.mark(j, score * (0.75 - 0.05 * (j - last)))
            elif traceback and j - 1 in self.scores:
                # Python's traceback ends with the exception, back at the indentation of its
                # "Traceback" line, whatever the exception's name.
                self.mark(j, score * 0.9)
                return j + 1
            else:
                return j
            if j in seeds and j not in self.exits:
                self.mark(j, seeds[j])
                last = j
                traceback = traceback or line.lstrip().startswith("Traceback")
            j += 1
        return j

    def banner_above(self, i: int) -> int | None:
        """The titled banner that opened the section of line ``i``, if one did not far above and
        no command started since. Remembered, so that nearby errors do not scan again."""
        for j in range(i - 1, max(-1, i - _SECTION - 1), -1):
            line = self.lines[j]
            if is_banner(line, titled=True):
                found = j
                break
            if is_command(line):
                found = None
                break
            if j in self.banners:
                top = self.banners[j]
                found = top if top is not None and i - top <= _SECTION else None
                break
        else:
            found = None
        self.banners[i] = found
        return found

    def context(self, exits: list[int]) -> None:
        """Lines around the best ones, to fill budget left over: mostly what follows them, but
        not past the exit of a failing command (what comes next is clean-up)."""
        context: dict[int, float] = {}
        for i in heapq.nlargest(_CONTEXT_AROUND, self.scores, key=self.scores.__getitem__):
            if i in self.exits:
                continue  # before it is the tail's, after it the clean-up
            k = bisect.bisect_left(exits, i)
            end = min(len(self.lines) - 1, i + _CONTEXT, exits[k] if k < len(exits) else len(self.lines))
            # Context stays within the output of one command.
            start = next((j for j in range(i, max(0, i - 3) - 1, -1) if is_command(self.lines[j])), max(0, i - 3))
            end = next((j - 1 for j in range(i + 1, end + 1) if is_command(self.lines[j])), end)
            for j in range(start, end + 1):
                if j not in self.scores and self.lines[j].strip() and not self.shared(j):
                    weight = 1 - (j - i) / (_CONTEXT + 1) if j > i else 0.5 - 0.1 * (i - j)
                    context[j] = max(context.get(j, 0.0), 0.01 * self.scores[i] * weight)
        self.scores.update(context)
