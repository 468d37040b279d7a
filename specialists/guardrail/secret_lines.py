"""Finding secrets in the lines a patch adds, so no repair writes a credential into the repository.

Three sources vote: detect-secrets' plugins (known token formats, private keys, keyword
assignments), redact's patterns (the ones that scrub logs), and assignments to names that say they
hold a secret. A hit counts only when its value looks like a credential, not a placeholder, a word or
a ``$VARIABLE`` reference, because reading the secret from the CI's store is the fix we want to
allow. The finding shows the line with each secret replaced by its kind. (``specialists.secrets`` is
another thing: the one definition of secret-holding names, shared with the sandboxes.)
"""

from __future__ import annotations

import re

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

from specialists import redact as _redact
from specialists.guardrail.diff import Line
from specialists.guardrail.rules import format_finding
from specialists.secrets import SECRET_NAME

# detect-secrets' detectors, except the public-IP one (an address is not a secret) and its entropy
# ones (redact.is_random_token also sees unquoted tokens and spares digests and ids).
_DETECTORS = [
    cls() for _, cls in sorted(get_mapping_from_secret_type_to_class().items())
    if cls.__name__ not in ("IPPublicDetector", "Base64HighEntropyString", "HexHighEntropyString")
]
# Their findings that are only secrets when the value looks like one (not a placeholder or a word).
_DS_NEEDS_JUDGEMENT = {"Secret Keyword", "Basic Auth Credentials"}
# Names that say they hold a secret (SECRET_NAME also covers AUTH_*, SESSION_*: maybe a secret).
_STRONG_SECRET_NAME = re.compile(r"PASSW|PWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|_KEY$|^KEY$", re.I)
_ENV_ASSIGN = re.compile(r"(?<![\w.-])(?:ENV\s+|ARG\s+|export\s+)?['\"]?([A-Za-z_][A-Za-z0-9_.-]*)['\"]?\s*(?:=|:)\s*(?:\"([^\"\n]*)\"|'([^'\n]*)'|([^\s'\",;#]+))")


def secret_findings(path: str, line: Line) -> list[str]:
    """A ``secret-written`` finding if ``line`` of ``path`` holds a secret, showing it redacted."""
    text = line.text[:4000]
    found: dict[str, str] = {}  # value -> kind
    for detector in _DETECTORS:
        for secret in detector.analyze_line(filename=path, line=text, line_number=line.first):
            value = secret.secret_value or ""
            if secret.type in _DS_NEEDS_JUDGEMENT and not _redact.looks_like_credential(value):
                continue
            if value and value not in text:
                continue
            found.setdefault(value, secret.type.lower().replace(" ", "-"))
    for secret in _redact.find_secrets(text):
        value = text[secret.start : secret.end]
        if secret.kind in ("password", "token", "key", "secret", "authorization", "url-password") and not _redact.looks_like_credential(value):
            continue
        found.setdefault(value, secret.kind)
    for match in _ENV_ASSIGN.finditer(text):
        value = next(g for g in match.groups()[1:] if g is not None)
        name = match.group(1)
        if SECRET_NAME.search(name) and _redact.looks_like_credential(value, strict=bool(_STRONG_SECRET_NAME.search(name))):
            found.setdefault(value, f"value of {name}")
    found = {v: k for v, k in found.items() if v and not v.startswith("$")}
    if not found:
        return []
    shown = text
    for value in sorted(found, key=len, reverse=True):
        shown = shown.replace(value, f"[REDACTED:{found[value]}]")
    kinds = ", ".join(dict.fromkeys(found.values()))
    return [format_finding("secret-written", path, line.first, f"writes a secret into the repository ({kinds}); use the CI's secret store", shown)]
