"""Reading a repository's repair policy from its ``.greenline.toml`` (documented in docs/policy.md).

A missing file gives the safe defaults; a file that does not parse or holds a bad value is an
error naming the file, the key and what to do, never a silently weaker or stronger policy.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from models.policy import Policy, PolicyBudget

FILENAME = ".greenline.toml"
_DOCS = "see docs/policy.md"


class PolicyError(ValueError):
    """The policy file cannot be used as written; the message says where and how to fix it."""


def load_policy(repo_root: Path) -> Policy:
    """The policy of the repository at ``repo_root`` (defaults when it has no ``.greenline.toml``)."""
    path = Path(repo_root) / FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Policy()
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError(f"{path}: cannot be read ({err}); make it a readable UTF-8 text file or remove it") from None
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str = FILENAME) -> Policy:
    """The policy written in ``text``; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PolicyError(f"{source}: is not valid TOML ({err}); fix the syntax ({_DOCS})") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        problems = [_explain(e) for e in err.errors()]
        raise PolicyError(f"{source}: " + "; ".join(problems) + f" ({_DOCS})") from None


def _explain(error: ErrorDetails) -> str:
    loc = error["loc"]
    # The key in dotted form, with the index of a bad list entry kept to point at it.
    key = ".".join(str(part) for part in loc if isinstance(part, str)) or "(top level)"
    indexes = [part for part in loc if isinstance(part, int)]
    where = f"{key}[{indexes[-1]}]" if indexes else key
    if error["type"] == "extra_forbidden":
        known = PolicyBudget.model_fields if loc[:1] == ("budget",) and len(loc) > 1 else Policy.model_fields
        return f"unknown key {where!r}: remove it or use one of {', '.join(sorted(known))}"
    given = error.get("input")
    shown = "" if isinstance(given, dict | list) else f" (got {given!r})"
    return f"bad value for {where!r}{shown}: {error['msg']}; correct it or delete the key to get the safe default"
