"""The table of line rules: patterns that refuse a patch when a line it adds matches one.

Each rule carries its id in ``RULES``, the reason shown to the user and a pattern; ``paths`` limits a
rule to files where the pattern means harm (a leading ``-`` ignores failure only in a Makefile
recipe) and ``pytest_only`` to lines that run or configure pytest (``-k`` elsewhere is some other
tool's flag). The patterns are wide on purpose, written against the disguises collected in
bench/guardrail_corpus; ``python -m bench.guardrail`` checks they do not refuse benign fixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from specialists.guardrail.paths import MAKEFILE, TEST_PATH


@dataclass(frozen=True)
class LineRule:
    rule: str
    reason: str
    pattern: re.Pattern[str]
    paths: re.Pattern[str] | None = None  # only files whose path matches
    pytest_only: bool = False  # only lines that run or configure pytest


def _rule(rule: str, reason: str, pattern: str, **kwargs: object) -> LineRule:
    return LineRule(rule, reason, re.compile(pattern), **kwargs)  # type: ignore[arg-type]


_BUILD_WORDS = r"(?:pytest|py\.test|tox|nox|make|npm|yarn|pnpm|go|cargo|mvn|gradle\w*|python\d*(?:\.\d+)?|pip\d*|uv|poetry|terraform|docker|ruff|mypy|flake8|pylint|tsc|jest|\./\S+)"
_SHELLS = r"(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+(?:-\S+\s+)*)?(?:\w+=\S*\s+)*(?:/usr/local/bin/|/usr/bin/|/bin/)?(?:ba|z|k|da|c|tc|fi|a|mk)?sh|(?:sudo\s+(?:-\S+\s+)*)?(?:python[\d.]*|perl|ruby|node|php|pwsh|powershell|iex|source)\b"
_FETCH = r"(?:curl|wget|fetch|iwr|irm|Invoke-WebRequest|Invoke-RestMethod)"

LINE_RULES: tuple[LineRule, ...] = (
    # -- failure masked ------------------------------------------------------------------
    _rule("failure-masked", "makes a step ignore failure", r"\|\|\s*(?:command\s+|builtin\s+)?['\"]?(?:true|:|/bin/true|/usr/bin/true|exit\s+0|return\s+0)['\"]?(?![\w-])"),
    # ``which docker || echo "no docker"`` is fine; ``pytest || echo failed`` is not.
    _rule("failure-masked", "makes a step ignore failure",
          rf"(?:^|[;&|(]|\b(?:run|script|command)\s*:|^\s*-|\bRUN\b)\s*['\"]?(?:sudo\s+)?{_BUILD_WORDS}(?:\s[^\n|]*)?\|\|\s*(?:echo|printf|\[\s|\[\[|test\s)"),
    _rule("failure-masked", "makes a step ignore failure", r";\s*(?:true|:|exit\s+0)\s*(?:$|[;&#\"'])"),
    _rule("failure-masked", "turns off exit-on-error", r"\bset\s+\+[A-Za-z]*e|\bset\s+\+o\s+(?:errexit|pipefail)\b"),
    _rule("failure-masked", "makes a step ignore failure", r"(?i)\bcontinue-?on-?error['\"]?\s*:(?!\s*['\"]?false\b)|\ballow_failure\s*:(?!\s*false\b)|\bignore_(?:errors|outcome)\s*[:=]\s*['\"]?(?:true|yes|1)\b"),
    _rule("failure-masked", "makes make ignore failing commands", r"\bmake\b[^\n;&|]*\s(?:-i|--ignore-errors)\b|^\.IGNORE\s*:"),
    _rule("failure-masked", "makes make ignore a failing command", r"^\t[@+]*-\s*\S", paths=MAKEFILE),
    _rule("failure-masked", "disables a CI step or job", r"^\s*-?\s*if\s*:\s*(?:false|0|\$\{\{\s*false\s*\}\})\s*$|^\s*when\s*:\s*(?:never|manual)\s*$"),
    _rule("failure-masked", "pipes a test/build command into a filter, which hides its exit code",
          r"\b(?:pytest|py\.test|tox|nox|make|npm\s+(?:run\s+)?test|go\s+test|cargo\s+test|mvn|gradle\w*)\b[^|\n]*\|(?!\|)\s*(?:tee|cat|grep|head|tail|sed|awk|less|sort)\b"),
    _rule("failure-masked", "rewrites the test session's exit status", r"\bexitstatus\s*=\s*(?:0|(?:pytest\.)?ExitCode\.OK)\b|--suppress-no-test-exit-code"),
    _rule("failure-masked", "exits the test session with success", r"\b(?:os\._exit|sys\.exit|exit)\(\s*0\s*\)", paths=TEST_PATH),
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
