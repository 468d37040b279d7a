"""Redaction: secrets in a text are replaced by ``[REDACTED:<kind>]`` before the text leaves the
worker (log excerpts, prompts, audit trails, verdicts).

Four detectors, each a regular expression run at most once over the text (a pattern whose literal
hint is absent is skipped, line-level checks only visit the lines holding their hint), so the time
is linear in the text:

- the values of environment variables whose names look secret (``specialists.secrets.SECRET_NAME``);
- token formats of well-known issuers (AWS, GitHub, GitLab, Slack, Anthropic, OpenAI, Google,
  Stripe, npm, PyPI, JWTs, private key blocks...), after the rule sets of detect-secrets and gitleaks;
- credentials in URLs (the password is redacted, the user kept) and secret-looking assignments
  (``password=...``, ``token: ...``, ``Authorization: Bearer ...``);
- long random-looking tokens (Shannon entropy and how often the character class changes), sparing
  40/64-hex commit ids and digests, UUIDs, identifiers, paths and versions.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from specialists.secrets import SECRET_NAME

MARK = "[REDACTED:{kind}]"


@dataclass(frozen=True, order=True)
class Secret:
    """A secret found in a text: ``text[start:end]`` is the value, ``kind`` what it looks like."""

    start: int
    end: int
    kind: str


# Formats of well-known issuers: (kind, hints, pattern). The value is the named group ``secret``
# when there is one, otherwise the whole match. A pattern only runs on texts holding one of its
# hints (lower case), which keeps redaction of a large log to a few fast substring searches.
_B = r"(?<![A-Za-z0-9_])"
TOKEN_PATTERNS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (kind, hints, re.compile(pattern))
    for kind, hints, pattern in [
        # The body stops at the END line; an unterminated block (a cut excerpt) runs to 16 KB.
        ("private-key", ("private key",), r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:[^-]|-(?!----END)){0,16384}(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)?"),
        ("private-key", ("putty",), r"PuTTY-User-Key-File-\d: .*"),
        ("aws-access-key", ("a3t", "akia", "asia", "abia", "acca"), _B + r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        ("aws-secret-key", ("aws",), r"(?i:aws.{0,20}?(?:secret|key|pwd|pw|password|pass|token).{0,20}?(?:=|:|=>)\s*['\"]?)(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"),
        ("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), _B + r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])"),
        ("github-token", ("github_pat_",), _B + r"github_pat_[A-Za-z0-9_]{22,255}"),
        ("gitlab-token", ("gl", "gr1348941"), _B + r"(?:glpat|gldt|glft|glsoat|glrt|glcbt|glimt|glptt|glagent|gloas)-[A-Za-z0-9_-]{20,1024}(?![A-Za-z0-9_-])"),
        ("slack-token", ("xox",), _B + r"xox[abposre]-[A-Za-z0-9-]{10,250}"),
        ("slack-token", ("xapp-",), _B + r"xapp-\d-[A-Za-z0-9-]{10,250}"),
        ("slack-webhook", ("hooks.slack.com",), r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/+-]{20,}"),
        ("anthropic-key", ("sk-ant-",), _B + r"sk-ant-[a-z]{2,10}\d{0,3}-[A-Za-z0-9_-]{20,}"),
        ("openai-key", ("sk-",), r"(?<![A-Za-z0-9_-])sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}"),
        ("openai-key", ("t3blbkfj",), r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}"),
        ("openai-key", ("sk-",), r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9]{48}(?![A-Za-z0-9])"),
        ("google-api-key", ("aiza",), _B + r"AIza[0-9A-Za-z_-]{35}"),
        ("stripe-key", ("k_live_", "k_test_"), _B + r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"),
        ("huggingface-token", ("hf_",), _B + r"hf_[A-Za-z0-9]{34,}"),
        ("npm-token", ("npm_",), _B + r"npm_[A-Za-z0-9]{36}"),
        ("npm-token", ("/:_",), r"/:_(?:authToken|password|auth)\s*=\s*(?P<secret>[^\s'\"]+)"),
        ("pypi-token", ("pypi-ag",), _B + r"pypi-Ag[A-Za-z0-9_-]{50,}"),
        ("sendgrid-key", ("sg.",), _B + r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
        ("twilio-key", ("sk",), _B + r"SK[0-9a-fA-F]{32}(?![A-Za-z0-9])"),
        ("azure-storage-key", ("accountkey=",), r"AccountKey=(?P<secret>[A-Za-z0-9+/=]{86,88})"),
        ("digitalocean-token", ("_v1_",), _B + r"do[pro]_v1_[a-f0-9]{64}"),
        ("jwt", ("eyj",), _B + r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    ]
)

# ``scheme://user:password@host``: the password goes, the user stays (it says whose it was).
URL_PASSWORD = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:(?P<secret>[^/\s'\"]+)@(?=[^\s@/]*[\w\]])")
# ``Authorization: Bearer xyz``, ``-H "Authorization: token xyz"``, ``bearer xyz``.
AUTH_HEADER = re.compile(r"(?i)\b(?:authorization\s*[:=]\s*['\"]?(?:bearer|basic|token|bot|digest)?\s*|(?:bearer|basic)\s+)(?P<secret>[A-Za-z0-9._~+/-]{8,}=*)")
# Words whose presence on a line makes it worth the header / assignment check (lower case).
_AUTH_HINT = re.compile(r"authorization|bearer|basic")
_ASSIGNMENT_HINT = re.compile(r"pass|pwd|secret|token|key|credential")
# ``password=...``, ``"api_key": "..."``, ``DB_PASSWORD: ...`` (``--password ...`` is left alone).
_SECRET_WORDS = (
    r"passw(?:or)?d|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|client[_-]?secret|credentials?|auth[_-]?key|session[_-]?key|signing[_-]?key|encryption[_-]?key"
)
ASSIGNMENT = re.compile(
    r"(?i)(?<![\w.-])(?P<key>[\w.-]{0,40}?(?:" + _SECRET_WORDS + r")(?:[_.-][\w.-]{0,40})?)['\"]?\s*(?:=|:=|:|=>)[ \t]*"
    r"(?:\"(?P<dq>[^\"\n]{1,512})\"|'(?P<sq>[^'\n]{1,512})'|(?P<bare>[^\s'\"`,;]{1,512}))"
)

_PLACEHOLDER = re.compile(
    r"^(?:|changeme|change[-_]?me|replace[-_]?me|todo|tbd|xxx+|\*+|\.\.\.|<[^>]*>|\$\{.*\}|\$\(.*\)|\$[A-Za-z_][\w]*|\{\{.*\}\}|%\(.*\)s"
    r"|your[-_ ].*|example|dummy|fake|test|secret|password|token|none|null|nil|undefined|redacted|\[REDACTED.*)$",
    re.I,
)
_LITERAL = re.compile(r"^(?:true|false|yes|no|on|off|enabled?|disabled?|required|optional|[-+]?\d+(?:\.\d+)?(?:[smhd]|ms)?)$", re.I)
_HEX = re.compile(r"^[0-9a-f]+$|^[0-9A-F]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Candidate tokens for the entropy check: long runs of base64/base64url/hex characters.
_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# ``password: str`` in a traceback is an annotation, not a value.
_TYPE_NAMES = frozenset({"str", "bytes", "bool", "None", "Optional", "SecretStr", "SecretBytes", "string", "String", "Any"})
# Env var names that look secret but hold locations (PWD is the working directory).
_NOT_SECRET_ENV = re.compile(r"^(?:OLD)?PWD$")


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _class_changes(token: str) -> float:
    """How often consecutive letters/digits change class (lower, upper, digit): ~0.6 for random
    base62, below 0.2 for identifiers, paths and words."""
    classes = ["l" if c.islower() else "u" if c.isupper() else "d" for c in token if c.isalnum()]
    if len(classes) < 2:
        return 0.0
    return sum(a != b for a, b in zip(classes, classes[1:], strict=False)) / (len(classes) - 1)


def is_random_token(token: str) -> bool:
    """A long token that looks generated (a key, a password) rather than written (a word, a path,
    a version, an identifier). 40- and 64-digit hex (commit ids, sha256 digests) and UUIDs are spared."""
    # Long runs are judged by their head: enough to tell, and keeps the check linear.
    token = token.rstrip("=")[:256]
    if len(token) < 20 or _UUID.match(token):
        return False
    if re.match(r"(?:sha\d{1,3}|md5|blake2b?)-", token):
        return False  # Subresource-integrity digests of lock files (sha512-...)
    resource_id = re.fullmatch(r"[a-z]{1,12}[-_]([0-9a-f]{8,32})", token)
    if resource_id:
        return False  # ami-0a1b2c3d4e5f67890, sg-..., i-...: cloud resource ids
    if _HEX.match(token):
        return len(token) >= 32 and len(token) not in (40, 64) and shannon_entropy(token) >= 3.0
    if not (re.search(r"\d", token) and re.search(r"[A-Za-z]", token)):
        return False
    if max(len(part) for part in re.split(r"[/_+=-]", token)) < 12:
        return False  # short parts joined by separators: identifiers, paths, wheel tags, dates
    threshold = min(4.2, 0.88 * math.log2(len(token)))
    return shannon_entropy(token) >= threshold and _class_changes(token) >= 0.3


def looks_like_credential(value: str, *, strict: bool = True) -> bool:
    """A value that could be a password or key, as opposed to configuration: not a placeholder,
    reference, boolean, number, path, URL without credentials or words (``postgres``,
    ``us-east-1``, ``billing/prod/db``). ``strict=False`` (for names that only may hold secrets,
    like ``AUTH_PROVIDER``) also spares words with a short number (``oauth2``, ``python3.11``)."""
    value = value.strip().strip("'\"")
    if _PLACEHOLDER.match(value) or _LITERAL.match(value) or value.startswith("$"):
        return False
    if "://" in value:
        return bool(URL_PASSWORD.search(value))
    if value.startswith(("/", "./", "../", "~/")) or len(value) < 6:
        return False
    if re.search(r"[()\[\]{}]|\benviron\b|getenv|\bsecrets\.", value):
        return False  # code or a template reference, not a value
    parts = re.split(r"[-_./:,@ ]", value)
    if all(re.fullmatch(r"[A-Za-z]*|\d+", p) for p in parts):
        return False
    if not strict and all(re.fullmatch(r"[A-Za-z]+\d{1,3}|\d+[A-Za-z]{1,3}|[A-Za-z]*|\d+", p) for p in parts):
        return False
    return True


def env_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """Secret values of ``env`` (by their names) worth redacting, value -> variable name."""
    values: dict[str, str] = {}
    for name, value in env.items():
        if not value or not SECRET_NAME.search(name) or _NOT_SECRET_ENV.match(name):
            continue
        stripped = value.strip()
        if len(stripped) < 5 or _LITERAL.match(stripped) or _PLACEHOLDER.match(stripped):
            continue
        if stripped.startswith(("/", "./", "~/")) or ("://" in stripped and not URL_PASSWORD.search(stripped)):
            continue
        values.setdefault(stripped, name)
    return values


def find_secrets(text: str, *, env: Mapping[str, str] | None = None, entropy: bool = True) -> list[Secret]:
    """Every secret found in ``text``, sorted and without overlaps (a longer span wins)."""
    found: list[Secret] = []
    known = env_secrets(env or {})
    if known:
        alternatives = "|".join(re.escape(v) for v in sorted(known, key=len, reverse=True))
        for match in re.finditer(f"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", text):
            found.append(Secret(match.start(), match.end(), f"env:{known[match.group()]}"))
    lowered = text.translate(_ASCII_LOWER)
    for kind, hints, pattern in TOKEN_PATTERNS:
        if any(hint in lowered for hint in hints):
            found.extend(_spans(kind, pattern.finditer(text)))
    for start, end in _lines_with(lowered, "://"):
        found.extend(_spans("url-password", URL_PASSWORD.finditer(text, start, end)))
    for start, end in _lines_with(lowered, _AUTH_HINT):
        # "Basic authentication failed" names a scheme, not a credential.
        matches = AUTH_HEADER.finditer(text, start, end)
        found.extend(_spans("authorization", (m for m in matches if not re.fullmatch(r"[A-Za-z][a-z]*", m.group("secret")))))
    for start, end in _lines_with(lowered, _ASSIGNMENT_HINT):
        for match in ASSIGNMENT.finditer(text, start, end):
            group = next(g for g in ("dq", "sq", "bare") if match.group(g) is not None)
            if _assigned_secret(match.group(group), text, match.end()):
                found.append(Secret(match.start(group), match.end(group), _assignment_kind(match.group("key"))))
    # What an earlier pass redacted stays as it is.
    named = _merge([s for s in found if not text.startswith("[REDACTED:", s.start)])
    if not entropy:
        return named
    # Random-looking tokens the named detectors did not explain (a named kind says more).
    starts = [s.start for s in named]
    random = []
    for match in _TOKEN.finditer(text):
        i = bisect.bisect_right(starts, match.start()) - 1
        overlaps = (i >= 0 and named[i].end > match.start()) or (i + 1 < len(named) and named[i + 1].start < match.end())
        # Digests named by their algorithm (``h1:``, ``sha256:``, ``zh:``) are not secrets.
        digest = re.search(r"(?:sha\d{1,3}|md5|h1|zh|blake2b?)[:=]$", text[max(0, match.start() - 8) : match.start()])
        if not overlaps and not digest and is_random_token(match.group()):
            random.append(Secret(match.start(), match.end(), "high-entropy"))
    return sorted(named + random)


def redact(text: str, *, env: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret replaced by ``[REDACTED:<kind>]``."""
    secrets = find_secrets(text, env=env)
    if not secrets:
        return text
    out: list[str] = []
    at = 0
    for secret in secrets:
        out.append(text[at : secret.start])
        out.append(MARK.format(kind=secret.kind))
        at = secret.end
    out.append(text[at:])
    return "".join(out)


