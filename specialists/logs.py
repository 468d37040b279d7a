"""Build logs: cleaning, distilling to the lines that explain a failure, failure signatures.

``distill`` gives every line of a log a priority, keeps the best lines that fit a byte budget and
shows them in log order. Its signals are generic, no tool is special-cased:

- *where*: the output of a command that failed, from the line that started it (``$ make``, a CI
  step, a build tool's task) to the line that reports its non-zero exit, is what a reader looks
  at first, the first failing command above all; its last lines are the likeliest explanation.
- *what*: the error vocabulary of compilers, test runners and build tools of most languages
  (``error:``, ``FAILED``, ``SomeError``/``Exception``, ``panic``, ``No such file``...), weaker
  words (``cannot``, ``expected``) and warnings, and benign look-alikes (``0 errors``, ``-Werror``,
  ``ok``/``PASSED``/``SKIPPED`` lines, ``--state=failed``, ``errors.go``).
- *shape*: an error line opens a block that is kept together, nearest lines first: a header
  above it (the test's name, or the whole section since a banner such as pytest's
  ``____ test_x ____``), its message, stack frames of most runtimes, carets and indented details
  below.
- *rarity*: an error said the same way all over the log (cmake's "Looking for x - not found", a
  server's error-level logging) is routine; a repeat of a line already kept costs nothing.
- *history*: with the last green log of the same job, lines whose template (the line with
  numbers, paths, hashes and timestamps masked) also occurs there explain nothing about this
  failure and are dropped.

Every step is linear in the size of the log: the per-line work is one cheap literal screen
(`_SCREEN`), everything else runs on the few lines that pass it and their neighbours.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import re
from collections import Counter

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CLEAN_CHUNK = 1 << 23  # clean big logs 8 MB at a time, so that only the lines outlive the pass

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
_VOLATILE = re.compile(
    r"0x[0-9a-f]+|\b[0-9a-f]{7,64}\b|\d+(?:\.\d+)*|(?:/[\w.@+-]+)+/|\b\d{4}-\d\d-\d\dT[\d:.]+Z?\b", re.IGNORECASE
)

# --- distill's vocabulary ------------------------------------------------------------------


def _words(*alternatives: str) -> str:
    """The alternatives as words of a sentence, not parts of a path, an option, an identifier or a
    file name (``errors.go``, ``--state=failed``, ``TestLinks/errors``, ``on-error``)."""
    return r"(?<![\w/.$-])(?<!\w=)(?:" + "|".join(alternatives) + r")(?![\w/=]|[.-]\w)"


_EXIT, _STRONG, _MEDIUM, _WEAK = 0, 1, 2, 3  # kinds of evidence, the most telling first
_STRENGTH = {_EXIT: 2.0, _STRONG: 3.0, _MEDIUM: 2.0, _WEAK: 0.7}
_BENIGN_STRENGTH = 0.3
# Each entry: a word one of whose lower-cased forms every match contains, the kind of evidence,
# and the pattern. A line is first screened for all the words at once (one regular expression
# compiled as a trie, ``e(?:rr|x(?:it|...))``: ``re`` tries the branches of an alternation one
# after the other at every position, and factoring them is about three times faster); only the
# patterns of the words it contains then run. That is the one test every line gets: the rest of
# distill works on the few lines that pass it and their neighbours.
_VOCABULARY: tuple[tuple[str, int, str], ...] = (
    # A command ended badly: "The command x exited with 1", "exit code 2", make's "*** [x] Error 1",
    # docker's "returned a non-zero code: 1", "BUILD FAILURE", "Job failed"...
    ("exit", _EXIT, r"\bexited (?:with )?(?:code |status )?[1-9]|\b[Ee]xit (?:code|status|value)[:=]? ?[1-9]"),
    ("non-zero", _EXIT, r"returned (?:a )?non-zero (?:exit status|code):? ?[1-9]"),
    ("err", _EXIT, r"\*\*\* \[[^\]]*\] Error [1-9]|\berror Command failed"),
    ("fail", _EXIT, r"^The command .* failed|^BUILD FAIL|^FAILURE: Build failed|\bJob failed\b"),
    # Definite failures: exception classes, compilers' and tools' error prefixes, test runners' verdicts.
    ("err", _STRONG, r"\b[A-Z]\w*Error\b|\bERR!|" + _words("error", "ERROR", "Error") + r"(?:\[[\w-]+\])?(?:\s*[:!]|\s+[A-Z]{1,4}\d+\b)"),
    ("err", _STRONG, _words("ERRORS?")),
    ("exception", _STRONG, r"\b[A-Z]\w*Exception\b"),
    ("segmentation", _STRONG, _words("[Ss]egmentation fault")),
    ("fail", _STRONG, r"\b[A-Z]\w*Failure\b|" + _words("FAIL(?:ED|URES?|ING)?", "[Ff]ail(?:ed|ures?|ing|s)?")),
    ("traceback", _STRONG, r"^Traceback"),
    ("e  ", _STRONG, r"^\s*E\s{2,}"),  # pytest's explanation lines
    ("** (", _STRONG, r"^\s*\*\* \("),  # Elixir's exceptions
    ("✗", _STRONG, "✗"), ("✖", _STRONG, "✖"), ("✘", _STRONG, "✘"), ("×", _STRONG, "×"),
    ("fatal", _STRONG, _words("FATAL", "[Ff]atal")),
    ("panic", _STRONG, _words("PANIC", "panic(?:ked)?")),
    ("abort", _STRONG, _words("ABORT(?:ED|ING)?", "[Aa]borted")),
    ("crash", _STRONG, _words("CRASHED")),
    ("core dump", _STRONG, _words("core dumped")),
    ("assert", _STRONG, _words("[Aa]ssertion")),
    ("not ok", _STRONG, _words("not ok")),
    ("undefined", _STRONG, _words("undefined (?:reference|method|function|symbol|variable|local|index|offset|constant)")),
    ("cannot", _STRONG, _words("cannot find symbol")),
    ("not defined", _STRONG, _words("is not defined")),
    ("not declared", _STRONG, _words("not declared")),
    # Probable failures: what tools say when something is missing, refused or not as expected.
    ("err", _MEDIUM, _words("[Ee]rrors?")),
    ("exception", _MEDIUM, _words("exception")),
    ("crash", _MEDIUM, _words("crash(?:ed)?")),
    ("denied", _MEDIUM, _words("denied")),
    ("refused", _MEDIUM, _words("refused")),
    ("timed out", _MEDIUM, _words("timed out")),
    ("timeout", _MEDIUM, _words("timeout")),
    ("killed", _MEDIUM, _words("[Kk]illed")),
    ("cannot", _MEDIUM, _words("[Cc]annot")),
    ("can't", _MEDIUM, _words("[Cc]an't")),
    ("could", _MEDIUM, _words("[Cc]ould ?n[o']t")),
    ("unable", _MEDIUM, _words("[Uu]nable to")),
    ("invalid", _MEDIUM, _words("[Ii]nvalid")),
    ("illegal", _MEDIUM, _words("[Ii]llegal")),
    ("unknown", _MEDIUM, _words("[Uu]nknown")),
    ("unexpected", _MEDIUM, _words("[Uu]nexpected(?:ly)?")),
    ("missing", _MEDIUM, _words("[Mm]issing")),
    ("undefined", _MEDIUM, _words("[Uu]ndefined")),
    ("unsatisf", _MEDIUM, _words(r"[Uu]nsatisfi\w+")),
    ("wrong", _MEDIUM, _words("[Ww]rong")),
    ("match", _MEDIUM, _words(r"[Mm]ismatch\w*") + r"|(?:does|did) not match"),
    ("violation", _MEDIUM, _words("[Vv]iolations?")),
    ("conflict", _MEDIUM, _words("[Cc]onflicts?")),
    ("expected", _MEDIUM, _words("[Ee]xpected")),
    ("actual", _MEDIUM, _words("[Aa]ctual")),
    ("problem", _MEDIUM, _words("[Pp]roblems?")),
    ("incompatible", _MEDIUM, _words("[Ii]ncompatible")),
    ("unresolved", _MEDIUM, _words("[Uu]nresolved")),
    ("not found", _MEDIUM, _words("[Nn]ot found", "NOT FOUND")),
    ("no such", _MEDIUM, _words("[Nn]o such file")),
    ("space left", _MEDIUM, _words("[Nn]o space left")),
    ("out of memory", _MEDIUM, _words("[Oo]ut of memory")),
    ("not exist", _MEDIUM, "not exist"),
    ("n't exist", _MEDIUM, "n't exist"),
    ("impossible", _MEDIUM, "ResolutionImpossible"),
    ("reason", _MEDIUM, r"\bReason:"),
    ("non-zero", _MEDIUM, "non-zero"),
    ("^", _MEDIUM, r"^\s*\^[\^~]*\s*$"),  # a caret under the offending code
    # Warnings: a tool that says so is reporting something lesser than an error.
    ("warn", _WEAK, _words("[Ww]arn(?:ing|ings)?", "WARN(?:ING)?")),
    ("deprecat", _WEAK, _words(r"[Dd]eprecat\w*", r"DEPRECAT\w*")),
)


def _trie(words: list[str]) -> str:
    """One regular expression matching any of ``words``, factored on their common prefixes."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        joined = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{joined})?" if "" in node else joined

    return pattern(tree)


