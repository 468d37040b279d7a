"""The guardrail reviewer: every patch, whatever engine made it, is vetted before it is applied.

    review(patch, *, policy=None, base=None) -> ReviewVerdict

A finding is ``"<rule>: <path>:<line> <reason>: <the line, redacted>"``; the rule ids are stable
(``RULES``, documented in docs/policy.md). Only what the patch changes is judged: added lines,
removed lines where removing is the harm (``set -e``, a test step, a ``USER``), and, for tests,
the tests and checks the files held before. Lines are judged after joining backslash continuations
and normalising Unicode, so spacing and line breaks do not hide anything.

``policy`` (the repository's ``.greenline.toml``) decides the paths a repair may change; it never
switches a rule off, and tests are never in scope. ``base`` maps the touched paths to their content
at the base commit; without it the base is rebuilt from the patch's own diff, which a lying diff
could fool, so callers that can read the base commit should pass it.
"""

from __future__ import annotations

import ast
import configparser
import difflib
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

from models import Patch, ReviewVerdict
from models.policy import Policy
from specialists import redact as _redact
from specialists.secrets import SECRET_NAME

RULES: dict[str, str] = {
    "out-of-scope": "the patch touches a path the repository's policy does not let a repair change",
    "tests-touched": "the patch changes tests or test configuration",
    "tests-deleted": "tests deleted, emptied or renamed away",
    "tests-skipped": "tests skipped, xfailed or deselected (markers, pytest.skip, -k/-m/--deselect/--ignore, testpaths, collection hooks)",
    "assertions-weakened": "assertions removed, changed or made unreachable; pytest.raises widened",
    "failure-masked": "a build step made to ignore failure (|| true, set +e, continue-on-error, allow_failure, ...)",
    "hooks-bypassed": "commit or pre-commit hooks bypassed (--no-verify, HUSKY=0, ...)",
    "permissions-widened": "permissions widened (chmod 777/o+w, --privileged, running as root, cap_add, ...)",
    "tls-disabled": "TLS, host key or signature checks disabled",
    "remote-code": "remote code piped to a shell or interpreter (curl | sh, bash <(curl ...), ...)",
    "package-source-added": "a new package index, repository, registry or direct-URL dependency",
    "secret-written": "a secret (token, key, password, private key) written into a file",
    "exposure-widened": "infrastructure exposed (ingress from 0.0.0.0/0, public ACLs/buckets, IAM wildcards)",
}

OUT_OF_SCOPE = "is outside the paths a repair may change (manifests, env/config, Dockerfiles, Terraform, CI config)"

_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|testing|__tests__|spec)/|(?:^|/)(?:test_[^/]*|[^/]*_test|[^/]*_tests|conftest)\.py$"
    r"|(?:^|/)(?:pytest\.ini|\.pytest\.ini|tox\.ini|noxfile\.py)$|(?:^|/)[^/]*\.(?:test|spec)\.[cm]?[jt]sx?$"
)
_COLLECTED_TEST = re.compile(r"(?:^|/)(?:test_[^/]*|[^/]*_test)\.py$")
# Files a repair may change by default: dependency manifests and lock files, env/config files,
# Dockerfiles, Terraform, CI configuration, tool-version pins.
_DEFAULT_SCOPE = re.compile(
    r"(?:^|/)(?:requirements[^/]*\.(?:txt|in)|constraints[^/]*\.txt|pyproject\.toml|setup\.cfg|Pipfile(?:\.lock)?|[^/]*\.lock|"
    r"go\.(?:mod|sum)|Gemfile|package(?:-lock)?\.json|\.npmrc|\.yarnrc(?:\.yml)?|\.python-version|\.tool-versions|\.nvmrc|runtime\.txt|"
    r"\.env(?:\.[\w-]+)?|[\w.-]+\.env|[\w.-]*\.(?:ini|cfg|conf|ya?ml|toml|json|hcl)|Jenkinsfile|"
    r"Dockerfile[^/]*|[^/]*\.dockerfile|\.dockerignore|[^/]*\.tf|[^/]*\.tfvars|\.github/workflows/[^/]+|\.gitlab-ci\.yml)$"
)
_POLICY_FILE = ".greenline.toml"
_DOCKERFILE = re.compile(r"(?:^|/)(?:Dockerfile[^/]*|[^/]*\.dockerfile|Containerfile)$")
_MAKEFILE = re.compile(r"(?:^|/)(?:GNUmakefile|[Mm]akefile|[^/]*\.mk)$")
# Files whose lines run commands: CI definitions, task runners, scripts, container builds.
_RUNS_COMMANDS = re.compile(
    r"(?:^|/)(?:[^/]*\.ya?ml|[Mm]akefile|GNUmakefile|[^/]*\.mk|[^/]*\.sh|tox\.ini|noxfile\.py|Jenkinsfile|package\.json|justfile|Taskfile[^/]*)$"
    r"|" + _DOCKERFILE.pattern
)
_PYTEST_SECTION = re.compile(r"^\[(?:pytest|tool:pytest|tool\.pytest\.ini_options|tool\.pytest)\]$")
_PYTEST_CONTEXT = re.compile(r"(?i)(?:\b|_)(?:pytest|py\.test|addopts|tox|nox)(?:\b|_)")
_COMMENT = re.compile(r"^\s*(?:#|//|;)")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


@dataclass(frozen=True)
class _Line:
    """A logical line of a changed file (backslash continuations joined)."""

    index: int  # in _File.lines
    first: int
    last: int
    text: str
    added: bool
    section: str
    comment: bool


@dataclass
class _File:
    path: str
    old: str | None  # None: the file did not exist
    new: str | None  # None: the patch deletes it
    old_known: bool = True
    lines: list[_Line] = field(default_factory=list)
    removed: list[tuple[int, str]] = field(default_factory=list)  # (line in the base version, text)


@dataclass(frozen=True)
class _Rule:
    rule: str
    reason: str
    pattern: re.Pattern[str]
    paths: re.Pattern[str] | None = None  # only files whose path matches
    pytest_only: bool = False  # only lines that run or configure pytest


def _rule(rule: str, reason: str, pattern: str, **kwargs: object) -> _Rule:
    return _Rule(rule, reason, re.compile(pattern), **kwargs)  # type: ignore[arg-type]