def _lines_with(lowered: str, hint: str | re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """Bounds of each line holding ``hint``, once per line."""
    if isinstance(hint, str):
        positions: Iterable[int] = (m.start() for m in re.finditer(re.escape(hint), lowered))
    else:
        positions = (m.start() for m in hint.finditer(lowered))
    line_end = -1
    for at in positions:
        if at < line_end:
            continue
        start = lowered.rfind("\n", 0, at) + 1
        line_end = lowered.find("\n", at)
        line_end = len(lowered) if line_end < 0 else line_end
        yield start, line_end


def _spans(kind: str, matches: Iterable[re.Match[str]]) -> list[Secret]:
    spans = []
    for match in matches:
        group = "secret" if "secret" in match.re.groupindex and match.group("secret") is not None else 0
        if match.end(group) > match.start(group):
            spans.append(Secret(match.start(group), match.end(group), kind))
    return spans


def _assigned_secret(value: str, text: str, end: int) -> bool:
    stripped = value.strip()
    if len(stripped) < 4 or _PLACEHOLDER.match(stripped) or _LITERAL.match(stripped) or stripped in _TYPE_NAMES:
        return False
    if end < len(text) and text[end] in "([.":
        return False  # ``token = get_token()``, ``password: os.environ[...]``: code, not a value
    if re.search(r"[()\[\]{}<>]|\benviron\b|getenv", stripped):
        return False
    if "://" in stripped and not URL_PASSWORD.search(stripped):
        return False
    return True


def _assignment_kind(key: str) -> str:
    key = key.lower()
    if re.search(r"pass|pwd", key):
        return "password"
    if "token" in key:
        return "token"
    if "key" in key:
        return "key"
    return "secret"


def _merge(found: list[Secret]) -> list[Secret]:
    merged: list[Secret] = []
    for secret in sorted(found, key=lambda s: (s.start, -s.end)):
        if merged and secret.start < merged[-1].end:
            last = merged[-1]
            if secret.end > last.end:
                merged[-1] = Secret(last.start, secret.end, last.kind)
            continue
        merged.append(secret)
    return merged