_PATTERNS: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
for _word, _kind_of_evidence, _pattern in _VOCABULARY:
    _PATTERNS.setdefault(_word, []).append((_kind_of_evidence, re.compile(_pattern)))
# pytest's "E   " and carets are words at the start of a line only: screened by str.startswith.
_STARTS = ("e  ", "^")
_SCREEN = re.compile(_trie([word for word in _PATTERNS if word not in _STARTS]))
_WARNING = re.compile(_VOCABULARY[-2][2] + "|" + _VOCABULARY[-1][2])
# Look-alikes that report success or a skip: counts of zero, compiler flags, passing or skipped
# tests. Each with the words one of which it needs, to run only when it might match.
_BENIGN = (
    (("0", "no ", "zero"), re.compile(
        r"\b(?:0|[Nn]o|zero) (?:errors?|failures?|failed|failing|warnings?)\b|\b(?:[Ee]rrors?|[Ff]ailures?|[Ff]ailed|[Ff]ailing)\W{1,3}0\b"
    )),
    (("-w",), re.compile(r"-W\w*error")),
    (("ok", "pass", "✓", "✔", "skip"), re.compile(r"(?:^|\s)(?:ok|OK|PASS(?:ED)?|[Pp]assed|✓|✔)(?:\s|$)|^\s*(?:SKIP|[Ss]kipped)\b|\bSKIPPED\b")),
)


