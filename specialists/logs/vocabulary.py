"""What a line says about a failure: the error vocabulary of compilers, test runners and build
tools of most languages, how strongly each word tells of a failure, and benign look-alikes."""

from __future__ import annotations

import re


def _words(*alternatives: str) -> str:
    """The alternatives as words of a sentence, not parts of a path, an option, an identifier or a
    file name (``errors.go``, ``--state=failed``, ``TestLinks/errors``, ``on-error``)."""
    return r"(?<![\w/.$-])(?<!\w=)(?:" + "|".join(alternatives) + r")(?![\w/=]|[.-]\w)"


EXIT, STRONG, MEDIUM, WEAK = 0, 1, 2, 3  # kinds of evidence, the most telling first
_STRENGTH = {EXIT: 2.0, STRONG: 3.0, MEDIUM: 2.0, WEAK: 0.7}
BENIGN_STRENGTH = 0.3
# Each entry: a word one of whose lower-cased forms every match contains, the kind of evidence,
# and the pattern. A line is first screened for all the words at once (one regular expression
# compiled as a trie, ``e(?:rr|x(?:it|...))``: ``re`` tries the branches of an alternation one
# after the other at every position, and factoring them is about three times faster); only the
# patterns of the words it contains then run. That is the one test every line gets: the rest of
# distill works on the few lines that pass it and their neighbours.
_VOCABULARY: tuple[tuple[str, int, str], ...] = (
    # A command ended badly: "The command x exited with 1", "exit code 2", make's "*** [x] Error 1",
    # docker's "returned a non-zero code: 1", "BUILD FAILURE", "Job failed"...
    ("exit", EXIT, r"\bexited (?:with )?(?:code |status )?[1-9]|\b[Ee]xit (?:code|status|value)[:=]? ?[1-9]"),
    ("non-zero", EXIT, r"returned (?:a )?non-zero (?:exit status|code):? ?[1-9]"),
    ("err", EXIT, r"\*\*\* \[[^\]]*\] Error [1-9]|\berror Command failed"),
    ("fail", EXIT, r"^The command .* failed|^BUILD FAIL|^FAILURE: Build failed|\bJob failed\b"),
    # Definite failures: exception classes, compilers' and tools' error prefixes, test runners' verdicts.
    ("err", STRONG, r"\b[A-Z]\w*Error\b|\bERR!|" + _words("error", "ERROR", "Error") + r"(?:\[[\w-]+\])?(?:\s*[:!]|\s+[A-Z]{1,4}\d+\b)"),
    ("err", STRONG, _words("ERRORS?")),
    # An error-level line that points at a source location: a compiler's diagnostic (sbt's
    # "[error] /x/A.scala:10:8: not found", maven's "[ERROR] /x/A.java:[10,8] cannot find symbol").
    ("err", STRONG, r"^\[(?:error|ERROR)\]\s+\S+\.\w{1,6}(?::\[?\d+|\(\d+)"),
    ("exception", STRONG, r"\b[A-Z]\w*Exception\b"),
    ("segmentation", STRONG, _words("[Ss]egmentation fault")),
    ("fail", STRONG, r"\b[A-Z]\w*Failure\b|" + _words("FAIL(?:ED|URES?|ING)?", "[Ff]ail(?:ed|ures?|ing|s)?")),
    ("traceback", STRONG, r"^Traceback"),
    ("e  ", STRONG, r"^\s*E\s{2,}"),  # pytest's explanation lines
    ("** (", STRONG, r"^\s*\*\* \("),  # Elixir's exceptions
    ("✗", STRONG, "✗"), ("✖", STRONG, "✖"), ("✘", STRONG, "✘"), ("×", STRONG, "×"), ("❌", STRONG, "❌"),
    ("fatal", STRONG, _words("FATAL", "[Ff]atal")),
    ("panic", STRONG, _words("PANIC", "panic(?:ked)?")),
    ("abort", STRONG, _words("ABORT(?:ED|ING)?", "[Aa]borted")),
    ("crash", STRONG, _words("CRASHED")),
    ("core dump", STRONG, _words("core dumped")),
    ("assert", STRONG, _words("[Aa]ssertion")),
    ("not ok", STRONG, _words("not ok")),
    ("undefined", STRONG, _words("undefined (?:reference|method|function|symbol|variable|local|index|offset|constant)")),
    ("cannot", STRONG, _words("cannot find symbol")),
    ("not defined", STRONG, _words("is not defined")),
    ("not declared", STRONG, _words("not declared")),
    # Probable failures: what tools say when something is missing, refused or not as expected.
    ("err", MEDIUM, _words("[Ee]rrors?")),
    ("exception", MEDIUM, _words("exception")),
    ("crash", MEDIUM, _words("crash(?:ed)?")),
    ("denied", MEDIUM, _words("denied")),
    ("refused", MEDIUM, _words("refused")),
    ("timed out", MEDIUM, _words("timed out")),
    ("timeout", MEDIUM, _words("timeout")),
    ("killed", MEDIUM, _words("[Kk]illed")),
    ("cannot", MEDIUM, _words("[Cc]annot")),
    ("can't", MEDIUM, _words("[Cc]an't")),
    ("could", MEDIUM, _words("[Cc]ould ?n[o']t")),
    ("unable", MEDIUM, _words("[Uu]nable to")),
    ("invalid", MEDIUM, _words("[Ii]nvalid")),
    ("illegal", MEDIUM, _words("[Ii]llegal")),
    ("unknown", MEDIUM, _words("[Uu]nknown")),
    ("unexpected", MEDIUM, _words("[Uu]nexpected(?:ly)?")),
    ("missing", MEDIUM, _words("[Mm]issing")),
    ("undefined", MEDIUM, _words("[Uu]ndefined")),
    ("unsatisf", MEDIUM, _words(r"[Uu]nsatisfi\w+")),
    ("wrong", MEDIUM, _words("[Ww]rong")),
    ("match", MEDIUM, _words(r"[Mm]ismatch\w*") + r"|(?:does|did) not match"),
    ("violation", MEDIUM, _words("[Vv]iolations?")),
    ("conflict", MEDIUM, _words("[Cc]onflicts?")),
    ("expected", MEDIUM, _words("[Ee]xpected")),
    ("actual", MEDIUM, _words("[Aa]ctual")),
    ("problem", MEDIUM, _words("[Pp]roblems?")),
    ("incompatible", MEDIUM, _words("[Ii]ncompatible")),
    ("unresolved", MEDIUM, _words("[Uu]nresolved")),
    ("not found", MEDIUM, _words("[Nn]ot found", "NOT FOUND")),
    ("no such", MEDIUM, _words("[Nn]o such file")),
    ("space left", MEDIUM, _words("[Nn]o space left")),
    ("out of memory", MEDIUM, _words("[Oo]ut of memory")),
    ("not exist", MEDIUM, "not exist"),
    ("n't exist", MEDIUM, "n't exist"),
    ("impossible", MEDIUM, "ResolutionImpossible"),
    # An HTTP error status: a status line, or a status next to the URL it answered (link checkers,
    # HTTP clients' request logs: "[L12] 404 https://x", "[503] https://x", "GET https://x 500");
    # not a line's first number, which counts ("401 https://x" is the 401st link checked).
    ("http", MEDIUM, r"\bHTTP/\d(?:\.\d)? [45]\d\d\b|\[[45]\d\d\]\s+https?://|(?<=\S )[45]\d\d\s+https?://|https?://\S+\s+\[?[45]\d\d\b(?![\w./:-])"),
    ("reason", MEDIUM, r"\bReason:"),
    ("non-zero", MEDIUM, "non-zero"),
    ("^", MEDIUM, r"^\s*\^[\^~]*\s*$"),  # a caret under the offending code
    # Warnings: a tool that says so is reporting something lesser than an error.
    ("warn", WEAK, _words("[Ww]arn(?:ing|ings)?", "WARN(?:ING)?")),
    ("deprecat", WEAK, _words(r"[Dd]eprecat\w*", r"DEPRECAT\w*")),
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
    (("ok", "pass", "✓", "✔", "skip", "[+]"), re.compile(
        r"(?:^|\s)(?:ok|OK|PASS(?:ED)?|[Pp]assed|✓|✔)(?:\s|$)|^\s*(?:SKIP|[Ss]kipped)\b|\bSKIPPED\b|^\s*\[\+\] "
    )),
)


def is_benign(line: str, lower: str) -> bool:
    return any(any(word in lower for word in words) and pattern.search(line) for words, pattern in _BENIGN)


def evidence(line: str) -> tuple[int, float, str]:
    """How a line reports a failure: the kind of evidence (``EXIT`` ... ``WEAK``, -1 if none),
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
    if kind != WEAK and (warning := _WARNING.search(line, 0, position + 1)):
        kind, said = WEAK, warning[0]  # "[warn] could not ...", "x.c:3: warning: unused ...": a warning
    strength = BENIGN_STRENGTH if is_benign(line, lower) else _STRENGTH[kind]
    return kind, min(strength, _STRENGTH[kind]), said