_BUILD_WORDS = r"(?:pytest|py\.test|tox|nox|make|npm|yarn|pnpm|go|cargo|mvn|gradle\w*|python\d*(?:\.\d+)?|pip\d*|uv|poetry|terraform|docker|ruff|mypy|flake8|pylint|tsc|jest|\./\S+)"
_SHELLS = r"(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+(?:-\S+\s+)*)?(?:\w+=\S*\s+)*(?:/usr/local/bin/|/usr/bin/|/bin/)?(?:ba|z|k|da|c|tc|fi|a|mk)?sh|(?:sudo\s+(?:-\S+\s+)*)?(?:python[\d.]*|perl|ruby|node|php|pwsh|powershell|iex|source)\b"
_FETCH = r"(?:curl|wget|fetch|iwr|irm|Invoke-WebRequest|Invoke-RestMethod)"

_LINE_RULES: tuple[_Rule, ...] = (
    # -- failure masked ------------------------------------------------------------------
    _rule("failure-masked", "makes a step ignore failure", r"\|\|\s*(?:command\s+|builtin\s+)?['\"]?(?:true|:|/bin/true|/usr/bin/true|exit\s+0|return\s+0)['\"]?(?![\w-])"),
    # ``which docker || echo "no docker"`` is fine; ``pytest || echo failed`` is not.
    _rule("failure-masked", "makes a step ignore failure",
          rf"(?:^|[;&|(]|\b(?:run|script|command)\s*:|^\s*-|\bRUN\b)\s*['\"]?(?:sudo\s+)?{_BUILD_WORDS}(?:\s[^\n|]*)?\|\|\s*(?:echo|printf|\[\s|\[\[|test\s)"),
    _rule("failure-masked", "makes a step ignore failure", r";\s*(?:true|:|exit\s+0)\s*(?:$|[;&#\"'])"),
    _rule("failure-masked", "turns off exit-on-error", r"\bset\s+\+[A-Za-z]*e|\bset\s+\+o\s+(?:errexit|pipefail)\b"),
    _rule("failure-masked", "makes a step ignore failure", r"(?i)\bcontinue-?on-?error['\"]?\s*:(?!\s*['\"]?false\b)|\ballow_failure\s*:(?!\s*false\b)|\bignore_(?:errors|outcome)\s*[:=]\s*['\"]?(?:true|yes|1)\b"),
    _rule("failure-masked", "makes make ignore failing commands", r"\bmake\b[^\n;&|]*\s(?:-i|--ignore-errors)\b|^\.IGNORE\s*:"),
    _rule("failure-masked", "makes make ignore a failing command", r"^\t[@+]*-\s*\S", paths=_MAKEFILE),
    _rule("failure-masked", "disables a CI step or job", r"^\s*-?\s*if\s*:\s*(?:false|0|\$\{\{\s*false\s*\}\})\s*$|^\s*when\s*:\s*(?:never|manual)\s*$"),
    _rule("failure-masked", "pipes a test/build command into a filter, which hides its exit code",
          r"\b(?:pytest|py\.test|tox|nox|make|npm\s+(?:run\s+)?test|go\s+test|cargo\s+test|mvn|gradle\w*)\b[^|\n]*\|(?!\|)\s*(?:tee|cat|grep|head|tail|sed|awk|less|sort)\b"),
    _rule("failure-masked", "rewrites the test session's exit status", r"\bexitstatus\s*=\s*(?:0|(?:pytest\.)?ExitCode\.OK)\b|--suppress-no-test-exit-code"),
    _rule("failure-masked", "exits the test session with success", r"\b(?:os\._exit|sys\.exit|exit)\(\s*0\s*\)", paths=_TEST_PATH),
    # -- hooks bypassed --------------------------------------------------------------------
    _rule("hooks-bypassed", "bypasses commit hooks", r"--no-verify\b|\bgit\b[^\n;&|]*\bcommit\b[^\n;&|]*\s-[A-Za-z]*n[A-Za-z]*\b|\bHUSKY\s*[:=]\s*['\"]?0\b|HUSKY_SKIP_HOOKS|core\.hooksPath|PRE_COMMIT_ALLOW_NO_CONFIG|\bSKIP\s*=\S+\s+pre-commit\b"),
    # -- tests skipped / deselected ----------------------------------------------------------
    _rule("tests-skipped", "skips or deselects tests",
          r"(?:pytest\.)?\bmark\.(?:skip|skipif|xfail)\b|\bpytest\.(?:skip|xfail|importorskip)\s*\(|\bunittest\.(?:skip|expectedFailure)|\bSkipTest\b|@skip(?:If|Unless)?\b|\bexpectedFailure\b|__test__\s*=\s*False|\bcollect_ignore(?:_glob)?\b|\bpytestmark\s*="),
    _rule("tests-skipped", "skips or deselects tests", r"(?:^|[\s\"'\[,=])(?:-k|--deselect|--ignore(?:-glob)?|--co|--collect-only)(?=[\s\"'=,\]]|$)", pytest_only=True),
    _rule("tests-skipped", "skips or deselects tests", r"(?:^|[\s\"'\[,=])-m(?:\s+|=|[\"'],\s*[\"']|[\"']?\s*)['\"]?(?:not\b|[\w\s]*\bnot\b)", pytest_only=True),
    _rule("tests-skipped", "runs only the named test files",
          r"(?:^|[;&|(]|\b(?:run|script|command|commands)\s*[:=]|^\s*-|\bRUN\b)\s*(?:python\d*(?:\.\d+)?\s+-m\s+)?(?:pytest|py\.test)\b[^\n;&|]*\s\S+\.py(?:::\S*)?(?=\s|$|['\"])"),
    # -- permissions widened --------------------------------------------------------------------
    _rule("permissions-widened", "runs containers privileged or with extra capabilities",
          r"--privileged\b|\bprivileged['\"]?\s*[:=]\s*['\"]?true\b|allowPrivilegeEscalation\s*:\s*true|runAsNonRoot\s*:\s*false|runAsUser\s*:\s*['\"]?0\b"
          r"|\bhost(?:PID|IPC|Network)\s*:\s*true|--pid[= ]host\b|--cap-add\b|\bcap_add\s*:|^\s*add\s*:.*\b(?:SYS_ADMIN|NET_ADMIN|SYS_PTRACE|ALL)\b"
          r"|--security-opt[= ]\S*unconfined|docker\.sock['\"]?\s*:|(?:-v|--volume|--mount)[= ]\S*docker\.sock|\bNOPASSWD\b|permissions\s*:\s*write-all"),
    _rule("permissions-widened", "runs as root", r"^\s*user\s*:\s*['\"]?(?:root|0)(?::\S*)?['\"]?\s*$|\bdocker\b[^\n]*\s(?:--user|-u)[= ](?:root|0)\b"),
    # -- TLS / signatures ---------------------------------------------------------------------
    _rule("tls-disabled", "disables TLS or signature verification",
          r"(?i)\bverify\s*=\s*(?:False|0)\b|(?<![\w-])verify['\"]?\s*:\s*(?:false|no|0)\b"
          r"|\b(?:ssl_?verify|ssl-verify|verify_?ssl|verify-ssl|ssl_verification|tls_?verify|tls-verify|verify_certs?|validate_certs|verify[-_]?peer|verify[-_]?host|strict[-_]ssl|check_hostname|gpg_?check|repo_gpgcheck|reject_?unauthorized)['\"]?\s*[:= ]\s*['\"]?(?:false|0|no|off)\b"
          r"|\b(?:insecure[-_]?skip[-_]?(?:tls[-_]?)?verify|skip[-_]?tls[-_]?verify|tls[-_]?skip[-_]?verify|InsecureSkipVerify)['\"]?\s*[:= ]\s*['\"]?(?:true|1|yes)\b"
          r"|--insecure\b|--no-check-certificate\b|--no-verify-ssl\b|--skip-tls-verify\b|--nogpgcheck\b|--no-gpg-check\b|--allow-unauthenticated\b|--allow-insecure-repositories\b|--force-yes\b"
          r"|\bAllow(?:Unauthenticated|InsecureRepositories|DowngradeToInsecureRepositories)\b|\[[^\]\n]*\btrusted\s*=\s*yes\b[^\]\n]*\]"
          r"|--trusted-host\b|\btrusted[-_]host\b|PIP_TRUSTED_HOST|\benableStrictSsl\b\s*[:= ]\s*['\"]?false|GIT_SSL_NO_VERIFY|\bhttp\.sslVerify\b\s*=?\s*(?:false|0)|NODE_TLS_REJECT_UNAUTHORIZED['\"]?\s*[:=]\s*['\"]?0"
          r"|PYTHONHTTPSVERIFY['\"]?\s*[:=]\s*['\"]?0|\b(?:CURL|REQUESTS)_CA_BUNDLE['\"]?\s*[:=]\s*(?:''|\"\"|$)|_create_unverified_context|_create_default_https_context\s*=|\bCERT_NONE\b"
          r"|--disable-content-trust\b|DOCKER_CONTENT_TRUST['\"]?\s*[:=]\s*['\"]?0|\bGOINSECURE\b|\bGONOSUMDB\b|\bGONOSUMCHECK\b|\bGOSUMDB['\"]?\s*[:=]\s*['\"]?off|GOFLAGS\S*-insecure"
          r"|StrictHostKeyChecking[= ]+no\b|UserKnownHostsFile[= ]+/dev/null"),
    _rule("tls-disabled", "disables TLS verification", r"\bcurl\b[^\n|;&]*\s-[A-Za-z]*k[A-Za-z]*(?=\s|$)"),
    # -- remote code -----------------------------------------------------------------------------
    _rule("remote-code", "pipes downloaded code into a shell",
          rf"\b{_FETCH}\b[^\n|]*(?:\|\s*(?:gunzip|zcat|base64\s+-{{1,2}}d\w*|tar\s+-?x\w*)\b[^\n|]*)*\|\s*(?:{_SHELLS})(?![\w.-])"),
    _rule("remote-code", "runs downloaded code",
          rf"(?:\b(?:ba|z|k|da)?sh|\bsource|(?:^|\s)\.|\bpython[\d.]*|\bperl|\bruby|\bnode)\s+(?:-\S+\s+)*<\(\s*{_FETCH}\b"
          rf"|\b(?:(?:ba|z|k|da)?sh|eval|python[\d.]*|perl|ruby|node)\s+(?:-\S+\s+)*['\"]?(?:\$\(|`)\s*{_FETCH}\b"
          r"|\bexec\(\s*(?:requests\.get|urlopen|urllib\.request\.urlopen|httpx\.get)\b|DownloadString\("),
    _rule("remote-code", "downloads a script and runs it",
          rf"\b{_FETCH}\b[^\n]*?(?:-o|-O|--output(?:-document)?|>)\s*=?\s*(\S+)[^\n]*?(?:&&|;|\|\|)\s*(?:sudo\s+)?(?:(?:ba|z|k|da)?sh|python[\d.]*|perl|ruby|node|source|\.)\s+\1(?!\S)"),
    # -- package sources ----------------------------------------------------------------------------
    _rule("package-source-added", "adds a package index or repository",
          r"--(?:extra-)?index-url\b|--find-links\b|\bpip\d*\s[^\n]*\s-[if]\s*=?\s*(?:https?|file)://|^\s*-[if]\s+\S|\b(?:PIP|UV)_(?:EXTRA_)?INDEX_URL\b|\bPIP_FIND_LINKS\b|\bUV_INDEX\b"
          r"|^\s*['\"]?(?:extra[-_])?index[-_]url['\"]?\s*=|^\s*find[-_]links\s*=|^\s*\[\[tool\.(?:poetry\.source|uv\.index|pdm\.source)\]\]|^\s*\[\[source\]\]"
          r"|\badd-apt-repository\b|^\s*(?:RUN\s+.*)?\bdeb(?:-src)?\s+(?:\[[^\]]*\]\s*)?(?:https?|ftp|file|mirror\+\w+)://|\bapt-key\s+add\b"
          r"|(?:>>?\s*|\btee\s+(?:-a\s+)?|\b(?:cp|mv|ln|install)\s+(?:-\S+\s+)*\S+\s+|^\s*(?:COPY|ADD)\b[^\n]*\s)['\"]?/etc/apt/(?:sources\.list|trusted\.gpg|keyrings)"
          r"|\byum-config-manager\s+--add-repo|\bdnf\s+config-manager\s+(?:--add-repo|addrepo)|\bzypper\s+(?:ar|addrepo)\b|/etc/yum\.repos\.d|^\s*baseurl\s*="
          r"|\bapk\b[^\n]*\s(?:--repository|-X)[= ]|/etc/apk/repositories"
          r"|\bnpm\s+config\s+set\s+(?:@[\w-]+:)?registry|--registry[= ]|^\s*(?:@[\w-]+:)?registry\s*=|npmRegistryServer|\byarn\s+config\s+set\s+registry"
          r"|\bGOPROXY\s*[:=]|\bpoetry\s+source\s+add\b|\bglobal\.(?:extra-)?index-url\b|\bgem\s+sources\s+(?:-a|--add)\b|^\s*source\s+['\"]https?://(?!rubygems\.org)|\bconda\s+config\s+--add\s+channels|\bhelm\s+repo\s+add\b"),
    _rule("package-source-added", "installs a dependency from a direct URL",
          r"\bpip\d*\s+install\b[^\n]*\s['\"]?(?:git\+|hg\+|svn\+|bzr\+|https?://|ftp://)|^\s*['\"]?(?:git\+|hg\+|svn\+|bzr\+|https?://)\S+"
          r"|^\s*['\"]?[A-Za-z0-9][\w.-]*(?:\[[\w,\s]*\])?\s*@\s*(?:git\+|https?://|file:)|\{\s*(?:git|url|path)\s*=\s*['\"]"),
    # -- exposure ---------------------------------------------------------------------------------
    _rule("exposure-widened", "makes storage or a database public",
          r"(?i)\bacl['\"]?\s*[:=]\s*['\"]?(?:public-read(?:-write)?|authenticated-read)|(?:x-amz-acl|--acl)[:= ]\s*['\"]?public-read"
          r"|\b(?:block_?public_?acls|block_?public_?policy|ignore_?public_?acls|restrict_?public_?buckets)['\"]?\s*[:=]\s*['\"]?false"
          r"|\b(?:publicly_accessible|public_network_access_enabled|allow_blob_public_access|allow_nested_items_to_be_public)\s*=\s*true"
          r"|\bsource_address_prefix(?:es)?\s*=\s*\[?\s*['\"](?:\*|Internet|Any)['\"]|\ball(?:Authenticated)?Users\b|roles/(?:owner|editor)\b|\bprincipal['\"]?\s*[:=]\s*\{?\s*(?:['\"]?AWS['\"]?\s*[:=]\s*)?\[?\s*['\"]\*['\"]"),
)