def _benign(line: str, lower: str) -> bool:
    return any(any(word in lower for word in words) and pattern.search(line) for words, pattern in _BENIGN)


def _evidence(line: str) -> tuple[int, float, str]:
    """How a line reports a failure: the kind of evidence (``_EXIT`` ... ``_WEAK``, -1 if none),
    its strength (3 definite, 2 probable or an exit, 0.7 a warning, 0.3 a benign look-alike) and
    the words that say so."""
    lower = line.lower()
    words = _SCREEN.findall(lower)
    if lower.lstrip().startswith(_STARTS):
        words.append(next(word for word in _STARTS if lower.lstrip().startswith(word)))
    if not words:
        return -1, 0.0, ""
    best: tuple[int, int, str] | None = None  # kind, position, words
    for word in set(words):
        for kind, pattern in _PATTERNS[word]:
            if (best is None or kind <= best[0]) and (match := pattern.search(line)):
                if best is None or (kind, match.start()) < best[:2]:
                    best = (kind, match.start(), match[0])
    if best is None:
        return -1, 0.0, ""
    kind, position, said = best
    if kind != _WEAK and (warning := _WARNING.search(line, 0, position + 1)):
        kind, said = _WEAK, warning[0]  # "[warn] could not ...", "x.c:3: warning: unused ...": a warning
    strength = _BENIGN_STRENGTH if _benign(line, lower) else _STRENGTH[kind]
    return kind, min(strength, _STRENGTH[kind]), said


# An exit that ends its line ("The command x exited with 1.", "make: *** [all] Error 2") closes
# the command's output; one inside a message ("panicked: got exit code: 77', src/x.rs:3:9") does not.
_CLOSING = re.compile(r"(?:\s\d+|[Ff]ail\w*|FAIL\w*)\W*$")

