"""The shape of a line, whatever it says: a command starting, an exit closing a command's output,
stack frames and other continuation lines, banners, indentation, its kind, its template."""

from __future__ import annotations

import re

VOLATILE = re.compile(
    r"0x[0-9a-f]+|\b[0-9a-f]{7,64}\b|\d+(?:\.\d+)*|(?:/[\w.@+-]+)+/|\b\d{4}-\d\d-\d\dT[\d:.]+Z?\b", re.IGNORECASE
)

# An exit that ends its line ("The command x exited with 1.", "make: *** [all] Error 2") closes
# the command's output; one inside a message ("panicked: got exit code: 77', src/x.rs:3:9") does not.
CLOSING = re.compile(r"(?:\s\d+|[Ff]ail\w*|FAIL\w*)\W*$")
# A command that reports it succeeded: "The command x exited with 0.", "exit code 0".
SUCCESS = re.compile(r"\bexited (?:with )?(?:code |status )?0\b|\b[Ee]xit (?:code|status|value)[:=]? ?0\b")

# The start of a command's output: a shell prompt, a CI step, a build tool's task or plugin.
_COMMAND = re.compile(r"^(?:\$ \S|##\[group\]|Step \d+/\d+ : |#\d+ \[|> Task :|\[INFO\] --- \S.* ---$)")
_COMMAND_STARTS = ("$ ", "##[group]", "Step ", "#", "> Task :", "[INFO] --- ")
# Continuation lines under an error: stack frames of most runtimes (possibly quoted, "= #0 0x..."),
# ``file:line`` references, code excerpts with carets, "... N more", boxed messages.
FRAME = re.compile(
    r"^[=|>*+:-]{0,3}(?:\s+at\s+\S|\s*(?:File \"[^\"]+\", line \d+|from \S+:\d+|#\d+\s+0x[0-9a-fA-F]+"
    r"|\S+\.\w{1,6}:\d+(?::\d+)?(?:[:\s)]|$)|\(\S+(?: [\w.-]+)?\) \S+:\d+|--> \S+:\d+|\.\.\. \d+ more|Caused by\b"
    r"|goroutine \d+ |\S+\(\d+,\d+\):|\^[\^~]*\s*$|[|│]))"
    r"|:\d+:in [`'<]|\(\S+\.\w{1,6}:\d+(?::\d+)?\)\s*$|^at \S.*:\d+\)?$"
)


def template(line: str) -> str:
    """The line with its volatile parts (numbers, hashes, paths, timestamps) masked."""
    return VOLATILE.sub("#", line).strip()


def is_command(line: str) -> bool:
    return line.startswith(_COMMAND_STARTS) and bool(_COMMAND.match(line))


def is_banner(line: str, titled: bool = False) -> bool:
    """A rule, or (``titled``) a title between rules such as ``==== FAILURES ====`` or ``____ test_x ____``."""
    text = line.strip()
    if len(text) < 6 or text[0] not in "=_-*#~+" or text[:3] != text[0] * 3 or text[-3:] != text[0] * 3:
        return False
    return not titled or any(char.isalnum() for char in text)


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


# The log level some build tools put before every line: ``[info]``, ``[error]``, ``[WARNING]``.
_LEVEL = re.compile(r"\[[A-Za-z]{3,7}\] ?")


def depth(line: str) -> int:
    """A line's indentation after the log level a build tool may prefix it with (``[info]   at x``,
    ``[ERROR]     symbol: y``): where its message sits, as a reader sees it."""
    level = _LEVEL.match(line) if line.startswith("[") else None
    if level is None:
        return indent_of(line)
    rest = line[level.end():]
    return len(rest) - len(rest.lstrip())


def line_kind(line: str) -> str:
    """The first word of a line, numbers masked: lines of one kind (``=== RUN``, ``[info]``, ``SKIP``) are siblings."""
    words = line.split(None, 1)
    return VOLATILE.sub("#", words[0]) if words else ""


_WORDS = re.compile(r"[\w.-]+")


def phrasing(line: str, words: str) -> str:
    """How a line says its error ``words``: the words with a dozen characters either side, every
    word there masked. Lines that list failures one per line (``a::test_x FAILED``) share it."""
    before, _, after = line.partition(words)
    return _WORDS.sub("w", before[-12:]) + words + _WORDS.sub("w", after[:12])