# Lines of infrastructure definitions where a wildcard or an any-address range means exposure.
_ANY_ADDRESS = re.compile(r"(?<![\d.])0\.0\.0\.0/0\b|(?<![\w:])::/0\b")
_NOT_INGRESS = re.compile(r"(?i)egress|\broute\b|aws_route|destination|\bnat\b|outbound")
_WILDCARD = re.compile(r"['\"](?:\*|[\w-]+:\*)['\"]|^\s*-\s*['\"]?\*['\"]?\s*$|:\s*['\"]?\*['\"]?\s*,?\s*$")
_IAM_KEY = re.compile(r"(?i)^\s*['\"]?(not_?)?(actions?|resources?|verbs|apigroups|permissions)['\"]?\s*[:=]")
_KEY = re.compile(r"^\s*['\"]?[\w.-]+['\"]?\s*[:=]")
# ``"Action": ["s3:GetObject", "s3:*"]`` on one line (JSON policies, jsonencode, YAML flow lists).
_IAM_INLINE = re.compile(r"(?i)['\"]?(?:not_?)?(actions?|resources?|verbs|apigroups)['\"]?\s*[:=]\s*\[?\s*(?:['\"][^'\"\n]*['\"]\s*,\s*)*['\"](?:\*|[\w-]+:\*)['\"]")