# The start of a command's output: a shell prompt, a CI step, a build tool's task or plugin.
_COMMAND = re.compile(r"^(?:\$ \S|##\[group\]|Step \d+/\d+ : |#\d+ \[|> Task :|\[INFO\] --- \S.* ---$)")
_COMMAND_STARTS = ("$ ", "##[group]", "Step ", "#", "> Task :", "[INFO] --- ")
# Continuation lines under an error: stack frames of most runtimes (possibly quoted, "= #0 0x..."),
# ``file:line`` references, code excerpts with carets, "... N more", boxed messages.
_FRAME = re.compile(
    r"^[=|>*+:-]{0,3}(?:\s+at\s+\S|\s*(?:File \"[^\"]+\", line \d+|from \S+:\d+|#\d+\s+0x[0-9a-fA-F]+"
    r"|\S+\.\w{1,6}:\d+(?::\d+)?(?:[:\s)]|$)|\(\S+(?: [\w.-]+)?\) \S+:\d+|--> \S+:\d+|\.\.\. \d+ more|Caused by\b"
    r"|goroutine \d+ |\S+\(\d+,\d+\):|\^[\^~]*\s*$|[|│]))"
    r"|:\d+:in [`'<]|\(\S+\.\w{1,6}:\d+(?::\d+)?\)\s*$"
)

# --- distill's weights ---------------------------------------------------------------------
# Set on the development half of LogChunks (bench/logchunks.py); the results are flat around them.
_LATER = 0.85  # output of a later failing command, against the first one's
_NEAR = 0.5  # extra weight right before a failing command's exit...
_NEAR_LINES = 50  # ...fading over this many lines
_OUTSIDE = 0.45  # output of commands that did not fail
_ROUTINE = 0.15  # how much a shape said more than _ROUTINE_FREE times loses per doubling
_ROUTINE_FREE = 3
_TAIL = 20  # lines before a failing command's exit kept even without error words...
_TAIL_WEIGHT = 1.5  # ...with this weight, fading to half
_PROGRESS = 12  # a tail that is mostly lines of one kind ("Linting x (3/53)") is progress, not failure
_BLOCK_BEFORE = 2  # header lines above an error (a test's name, the failing command)
_BLOCK_AFTER = 40  # details, frames and carets below it
_SECTION = 60  # how far above an error the banner that opened its section may be
_CONTEXT = 10  # lines after a kept line that may fill budget left over
_CONTEXT_AROUND = 500  # best lines that get such context
_LENGTH_WEIGHT = 0.4  # a line's priority is its score / (length + _LENGTH_OFFSET) ** _LENGTH_WEIGHT
_LENGTH_OFFSET = 40


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


def error_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line and _ERROR_HINT.search(line.casefold()) and _ERROR.search(line)]


def _template(line: str) -> str:
    """The line with its volatile parts (numbers, hashes, paths, timestamps) masked."""
    return _VOLATILE.sub("#", line).strip()


def _is_command(line: str) -> bool:
    return line.startswith(_COMMAND_STARTS) and bool(_COMMAND.match(line))


