"""Environment specialist: the build reads an environment variable nobody set, and a template
of the repo (``.env.example`` and kin) holds a non-secret value for it; or it opens a config file
that is not there while a template of it sits next to it (``specialists/config_files.py``)."""

from __future__ import annotations

import math
import re
import shlex
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

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


# pydantic v2 prints ``N validation error(s) for Model``, then per error the field (its alias,
# if any) and, indented, ``Field required [type=missing, ...]``; v1 said ``field required``.
_VALIDATION_HEADER = re.compile(r"\b\d+ validation errors? for ([A-Za-z_]\w*)")
_FIELD_MISSING = re.compile(r"^\s*field required (?:\[type=missing\b|\(type=value_error\.missing\))", re.I)
_PYTEST_MARK = re.compile(r"^E(?:\s+|$)")


def missing_settings_fields(log_lines: list[str]) -> list[tuple[str, str]]:
    """``(settings class, field or alias)`` of every required field a pydantic model missed."""
    found: dict[tuple[str, str], None] = {}
    model = None
    previous = ""
    for line in log_lines:
        text = _PYTEST_MARK.sub("", line)
        header = _VALIDATION_HEADER.search(text)
        if header:
            model = header.group(1)
        elif model and _FIELD_MISSING.match(text):
            loc = previous.strip()
            # Nested models (``db.host``) and list items have no single variable of their own.
            if re.fullmatch(r"[A-Za-z_]\w*", loc):
                found.setdefault((model, loc), None)
        previous = text
    return list(found)


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


# --- pydantic-settings: which variable a missing field reads ---------------------------------


@dataclass(frozen=True)
class SettingsClass:
    """What a settings class's source says about the variables its fields read."""

    is_settings: bool = False
    prefix: str = ""
    case_sensitive: bool = False
    env_file: str | None = None
    aliases: frozenset[str] = frozenset()

    def variable(self, loc: str) -> str:
        # An aliased field reads the alias itself: pydantic-settings adds no prefix to it.
        name = loc if loc in self.aliases else self.prefix + loc
        return name if self.case_sensitive else name.upper()


_OPTION = r"\b{}[\"']?\s*[=:]\s*"
_PREFIX = re.compile(_OPTION.format("env_prefix") + r"[\"']([^\"']*)[\"']")
_CASE_SENSITIVE = re.compile(_OPTION.format("case_sensitive") + r"True\b")
_ENV_FILE_OPTION = re.compile(_OPTION.format("env_file") + r"[\"']([^\"']+)[\"']")
_ALIAS = re.compile(r"\b(?:validation_alias|alias)\s*=\s*(?:AliasChoices\(\s*)?[\"']([^\"']+)[\"']")


def settings_class(view: RepoView, name: str, _depth: int = 0) -> SettingsClass | None:
    """The class ``name`` as the repo's Python source declares it (bases followed in the repo),
    or ``None`` when no ``.py`` file of the repo declares it."""
    header = re.compile(rf"^([ \t]*)class\s+{re.escape(name)}\s*\(([^)]*)\)\s*:[^\n]*\n", re.M)
    sources = [p for p in view.paths() if p.endswith(".py")]
    sources.sort(key=lambda p: not p.startswith(view.subdir))
    for path in sources:
        text = view.read(path) or ""
        match = header.search(text) if f"class {name}" in text else None
        if match is None:
            continue
        body = _class_body(text[match.end() :], len(match.group(1).expandtabs()))
        bases = [b.strip().rsplit(".", 1)[-1] for b in match.group(2).split(",") if b.strip() and "=" not in b]
        parents = [settings_class(view, b) for b in bases if b != "BaseSettings" and _depth < 3]
        inherited = [p for p in parents if p is not None]
        prefix, case, env_file = _PREFIX.search(body), _CASE_SENSITIVE.search(body), _ENV_FILE_OPTION.search(body)
        return SettingsClass(
            is_settings="BaseSettings" in bases or any(p.is_settings for p in inherited),
            prefix=prefix.group(1) if prefix else next((p.prefix for p in inherited if p.prefix), ""),
            case_sensitive=bool(case) or any(p.case_sensitive for p in inherited),
            env_file=env_file.group(1) if env_file else next((p.env_file for p in inherited if p.env_file), None),
            aliases=frozenset(_ALIAS.findall(body)).union(*(p.aliases for p in inherited)),
        )
    return None


def _class_body(rest: str, indent: int) -> str:
    body: list[str] = []
    for line in rest.splitlines():
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
    return "\n".join(body)


def settings_variables(view: RepoView, log_lines: list[str]) -> tuple[dict[str, bool], list[str]]:
    """Variables behind the required fields a pydantic-settings class missed (each with whether
    its case matters), and the env files those classes load. A validation error of a plain model (a test building ``User()``) is not
    the environment's: the class must be a ``BaseSettings`` or the traceback pydantic-settings'."""
    names: dict[str, bool] = {}
    env_files: dict[str, None] = {}
    in_traceback = any("pydantic_settings" in line for line in log_lines)
    classes: dict[str, SettingsClass | None] = {}
    for model, loc in missing_settings_fields(log_lines):
        if model not in classes:
            classes[model] = settings_class(view, model)
        cls = classes[model]
        if not (cls is not None and cls.is_settings) and not in_traceback:
            continue
        cls = cls or SettingsClass()
        names.setdefault(cls.variable(loc), cls.case_sensitive)
        if cls.env_file:
            env_files.setdefault(view.in_build_dir(cls.env_file), None)
    return names, list(env_files)


# --- diagnose --------------------------------------------------------------------------------


def diagnose(view: RepoView, log_lines: list[str], cmd: str) -> Iterator[Diagnosis]:
    names = missing_variables(log_lines)
    from_settings, settings_env_files = settings_variables(view, log_lines)
    # pydantic-settings matches variable names case-insensitively (unless told otherwise).
    folded = {n for n, case_sensitive in from_settings.items() if not case_sensitive}
    names += [n for n in from_settings if n not in names]
    if not names:
        return
    locs = {loc for _, loc in missing_settings_fields(log_lines)} if from_settings else set()
    evidence = [
        line.strip()
        for line in log_lines
        if any(n in line for n in names) or _PYTEST_MARK.sub("", line).strip() in locs or (from_settings and _VALIDATION_HEADER.search(line))
    ][:6]
    templates = [p for p in view.paths() if _TEMPLATE.search(p)]
    # Templates next to the build come first.
    templates.sort(key=lambda p: (not p.startswith(view.subdir), p.count("/")))
    defaults: dict[str, tuple[str, str]] = {}
    for template in templates:
        for key, value in parse_env(view.read(template) or "").items():
            defaults.setdefault(key, (value, template))
    # Template keys match whatever their case; the build gets the name it asked for.
    for key, found in list(defaults.items()):
        defaults.setdefault(key.upper(), found)
    for n in names:
        if n not in defaults and n.upper() in defaults:
            defaults[n] = defaults[n.upper()]

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
    targets = env_targets(view, cmd) + [f for f in settings_env_files if not _TEMPLATE.search(f)]
    targets = list(dict.fromkeys(targets)) or [view.in_build_dir(".env")]
    target = next((t for t in targets if view.exists(t)), targets[0])
    text = view.read(target) or ""
    present = parse_env(text)
    present_folded = {k.upper() for k in present}
    additions = [n for n in names if n not in present and not (n in folded and n in present_folded)]
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