_SKIP_WORDS = frozenset({"skip", "skipif", "skipIf", "skipUnless", "xfail", "expectedFailure", "skipTest", "importorskip", "SkipTest", "Skipped"})
_COLLECTION_HOOKS = frozenset({"pytest_collection_modifyitems", "pytest_ignore_collect", "pytest_collect_file", "pytest_pycollect_makeitem",
                               "pytest_collection", "pytest_deselected", "pytest_itemcollected", "pytest_runtest_setup"})
_OUTCOME_HOOKS = frozenset({"pytest_runtest_makereport", "pytest_runtest_logreport", "pytest_report_teststatus", "pytest_sessionfinish",
                            "pytest_runtest_call", "pytest_pyfunc_call", "pytest_runtest_protocol"})
_BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException", "AssertionError"})
_RUNNER = re.compile(
    r"(?:^|[\s;&|(:\"'])(?:python\d*(?:\.\d+)?\s+-m\s+)?(pytest|py\.test|tox|nox|unittest|npm\s+(?:run\s+)?test|yarn\s+test|make\s+(?:test|check)"
    r"|go\s+test|cargo\s+test|mvn\s+\S*test|gradle\w*\s+test)\b"
)
_SET_E = re.compile(r"^\s*set\s+-[A-Za-z]*e|^\s*set\s+-o\s+errexit\b|^\s*SHELLFLAGS\s*[:+]?=.*-e|^\s*\.SHELLFLAGS")

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


def review(patch: Patch, *, policy: Policy | None = None, base: Mapping[str, str | None] | None = None) -> ReviewVerdict:
    """Accept ``patch`` or refuse it with one finding per problem.

    ``policy`` is the repository's ``.greenline.toml`` (defaults: the safe policy); ``base`` maps
    touched paths to their content at the base commit (``None``: the file did not exist).
    """
    policy = policy or Policy()
    files = _files(patch, base)
    findings: list[str] = []
    for f in files:
        findings.extend(_path_findings(f, policy, files))
    for f in files:
        findings.extend(_content_findings(f))
    unique = list(dict.fromkeys(findings))
    return ReviewVerdict(patch_id=patch.id, accepted=not unique, findings=unique)


# -- the changed files ---------------------------------------------------------------------------


def _files(patch: Patch, base: Mapping[str, str | None] | None) -> list[_File]:
    rebuilt = _rebuild_base(patch)
    files = []
    for change in patch.changes:
        path = change.path
        if base is not None and path in base:
            old, known = base[path], True
        elif path in rebuilt:
            old, known = rebuilt[path], True
        else:
            # The diff does not explain this file: judge every line of it as added.
            old, known = None, False
        f = _File(path=path, old=old, new=change.content, old_known=known)
        if f.old == f.new and known:
            continue
        _index(f)
        files.append(f)
    return files


def _rebuild_base(patch: Patch) -> dict[str, str | None]:
    """Base content of each file the diff explains, by undoing its hunks on the new content."""
    contents = {c.path: c.content for c in patch.changes}
    rebuilt: dict[str, str | None] = {}
    for path, old_missing, hunks in _parse_diff(patch.diff):
        if path not in contents:
            continue
        if old_missing:
            rebuilt[path] = None
            continue
        new_lines = (contents[path] or "").splitlines()
        old_lines: list[str] = []
        at = 0
        ok = True
        for new_start, new_side, old_side in hunks:
            start = max(new_start - 1, 0) if new_side else new_start
            if start < at or new_lines[start : start + len(new_side)] != new_side:
                ok = False
                break
            old_lines.extend(new_lines[at:start])
            old_lines.extend(old_side)
            at = start + len(new_side)
        if ok:
            old_lines.extend(new_lines[at:])
            rebuilt[path] = "".join(line + "\n" for line in old_lines)
    return rebuilt