def _is_banner(line: str, titled: bool = False) -> bool:
    """A rule, or (``titled``) a title between rules such as ``==== FAILURES ====`` or ``____ test_x ____``."""
    text = line.strip()
    if len(text) < 6 or text[0] not in "=_-*#~+" or text[:3] != text[0] * 3 or text[-3:] != text[0] * 3:
        return False
    return not titled or any(char.isalnum() for char in text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _kind(line: str) -> str:
    """The first word of a line, numbers masked: lines of one kind (``=== RUN``, ``[info]``, ``SKIP``) are siblings."""
    words = line.split(None, 1)
    return _VOLATILE.sub("#", words[0]) if words else ""


class _Scorer:
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
        for i, line in enumerate(lines):
            if line:
                kind, strength, words = _evidence(line)
                if strength > 0:
                    errors[i] = strength
                    shapes[i] = (_kind(line), words.lower())
                    if kind == _EXIT and strength > _BENIGN_STRENGTH:
                        exits.append(i)
        # Each failing command's output runs from its start line (or the previous failure) to its exit.
        starts: list[int] = []
        ends = exits or [len(lines) - 1]
        for end in ends:
            floor = ends[len(starts) - 1] + 1 if starts else 0
            starts.append(next((i for i in range(end, floor - 1, -1) if _is_command(lines[i])), floor))

        def where(i: int) -> float:
            k = bisect.bisect_left(ends, i)
            if k == len(ends) or i < starts[k]:
                return _OUTSIDE
            return (1.0 if k == 0 else _LATER) * (1.0 + _NEAR * math.exp(-(ends[k] - i) / _NEAR_LINES))

        counts = Counter(shapes.values())
        seeds = {i: errors[i] * where(i) / (1 + _ROUTINE * math.log2(max(1.0, counts[shapes[i]] / _ROUTINE_FREE))) for i in errors}
        indices = list(seeds)  # in log order
        self.exits = {i for i in exits if _CLOSING.search(lines[i])}
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
            kinds = Counter(_kind(lines[i]) for i in tail)
            for i in tail:
                routine = _BENIGN_STRENGTH if _benign(lines[i], lines[i].lower()) or kinds[_kind(lines[i])] >= _PROGRESS else 1.0
                self.mark(i, weight * routine * _TAIL_WEIGHT * (1 - (end - i) / (2 * _TAIL)))
            if exits:
                self.mark(end, weight * 2.5)
            if _is_command(lines[start]):
                self.mark(start, weight * 2.0)
        self.context(exits)
        return self.scores

    def mark(self, i: int, score: float) -> None:
        if score > self.scores.get(i, 0.0) and self.lines[i].strip() and not self.shared(i):
            self.scores[i] = score

    def shared(self, i: int) -> bool:
        """Whether the last green log has a line like this one."""
        if not self.green:
            return False
        if i not in self.templates:
            self.templates[i] = _template(self.lines[i])
        return self.templates[i] in self.green

    def frame(self, i: int) -> bool:
        if i not in self.frames:
            self.frames[i] = bool(_FRAME.search(self.lines[i]))
        return self.frames[i]

    def block(self, i: int, seeds: dict[int, float], previous: int) -> int:
        """Error line ``i`` with its header above (below error line ``previous``) and its details,
        frames and carets below, nearest first; inside a section opened by a banner, the section
        from there. The block takes in the weaker error lines it meets (a traceback's "raise
        Error(...)") and runs on after them; it stops before a stronger one, whose own block takes
        over. Returns where it stopped: each line is scanned by one block, in linear time."""
        lines = self.lines
        score = seeds[i]
        self.mark(i, score)
        kind = _kind(lines[i])
        top = self.banner_above(i)
        if top is not None:
            for j in range(max(top, previous + 1), i):
                self.mark(j, score * (0.8 - 0.002 * (i - j)))
        else:
            for j in range(i - 1, max(i - _BLOCK_BEFORE, previous + 1) - 1, -1):
                if not lines[j].strip() or _kind(lines[j]) == kind:
                    break
                self.mark(j, score * (0.65 - 0.15 * (i - 1 - j)))
                if _is_command(lines[j]):
                    break
        indent = _indent(lines[i])
        last = i  # the last error line taken in: details fade from there
        closed = False  # past an exit, only what is clearly more of the same (frames, indented lines)
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
                if top is None and (j + 1 >= len(lines) or _indent(lines[j + 1]) <= indent and not self.frame(j + 1)):
                    return j
            elif _is_command(line) or (top is not None and _is_banner(line)):
                return j
            elif top is not None or _indent(line) > indent or self.frame(j):
                self.mark(j, score * (0.9 - 0.01 * (j - last)))
            elif j - last <= 3 and not closed:  # the rest of the message, unless it is the next of a series of such lines
                if _kind(line) != kind:
                    self.mark(j, score * (0.75 - 0.05 * (j - last)))
            else:
                return j
            if j in seeds and j not in self.exits:
                self.mark(j, seeds[j])
                last = j
            j += 1
        return j

    def banner_above(self, i: int) -> int | None:
        """The titled banner that opened the section of line ``i``, if one did not far above and
        no command started since. Remembered, so that nearby errors do not scan again."""
        for j in range(i - 1, max(-1, i - _SECTION - 1), -1):
            line = self.lines[j]
            if _is_banner(line, titled=True):
                found = j
                break
            if _is_command(line):
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
            start = next((j for j in range(i, max(0, i - 3) - 1, -1) if _is_command(self.lines[j])), max(0, i - 3))
            end = next((j - 1 for j in range(i + 1, end + 1) if _is_command(self.lines[j])), end)
            for j in range(start, end + 1):
                if j not in self.scores and self.lines[j].strip() and not self.shared(j):
                    weight = 1 - (j - i) / (_CONTEXT + 1) if j > i else 0.5 - 0.1 * (i - j)
                    context[j] = max(context.get(j, 0.0), 0.01 * self.scores[i] * weight)
        self.scores.update(context)


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
    green_templates = {_template(line) for line in clean(green) if line.strip()} if green is not None else set()
    scores = _Scorer(lines, green_templates).run()
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
        prefix = run[0][: min(_indent(line) for line in run)]
        cut = len(prefix) if all(line.startswith(prefix) for line in run) else 0
        if out:
            out.append("...")
        out.extend(line[cut:] for line in run)
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
