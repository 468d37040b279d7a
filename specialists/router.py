"""The specialist router: hands a failure to the specialists that know its kind and returns the
first diagnosis whose patch has not been tried yet (or the best-founded escalation)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain

from models import Category, Diagnosis, TestReport
from specialists import build_tools, config_files, dockerfile, env_config, logic, python_deps, resolver_conflict, upstream_release
from specialists.build_tools import ToolIndex
from specialists.dockerfile import AptLookup, ListImageTags
from specialists.logs import clean, error_lines
from specialists.python_deps import ResolveImport
from specialists.releases import ReleaseHistory, RequiresDist, parse_freeze
from specialists.repo_view import RepoView


def diagnose(
    view: RepoView,
    log: bytes | str,
    cmd: str,
    *,
    resolve_import: ResolveImport,
    tools: ToolIndex | None = None,
    tried_patch_ids: Iterable[str] = (),
    tests: TestReport | None = None,
    apt_lookup: AptLookup | None = None,
    list_image_tags: ListImageTags | None = None,
    release_history: ReleaseHistory | None = None,
    requires_dist: RequiresDist | None = None,
    environment: str | None = None,
    known_good_env: str | None = None,
) -> Diagnosis:
    """``environment``: the failing build's ``pip freeze``; ``known_good_env``: the last green
    build's. Without ``release_history`` and ``requires_dist`` (the index), the dependency-drift
    specialists (resolver conflicts, upstream breaking releases) stand aside."""
    lines = clean(log)
    tried = set(tried_patch_ids)
    escalations: list[Diagnosis] = []
    drift: list[Iterator[Diagnosis]] = []
    if release_history is not None and requires_dist is not None:
        drift = [
            resolver_conflict.diagnose(view, lines, cmd, release_history=release_history, requires_dist=requires_dist),
            upstream_release.diagnose(
                view, lines, cmd, resolve_import=resolve_import, release_history=release_history, requires_dist=requires_dist,
                environment=environment, known_good_env=known_good_env,
            ),
        ]
    installed = parse_freeze(environment).keys()
    # Lazily: a specialist further down (and its index lookups) runs only when needed.
    candidates = chain(
        python_deps.diagnose(view, lines, cmd, resolve_import, installed=installed),
        build_tools.diagnose(view, lines, cmd, tools, installed=installed),
        *drift,
        env_config.diagnose(view, lines, cmd),
        config_files.diagnose(view, lines),
        dockerfile.diagnose(view, lines, cmd, apt_lookup=apt_lookup, list_image_tags=list_image_tags),
    )
    for candidate in candidates:
        if candidate.patch is None:
            escalations.append(candidate)
        elif candidate.patch.id not in tried:
            return candidate
        else:
            escalations.append(
                candidate.model_copy(update={"patch": None, "escalate_reason": f"{candidate.specialist} has no patch left that was not tried already ({candidate.summary})"})
            )
    if escalations:
        return max(escalations, key=lambda d: d.confidence)
    logic_error = logic.diagnose(lines, tests)
    if logic_error is not None:
        return logic_error
    errors = [lines[i].strip() for i in error_lines(lines)] or [line.strip() for line in lines if line.strip()]
    evidence = errors[-5:]
    return Diagnosis(
        category=Category.UNKNOWN,
        specialist="router",
        summary="no playbook recognises this failure",
        evidence=evidence,
        confidence=0.2,
        escalate_reason="no playbook recognises this failure; last error: " + (evidence[-1][:300] if evidence else "(empty log)"),
    )
