"""Environment specialist: the build reads an environment variable nobody set, and a template
of the repo (``.env.example`` and kin) holds a non-secret value for it."""

from __future__ import annotations

import math
import re
import shlex
from collections import Counter
from collections.abc import Iterator

from models import Category, Diagnosis
from specialists.repo_view import RepoView
from specialists.secrets import SECRET_NAME, URL_CREDENTIALS

NAME = "environment"

_VAR = r"([A-Z][A-Z0-9_]{1,})"
_PATTERNS = [
    # KeyError from os.environ[...] / os.environ.__getitem__ (the traceback shows the access)
    re.compile(r"^(?:E\s+)?KeyError: ['\"]" + _VAR + r"['\"]\s*$"),
    re.compile(r"\b(?:environment variable|env var)\s+['\"`$]?" + _VAR + r"['\"`]?\s+(?:is\s+)?(?:not set|missing|undefined|required|unset|empty)", re.I),
    re.compile(r"\b(?:missing|required|undefined|unset)\s+(?:required\s+)?(?:environment variable|env var)s?:?\s+['\"`$]?" + _VAR, re.I),
    re.compile(r"['\"`$]?" + _VAR + r"['\"`]?\s+(?:environment variable\s+)?(?:is\s+)?(?:not set|unset|undefined|must be set)\b"),
]
_TEMPLATE = re.compile(r"(?:^|/)(?:\.env\.(?:example|sample|template|dist|defaults)|(?:[\w.-]+\.)?env\.(?:example|sample|template)|example\.env|[\w.-]+\.env\.(?:example|sample|template))$")
_ENV_FILE = re.compile(r"(?:^|/)(?:\.env(?:\.[\w-]+)?|[\w.-]+\.env)$")
_PLACEHOLDER = re.compile(r"^(?:|changeme|change[-_]me|replace[-_]?me|todo|xxx+|\*+|<.*>|\$\{.*\}|your[-_].*|secret|password|none|null)$", re.I)


def missing_variables(log_lines: list[str]) -> list[str]:
    found: dict[str, None] = {}
    text = "\n".join(log_lines)
    environ_access = "environ" in text or "getenv" in text
    for line in log_lines:
        stripped = line.strip()
        for i, pattern in enumerate(_PATTERNS):
            match = pattern.search(stripped)
            # A bare KeyError only counts when the traceback shows an environment lookup.
            if match and (i > 0 or environ_access):
                found.setdefault(match.group(1), None)
    return list(found)


def parse_env(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def looks_secret(name: str, value: str) -> bool:
    """A secret by its name, credentials in a URL, or a long random-looking token."""
    if SECRET_NAME.search(name):
        return True
    if URL_CREDENTIALS.search(value):
        return True
    # Tokens and generated passwords are one unbroken, random-looking run mixing letters and
    # digits; URLs without credentials and paths are configuration, not secrets.
    is_locator = "://" in value or value.startswith(("/", "./", "~"))
    if len(value) >= 20 and not is_locator and re.fullmatch(r"\S+", value) and re.search(r"\d", value) and re.search(r"[A-Za-z]", value):
        counts = Counter(value)
        entropy = -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())
        return entropy > 3.5
    return False


def env_targets(view: RepoView, cmd: str) -> list[str]:
    """Env files the build step loads (named in ``cmd``), then the conventional ``.env``."""
    targets: list[str] = []
    try:
        tokens = shlex.split(cmd.replace("$(", " ").replace(")", " ").replace("`", " "))
    except ValueError:
        tokens = cmd.split()
    for token in tokens:
        token = token.split("=", 1)[-1]
        path = view.in_build_dir(token[2:] if token.startswith("./") else token)
        if _ENV_FILE.search(path) and not _TEMPLATE.search(path) and path not in targets:
            targets.append(path)
    return targets


def diagnose(view: RepoView, log_lines: list[str], cmd: str) -> Iterator[Diagnosis]:
    names = missing_variables(log_lines)
    if not names:
        return
    evidence = [line.strip() for line in log_lines if any(n in line for n in names)][:6]
    templates = [p for p in view.paths() if _TEMPLATE.search(p)]
    # Templates next to the build come first.
    templates.sort(key=lambda p: (not p.startswith(view.subdir), p.count("/")))
    defaults: dict[str, tuple[str, str]] = {}
    for template in templates:
        for key, value in parse_env(view.read(template) or "").items():
            defaults.setdefault(key, (value, template))

    def escalate(reason: str, confidence: float = 0.8) -> Diagnosis:
        return Diagnosis(
            category=Category.ENVIRONMENT,
            specialist=NAME,
            summary=f"environment variable(s) {', '.join(names)} not set",
            evidence=evidence,
            confidence=confidence,
            escalate_reason=reason,
        )

    def must_not_copy(name: str) -> bool:
        value = defaults[name][0] if name in defaults else None
        return looks_secret(name, value or "") or (value is not None and bool(_PLACEHOLDER.match(value)))

    secret = [n for n in names if must_not_copy(n)]
    if secret:
        yield escalate(
            f"{', '.join(secret)} looks like a secret (or its template value is a placeholder); Greenline never "
            "invents secrets. Store the real value in your CI's secret store and expose it to the build step "
            f"as {', '.join(secret)}, then rerun."
        )
        return
    unknown = [n for n in names if n not in defaults]
    if unknown:
        where = f"{', '.join(templates)} gives no value for it" if templates else "the repository has no env template (.env.example, .env.sample, ...)"
        yield escalate(f"{', '.join(unknown)} is not set and {where}; set it in the CI environment", 0.7)
        return
    targets = env_targets(view, cmd) or [view.in_build_dir(".env")]
    target = next((t for t in targets if view.exists(t)), targets[0])
    text = view.read(target) or ""
    present = parse_env(text)
    additions = [n for n in names if n not in present]
    if not additions:
        yield escalate(f"{', '.join(names)} is defined in {target} but the build does not see it: check how the build step loads {target}", 0.6)
        return
    if text and not text.endswith("\n"):
        text += "\n"
    for n in additions:
        value = defaults[n][0]
        text += f"{n}={_quoted(value)}\n"
    sources = sorted({defaults[n][1] for n in additions})
    yield Diagnosis(
        category=Category.ENVIRONMENT,
        specialist=NAME,
        summary=f"set {', '.join(additions)} in {target} from {', '.join(sources)}",
        evidence=evidence,
        confidence=0.85,
        patch=view.with_changes({target: text}),
    )


def _quoted(value: str) -> str:
    """The value as a POSIX shell (and dotenv) file reads it back."""
    return value if re.fullmatch(r"[\w.,:/@+-]*", value) else shlex.quote(value)