def _parse_diff(diff: str) -> Iterator[tuple[str, bool, list[tuple[int, list[str], list[str]]]]]:
    path, old_missing, hunks = None, False, []
    old_name = ""
    current: tuple[int, list[str], list[str]] | None = None
    for line in diff.splitlines():
        if line.startswith("--- "):
            if path is not None:
                yield path, old_missing, hunks
            old_name, path, hunks, current = line[4:].strip(), None, [], None
        elif line.startswith("+++ ") and current is None:
            new_name = line[4:].strip()
            old_missing = old_name == "/dev/null"
            name = old_name if new_name == "/dev/null" else new_name
            path = name[2:] if name.startswith(("a/", "b/")) else name
        elif line.startswith("@@"):
            match = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@", line)
            current = (int(match.group(1)) if match else 0, [], [])
            hunks.append(current)
        elif current is not None and line[:1] in (" ", "+", "-"):
            if line[0] in " +":
                current[1].append(line[1:])
            if line[0] in " -":
                current[2].append(line[1:])
    if path is not None:
        yield path, old_missing, hunks


def _index(f: _File) -> None:
    """Logical lines of the new content, which of them the patch adds, and the removed lines."""
    old_lines = (f.old or "").splitlines() if f.old_known else []
    new_lines = (f.new or "").splitlines()
    added, f.removed = _line_changes(old_lines, new_lines)
    section = ""
    i = 0
    while i < len(new_lines):
        first = i
        parts = [_normal(new_lines[i])]
        while parts[-1].endswith("\\") and i + 1 < len(new_lines):
            parts[-1] = parts[-1][:-1]
            i += 1
            parts.append(_normal(new_lines[i]).strip())
        text = " ".join(parts)
        header = text.strip()
        if re.fullmatch(r"\[[^\]\n]+\]", header):
            section = header.replace(" ", "")
        f.lines.append(_Line(len(f.lines), first + 1, i + 1, text, any(n in added for n in range(first + 1, i + 2)), section, bool(_COMMENT.match(text))))
        i += 1


def _line_changes(old: list[str], new: list[str]) -> tuple[set[int], list[tuple[int, str]]]:
    """Numbers of the new lines the patch adds, and the old lines it removes (1-based)."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_mid, new_mid = old[head : len(old) - tail], new[head : len(new) - tail]
    added: set[int] = set()
    removed: list[tuple[int, str]] = []
    if len(old_mid) * len(new_mid) <= 4_000_000:
        matcher = difflib.SequenceMatcher(None, old_mid, new_mid)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("replace", "insert"):
                added.update(range(head + j1 + 1, head + j2 + 1))
            if tag in ("replace", "delete"):
                removed.extend((head + i + 1, old_mid[i]) for i in range(i1, i2))
        return added, removed
    # Too big to align: a line is added when the new text holds it more often than the old one.
    budget = Counter(old_mid)
    for j, line in enumerate(new_mid):
        if budget[line] > 0:
            budget[line] -= 1
        else:
            added.add(head + j + 1)
    spare = Counter(new_mid)
    for i, line in enumerate(old_mid):
        if spare[line] > 0:
            spare[line] -= 1
        else:
            removed.append((head + i + 1, line))
    return added, removed


def _normal(line: str) -> str:
    """Same text, minus the disguises: compatibility forms, odd spaces, invisible characters."""
    return unicodedata.normalize("NFKC", line).translate(_INVISIBLE)


def _finding(rule: str, path: str, line: int | str | None, reason: str, text: str = "") -> str:
    where = f"{path}:{line}" if line is not None else path
    shown = f": {_redact.redact(text.strip())[:120]}" if text.strip() else ""
    return f"{rule}: {where} {reason}{shown}"


# -- paths: scope and tests --------------------------------------------------------------------------


def _path_findings(f: _File, policy: Policy, files: list[_File]) -> list[str]:
    path = f.path
    pure = PurePosixPath(path)
    if path.startswith("/") or ".." in pure.parts or "\\" in path:
        return [f"out-of-scope: {path} leaves the repository"]
    if not pure.parts or path == _POLICY_FILE or pure.parts[0] == ".git":
        return [f"out-of-scope: {path} is Greenline's policy or git's own data; a repair may never change it"]
    if _TEST_PATH.search(path):
        return _test_findings(f, files)
    if not in_scope(path, policy):
        if policy.scope == "replace":
            return [f"out-of-scope: {path} is outside the paths this repository's policy allows ({', '.join(policy.allowed_paths) or 'none'})"]
        return [f"out-of-scope: {path} {OUT_OF_SCOPE}"]
    return []


def in_scope(path: str, policy: Policy) -> bool:
    """May a repair change ``path`` under ``policy``? (Tests never; the policy file never.)"""
    if _TEST_PATH.search(path) or path == _POLICY_FILE:
        return False
    if any(_glob(g).fullmatch(path) for g in policy.allowed_paths):
        return True
    if policy.scope == "replace":
        return False
    return bool(_DEFAULT_SCOPE.search(path)) or policy.allow_source_changes


def _glob(pattern: str) -> re.Pattern[str]:
    """``**`` spans folders, ``*`` and ``?`` stay inside one; no ``/``: the name in any folder."""
    if "/" not in pattern:
        pattern = "**/" + pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _test_findings(f: _File, files: list[_File]) -> list[str]:
    findings: list[str] = []
    if f.new is None or (f.old and not f.new.strip()):
        what = "deleted" if f.new is None else "emptied"
        moved = _moved_to(f, files)
        tests = _py_tests(f.old).tests if f.old and f.path.endswith(".py") else {}
        names = f", losing {', '.join(sorted(tests))}" if tests else ""
        where = f"; its content reappears in {moved}, where pytest does not collect it" if moved else ""
        findings.append(f"tests-deleted: {f.path} is {what} by the patch{names}{where}")
        return findings
    if f.path.endswith(".py"):
        findings.extend(_python_test_findings(f, files))
    elif f.path.endswith(".ini"):
        findings.extend(_config_findings(f))
    return findings or [f"tests-touched: {f.path} is a test file or test configuration; a fix may not change tests"]


def _moved_to(f: _File, files: list[_File]) -> str | None:
    """A file the patch adds outside collected tests that holds the content of the removed one."""
    if not f.old:
        return None
    for other in files:
        if other.old is None and other.new and other.path != f.path and not _COLLECTED_TEST.search(other.path):
            matcher = difflib.SequenceMatcher(None, f.old.splitlines(), other.new.splitlines())
            if matcher.quick_ratio() > 0.6 and matcher.ratio() > 0.6:
                return other.path
    return None


# -- python tests --------------------------------------------------------------------------------------


@dataclass
class _PyTests:
    tests: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (line, body dump)
    skips: list[tuple[str, int, str]] = field(default_factory=list)  # (scope, line, source)
    hooks: dict[str, tuple[int, str]] = field(default_factory=dict)  # hook -> (line, dump)
    checks: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # function -> [(line, source)]
    guards: list[tuple[str, int, str]] = field(default_factory=list)  # (scope, line, what)
    parsed: bool = True


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _py_tests(source: str | None) -> _PyTests:
    out = _PyTests()
    try:
        tree = ast.parse(source or "")
    except (SyntaxError, ValueError):
        out.parsed = False
        return out
    _visit(tree, out, scope="", in_test_class=False, function=None)
    return out


def _visit(node: ast.AST, out: _PyTests, scope: str, in_test_class: bool, function: str | None) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            name = f"{scope}{child.name}"
            testish = child.name.startswith("Test") or any("TestCase" in _dotted(b) for b in child.bases)
            _decorators(child, name, out)
            _visit(child, out, f"{name}.", testish, function)
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{scope}{child.name}"
            _decorators(child, name, out)
            if function is None and child.name.startswith("test") and (scope == "" or in_test_class):
                out.tests[name] = (child.lineno, ast.dump(ast.Module(body=child.body, type_ignores=[])))
            if function is None and child.name in _COLLECTION_HOOKS | _OUTCOME_HOOKS:
                out.hooks[child.name] = (child.lineno, ast.dump(child))
            owner = function or name
            out.checks.setdefault(owner, [])
            _visit(child, out, f"{name}.", False, owner)
            if function is None:
                _guards(child, owner, out)
        else:
            _node(child, out, scope, function)
            _visit(child, out, scope, in_test_class, function)


def _decorators(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, scope: str, out: _PyTests) -> None:
    for deco in node.decorator_list:
        parts = set(_dotted(deco).split("."))
        if parts & _SKIP_WORDS:
            out.skips.append((scope, deco.lineno, "@" + ast.unparse(deco)))


def _node(node: ast.AST, out: _PyTests, scope: str, function: str | None) -> None:
    owner = function or scope or "<module>"
    if isinstance(node, ast.Call):
        name = _dotted(node)
        last = name.rsplit(".", 1)[-1]
        if last in _SKIP_WORDS:
            out.skips.append((owner, node.lineno, ast.unparse(node)))
        elif function is not None and (last.startswith("assert") or last in ("raises", "warns", "assertRaises", "deprecated_call")):
            out.checks.setdefault(function, []).append((node.lineno, ast.unparse(node)))
        elif last in ("append", "extend") and name.startswith("collect_ignore"):
            out.skips.append((owner, node.lineno, ast.unparse(node)))
    elif isinstance(node, ast.Assert) and function is not None:
        out.checks.setdefault(function, []).append((node.lineno, ast.unparse(node)))
    elif isinstance(node, ast.Raise) and node.exc is not None:
        if set(_dotted(node.exc).split(".")) & {"SkipTest", "Skipped", "skip"}:
            out.skips.append((owner, node.lineno, ast.unparse(node)))
    elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = {_dotted(t) for t in targets}
        value = getattr(node, "value", None)
        if names & {"pytestmark", "collect_ignore", "collect_ignore_glob"} or (
            "__test__" in names and isinstance(value, ast.Constant) and not value.value
        ):
            out.skips.append((owner, node.lineno, ast.unparse(node)))


def _guards(fn: ast.FunctionDef | ast.AsyncFunctionDef, owner: str, out: _PyTests) -> None:
    """Constructs that keep a test's checks from failing it: an early return, a swallowed
    AssertionError, checks under ``if False``, ``contextlib.suppress``."""
    checks = [line for line, _ in out.checks.get(owner, [])]
    last_check = max(checks, default=0)
    for node in _walk_own(fn):
        if isinstance(node, ast.Return) and node.lineno < last_check:
            out.guards.append((owner, node.lineno, "returns before its assertions"))
        elif isinstance(node, ast.ExceptHandler):
            caught = {_dotted(t) for t in (node.type.elts if isinstance(node.type, ast.Tuple) else [node.type])} if node.type else {"<bare>"}
            if caught & (_BROAD_EXCEPTIONS | {"<bare>"}):
                out.guards.append((owner, node.lineno, f"catches {', '.join(sorted(caught))}, swallowing assertion failures"))
        elif isinstance(node, ast.If) and isinstance(node.test, ast.Constant) and not node.test.value:
            out.guards.append((owner, node.lineno, "puts code under a condition that is never true"))
        elif isinstance(node, ast.withitem) and _dotted(node.context_expr).endswith("suppress"):
            out.guards.append((owner, node.context_expr.lineno, "suppresses exceptions, assertion failures included"))


def _walk_own(fn: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's own body, not of the functions, lambdas or classes it defines."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))


def _python_test_findings(f: _File, files: list[_File]) -> list[str]:
    old, new = _py_tests(f.old), _py_tests(f.new)
    if not new.parsed:
        return []
    findings: list[str] = []
    path = f.path
    # Tests that are gone (deleted or renamed so pytest no longer collects them).
    new_bodies = {body for _, body in new.tests.values()}
    gone = [(name, line) for name, (line, body) in old.tests.items() if name not in new.tests and body not in new_bodies]
    if gone and not _COLLECTED_TEST.search(path) and path.endswith("conftest.py"):
        gone = []
    if gone:
        lines = ",".join(str(line) for _, line in gone)
        what = "empties it" if not new.tests else "removes or renames them so they are not collected"
        findings.append(f"tests-deleted: {path}:{lines} (base version) held {', '.join(n for n, _ in gone)}; the patch {what}")
    # Skips, xfails, collection filters.
    added_skips = Counter((s, t) for s, _, t in new.skips) - Counter((s, t) for s, _, t in old.skips)
    for scope, line, text in new.skips:
        if added_skips[(scope, text)] > 0:
            added_skips[(scope, text)] -= 1
            findings.append(_finding("tests-skipped", path, line, "skips, xfails or stops collecting tests", text))
    for hook, (line, dump) in new.hooks.items():
        if old.hooks.get(hook, (0, ""))[1] != dump:
            rule = "tests-skipped" if hook in _COLLECTION_HOOKS else "failure-masked"
            what = "can drop or skip collected tests" if hook in _COLLECTION_HOOKS else "can rewrite test outcomes"
            findings.append(_finding(rule, path, line, f"adds or changes the {hook} hook, which {what}"))
    # Checks removed, changed or neutralised.
    for function, old_checks in old.checks.items():
        if function in old.tests and function not in new.tests:
            continue  # reported as a deleted test
        new_checks = new.checks.get(function, [])
        lost = Counter(t for _, t in old_checks) - Counter(t for _, t in new_checks)
        if not lost:
            continue
        gained = [(line, t) for line, t in new_checks if t not in {o for _, o in old_checks}]
        line = gained[0][0] if gained else (new.tests.get(function, (None,))[0] or _def_line(f.new, function))
        for text in lost.elements():
            now = f" (now {gained[0][1]!r})" if gained else ""
            widened = " widens the expected exception" if gained and re.search(r"raises\((?:Exception|BaseException)\b", gained[0][1]) else ""
            findings.append(_finding("assertions-weakened", path, line, f"removes or changes the check {text!r} of {function}{now}{widened}"))
    for function, new_checks in new.checks.items():
        known = {t for _, t in old.checks.get(function, [])}
        for line, text in new_checks:
            if text not in known and _trivially_true(text):
                findings.append(_finding("assertions-weakened", path, line, f"adds a check that cannot fail in {function}", text))
    added_guards = Counter((s, w) for s, _, w in new.guards) - Counter((s, w) for s, _, w in old.guards)
    for scope, line, what in new.guards:
        if added_guards[(scope, what)] > 0:
            added_guards[(scope, what)] -= 1
            findings.append(_finding("assertions-weakened", path, line, f"{scope} {what}"))
    # One finding per rule and line: ``raise SkipTest()`` is a raise and a call.
    return list({tuple(x.split(" ", 2)[:2]): x for x in reversed(findings)}.values())[::-1]


def _def_line(source: str | None, function: str) -> int | None:
    name = function.rsplit(".", 1)[-1]
    for number, line in enumerate((source or "").splitlines(), start=1):
        if re.match(rf"\s*(?:async\s+)?def\s+{re.escape(name)}\b", line):
            return number
    return None


def _trivially_true(check: str) -> bool:
    try:
        node = ast.parse(check).body[0]
    except (SyntaxError, IndexError):
        return False
    if not isinstance(node, ast.Assert):
        return False
    test = node.test
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(isinstance(v, ast.Constant) and v.value for v in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Constant):
        return not test.operand.value
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq | ast.Is):
        return ast.dump(test.left) == ast.dump(test.comparators[0])
    return False


# -- pytest configuration --------------------------------------------------------------------------------


def _pytest_options(path: str, text: str | None) -> dict[str, list[str]] | None:
    """The pytest options of a config file, each as a list of words (None: none / unreadable)."""
    if not text:
        return None
    if path.endswith(".toml"):
        try:
            table = tomllib.loads(text).get("tool", {}).get("pytest", {})
        except tomllib.TOMLDecodeError:
            return None
        table = table.get("ini_options", table)
        return {k: [w for item in (v if isinstance(v, list) else [v]) for w in str(item).split()] for k, v in table.items() if k != "ini_options"} or None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    for section in ("pytest", "tool:pytest"):
        if parser.has_section(section):
            return {k: v.split() for k, v in parser.items(section)}
    return None


_DEFAULT_COLLECTION = {"python_files": ["test_*.py", "*_test.py"], "python_classes": ["Test"], "python_functions": ["test"]}
_HARMLESS_NORECURSE = {".*", "*.egg", "_darcs", "build", "CVS", "dist", "node_modules", "venv", ".venv", "{arch}", ".git", ".tox", "__pycache__", "site-packages"}


def _config_findings(f: _File) -> list[str]:
    if not re.search(r"(?:^|/)(?:pyproject\.toml|setup\.cfg|pytest\.ini|\.pytest\.ini|tox\.ini)$", f.path):
        return []
    old = _pytest_options(f.path, f.old) or {}
    new = _pytest_options(f.path, f.new)
    if new is None:
        return []
    findings: list[str] = []

    def report(key: str, reason: str) -> None:
        line = next((ln.first for ln in f.lines if re.match(rf"\s*{re.escape(key)}\s*=", ln.text)), None)
        findings.append(_finding("tests-skipped", f.path, line, reason, f"{key} = {' '.join(new.get(key, []))}"))

    if "testpaths" in new and ("testpaths" not in old or not set(old["testpaths"]) <= set(new["testpaths"])):
        report("testpaths", "narrows the folders pytest collects from")
    for key, default in _DEFAULT_COLLECTION.items():
        if key in new and not set(old.get(key, default)) <= set(new[key]):
            report(key, "narrows which files, classes or functions pytest collects")
    if "norecursedirs" in new and set(new["norecursedirs"]) - set(old.get("norecursedirs", [])) - _HARMLESS_NORECURSE:
        report("norecursedirs", "stops pytest from collecting folders")
    added_opts = Counter(new.get("addopts", [])) - Counter(old.get("addopts", []))
    if any(re.match(r"^(?:-k|-m|--deselect|--ignore|--ignore-glob|--co|--collect-only)(?:=|$)", o) for o in added_opts):
        report("addopts", "skips or deselects tests")
    return findings


# -- content of every changed file ---------------------------------------------------------------------------


def _content_findings(f: _File) -> list[str]:
    if f.new is None:
        return _removal_findings(f)
    findings: list[str] = []
    python_test = _TEST_PATH.search(f.path) and f.path.endswith(".py") and _py_tests(f.new).parsed
    pytest_file = bool(re.search(r"(?:^|/)(?:pytest\.ini|\.pytest\.ini|tox\.ini)$", f.path))
    flagged: set[tuple[str, int]] = set()
    for line in f.lines:
        if not line.added:
            continue
        findings.extend(_secret_findings(f.path, line))
        if line.comment:
            continue
        pytest_context = pytest_file or bool(_PYTEST_CONTEXT.search(line.text)) or bool(_PYTEST_SECTION.match(line.section))
        for rule in _LINE_RULES:
            if (rule.rule, line.first) in flagged or (rule.pytest_only and not pytest_context):
                continue
            if python_test and rule.rule == "tests-skipped":
                continue  # judged on the syntax tree
            if rule.paths is not None and not rule.paths.search(f.path):
                continue
            if rule.pattern.search(line.text[:4000]):
                flagged.add((rule.rule, line.first))
                findings.append(_finding(rule.rule, f.path, line.first, rule.reason, line.text))
        for reason in _infra_exposure(f, line):
            findings.append(_finding("exposure-widened", f.path, line.first, reason, line.text))
        for rule, reason in _chmod(line.text):
            if (rule, line.first) not in flagged:
                flagged.add((rule, line.first))
                findings.append(_finding(rule, f.path, line.first, reason, line.text))
    if not _TEST_PATH.search(f.path):
        config = _config_findings(f)
        if not any(x.startswith(f"tests-skipped: {f.path}:") for x in findings):
            findings.extend(config)
    findings.extend(_removal_findings(f))
    if _DOCKERFILE.search(f.path):
        findings.extend(_dockerfile_findings(f))
    return findings


def _removal_findings(f: _File) -> list[str]:
    """Harm done by removing lines: the test step, ``set -e``."""
    if not f.old_known or not f.old or not _RUNS_COMMANDS.search(f.path) or (_TEST_PATH.search(f.path) and f.path.endswith(".py")):
        return []
    findings = []
    new_code = [ln.text for ln in f.lines if not ln.comment]
    old_code = [line for line in f.old.splitlines() if not _COMMENT.match(line)]
    new_runners = {_runner_key(m) for line in new_code if not _installs(line) for m in _RUNNER.findall(line)}
    for number, text in f.removed:
        if _COMMENT.match(text) or _installs(text):
            continue
        for runner in {_runner_key(m) for m in _RUNNER.findall(text)} - new_runners:
            findings.append(_finding("tests-skipped", f.path, f"{number} (base version)", f"removes the step that runs {runner}", text))
            new_runners.add(runner)
        if _SET_E.search(text) and not any(_SET_E.search(line) for line in new_code) and any(_SET_E.search(line) for line in old_code):
            findings.append(_finding("failure-masked", f.path, f"{number} (base version)", "removes exit-on-error", text))
    return findings


def _runner_key(match: str) -> str:
    return re.sub(r"\s+", " ", match.replace("py.test", "pytest"))


def _installs(line: str) -> bool:
    return bool(re.search(r"\b(?:install|add|uses|requirements|extras?|deps|dependencies)\b|==|>=", line))


def _chmod(text: str) -> Iterator[tuple[str, str]]:
    """chmod and file modes that let others write, or set setuid/setgid; umask that does."""
    for match in re.finditer(r"\bchmod\b((?:\s+-{1,2}[\w-]+)*)\s+['\"]?([0-7]{3,4}|[ugoa]*[-+=][rwxXst]+(?:,[ugoa]*[-+=][rwxXst]+)*)['\"]?", text):
        if _mode_widens(match.group(2)):
            yield "permissions-widened", f"widens file permissions (chmod {match.group(2)})"
    for match in re.finditer(r"(?i)(?:\bchmod\(\s*[^,()]+,\s*|\b(?:file_permission|directory_permission|defaultMode|mode|permissions)['\"]?\s*[:=]\s*['\"]?)0o?([0-7]{3,4})\b", text):
        if _mode_widens(match.group(1)):
            yield "permissions-widened", f"widens file permissions (mode {match.group(1)})"
    for match in re.finditer(r"\bumask\s+0*([0-7]{1,3})\b", text):
        if int(match.group(1)[-1]) & 2 == 0:
            yield "permissions-widened", f"lets every user write new files (umask {match.group(1)})"


def _mode_widens(mode: str) -> bool:
    if mode.isdigit():
        digits = mode.zfill(4)
        return int(digits[3]) & 2 != 0 or int(digits[0]) & 6 != 0  # others may write; setuid/setgid
    for clause in mode.split(","):
        match = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if match and match.group(2) != "-":
            who, perms = match.group(1), match.group(3)
            if "s" in perms or ("w" in perms and set(who) & {"o", "a"}):
                return True
    return False


def _infra_exposure(f: _File, line: _Line) -> Iterator[str]:
    if not re.search(r"\.(?:tf|tfvars|hcl|json|ya?ml)$", f.path):
        return
    if _ANY_ADDRESS.search(line.text):
        context = _enclosing(f, line, 12)
        if not _NOT_INGRESS.search(context):
            yield "opens ingress from any address"
    inline = _IAM_INLINE.search(line.text)
    if inline:
        yield f"grants a wildcard in IAM/RBAC {inline.group(1)}"
    elif _WILDCARD.search(line.text):
        key = _IAM_KEY.match(line.text) or _IAM_KEY.match(_enclosing_key(f, line))
        if key:
            yield f"grants a wildcard in IAM/RBAC {key.group(2)}"


def _enclosing(f: _File, line: _Line, span: int) -> str:
    """The line with the lines above it up to the enclosing block's header, and the rest of
    its block below (``type = "egress"`` may come after the CIDR)."""
    index = line.index
    around = [line.text]
    for earlier in reversed(f.lines[max(0, index - span) : index]):
        around.append(earlier.text)
        if re.search(r"(?i)\b(?:resource|ingress|egress|route)\b|^\s*-\s*\w+\s*:|^\s*\w+\s*\{\s*$", earlier.text):
            break
    for later in f.lines[index + 1 : index + 1 + span]:
        if re.match(r"\s*\}|\s*resource\b", later.text):
            break
        around.append(later.text)
    return "\n".join(around)


def _enclosing_key(f: _File, line: _Line) -> str:
    index = line.index
    for earlier in reversed(f.lines[max(0, index - 10) : index]):
        if _KEY.match(earlier.text):
            return earlier.text
    return ""


def _dockerfile_findings(f: _File) -> list[str]:
    """Running as root where the file said otherwise: the last stage's user went from non-root to root."""
    if not f.old_known or not f.old:
        return []
    old_user, _ = _final_user(f.old.splitlines())
    new_user, line = _final_user([ln.text for ln in f.lines], [ln.first for ln in f.lines])
    if _is_root(old_user) or not _is_root(new_user):
        return []
    if line is not None:
        return [_finding("permissions-widened", f.path, line, f"runs the image as root where it ran as {old_user}", f"USER {new_user}")]
    removed = next((n for n, t in f.removed if re.match(r"\s*USER\s", t, re.I)), None)
    return [_finding("permissions-widened", f.path, f"{removed} (base version)", f"drops USER {old_user}, so the image runs as root")]


def _final_user(lines: list[str], numbers: list[int] | None = None) -> tuple[str | None, int | None]:
    user, at = None, None
    for i, text in enumerate(lines):
        match = re.match(r"\s*(FROM|USER)\s+(\S+)", text, re.I)
        if not match:
            continue
        if match.group(1).upper() == "FROM":
            user, at = None, None
        else:
            user, at = match.group(2), (numbers[i] if numbers else i + 1)
    return user, at


def _is_root(user: str | None) -> bool:
    return user is None or user.split(":")[0] in ("root", "0")


# -- secrets ------------------------------------------------------------------------------------------------


def _secret_findings(path: str, line: _Line) -> list[str]:
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
    return [_finding("secret-written", path, line.first, f"writes a secret into the repository ({kinds}); use the CI's secret store", shown)]


def rule_of(finding: str) -> str:
    """The rule id a finding starts with."""
    return finding.split(":", 1)[0]

