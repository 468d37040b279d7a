"""The activities of RepairWorkflow. Blocking work (git, docker, subprocess) runs in sync
activities on the worker's thread pool; every dependency is injected."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from junitparser import Attr, JUnitXml, TestCase, TestSuite
from junitparser.junitparser import JUnitXmlError
from temporalio import activity

from activities import git, names
from activities.artifacts import ArtifactStore
from activities.errors import bad_input, publish_conflict
from activities.sandbox import BuildSpec, Sandbox
from activities.sandbox.pip_cache import PipCache
from activities.sandbox.base import SELECT_PLUGIN
from models import (
    BuildRequest,
    BuildResult,
    DiagnoseRequest,
    Diagnosis,
    Policy,
    PublishRequest,
    PublishResult,
    RepairRequest,
    ReviewRequest,
    ReviewVerdict,
    SandboxKind,
    TestReport,
    Triage,
    TriageRequest,
    Verification,
    VerifyRequest,
    WorkspaceInfo,
)
from specialists import guardrail, logs, pins, router, triage
from specialists.build_tools import ToolIndex
from specialists.dockerfile import AptLookup, ListImageTags
from specialists.policy import FILENAME as POLICY_FILE
from specialists.policy import PolicyError, parse_policy
from specialists.python_deps import ResolveImport
from specialists.releases import ReleaseHistory, RequiresDist
from specialists.redact import redact
from specialists.repo_view import RepoView
from specialists.verify import verify


class RepairActivities:
    def __init__(
        self,
        store: ArtifactStore,
        sandboxes: Mapping[SandboxKind, Sandbox],
        resolve_import: ResolveImport,
        scratch_dir: str | Path | None = None,
        apt_lookup: AptLookup | None = None,
        list_image_tags: ListImageTags | None = None,
        pip_cache: PipCache | None = None,
        release_history: ReleaseHistory | None = None,
        requires_dist: RequiresDist | None = None,
        tools: ToolIndex | None = None,
    ) -> None:
        self.store = store
        self.sandboxes = dict(sandboxes)
        self.resolve_import = resolve_import
        self.scratch_dir = Path(scratch_dir) if scratch_dir else None
        # Without them, the Dockerfile specialist escalates apt and base-image failures.
        self.apt_lookup = apt_lookup
        self.list_image_tags = list_image_tags
        # Without it, every build downloads its packages afresh.
        self.pip_cache = pip_cache
        # Without them (the index's release history and metadata), resolver conflicts and
        # upstream breaking releases escalate instead of being repaired.
        self.release_history = release_history
        self.requires_dist = requires_dist
        # Without it, a Python tool or pytest plugin the build lacks escalates instead of being declared.
        self.tools = tools

    def all(self) -> list[Callable[..., object]]:
        return [self.prepare_workspace, self.run_build, self.triage, self.diagnose, self.review_patch, self.verify_build, self.publish_fix]

    @activity.defn(name=names.PREPARE_WORKSPACE)
    def prepare_workspace(self, request: RepairRequest) -> WorkspaceInfo:
        repo = Path(request.repo_path)
        if not repo.is_dir():
            raise bad_input(f"{repo} does not exist or is not a folder")
        try:
            root = git.toplevel(repo)
            commit, branch = git.head(root)
        except git.GitError as err:
            raise bad_input(f"{repo} is not a git repository with at least one commit: {err}") from None
        if request.subdir and not (root / request.subdir).is_dir():
            raise bad_input(f"{request.subdir} is not a folder of {root}")
        if request.sandbox in self.sandboxes:
            self.sandboxes[request.sandbox].check()
        text = git.read_file(root, commit, POLICY_FILE)
        try:
            policy = parse_policy(text, source=f"{root / POLICY_FILE} (at {commit[:12]})") if text is not None else Policy()
        except PolicyError as err:
            raise bad_input(str(err)) from None
        return WorkspaceInfo(repo_path=str(root), commit=commit, branch=branch, policy=policy)

    @activity.defn(name=names.RUN_BUILD)
    def run_build(self, request: BuildRequest) -> BuildResult:
        info = activity.info()
        sandbox = self._sandbox(request.sandbox)
        # A previous attempt of this build may have died with its worker: clean up after it.
        for previous in info.heartbeat_details:
            if isinstance(previous, dict):
                sandbox.cleanup(previous)
        build_id = f"{request.workflow_id}.{info.activity_id}.{info.attempt}"
        with tempfile.TemporaryDirectory(prefix="greenline-build-", dir=self.scratch_dir) as tmp:
            checkout = git.checkout(request.repo_path, request.commit, Path(tmp) / "src")
            if request.patch is not None:
                git.apply_patch(checkout, request.patch)
            meta = checkout / ".greenline"
            meta.mkdir(exist_ok=True)
            select_path = write_selection(meta, request.tests) if request.tests is not None else None
            constraints_path = None
            if request.constraints is not None:
                constraints_path = meta / "constraints.txt"
                constraints_path.write_text(request.constraints)
            spec = BuildSpec(
                build_id=build_id,
                workflow_id=request.workflow_id,
                cmd=request.cmd,
                checkout=checkout,
                subdir=request.subdir,
                log_path=Path(tmp) / "build.log",
                junit_path=meta / "junit.xml",
                timeout_s=request.timeout_s,
                select_path=select_path,
                constraints_path=constraints_path,
                pip_cache=self.pip_cache.for_repository(request.repo_path) if self.pip_cache else None,
            )
            spec.log_path.touch()
            outcome = sandbox.run(spec, activity.heartbeat, _should_stop)
            ref = self.store.put_file(spec.log_path)
            lines = logs.clean(spec.log_path.read_bytes())  # cleaned once, for both summaries
            tests = read_junit(spec.junit_path)
            if tests is not None:
                tests.failure_messages = {k: _scrub(v) for k, v in tests.failure_messages.items()}
            return BuildResult(
                label=request.label,
                exit_code=outcome.exit_code,
                timed_out=outcome.timed_out,
                duration_s=round(outcome.duration_s, 3),
                log=ref,
                excerpt=_scrub(logs.distill(lines)),
                signature=logs.signature(lines),
                tests=tests,
                sandbox=request.sandbox,
                environment=read_freeze(spec.freeze_path),
            )

    @activity.defn(name=names.TRIAGE)
    def triage(self, request: TriageRequest) -> Triage:
        found = triage.classify(logs.clean(self.store.get(request.build.log)), request.build)
        return found.model_copy(update={"summary": _scrub(found.summary), "evidence": [_scrub(e) for e in found.evidence]})

    @activity.defn(name=names.DIAGNOSE)
    def diagnose(self, request: DiagnoseRequest) -> Diagnosis:
        view = RepoView(git.tracked_files(request.repo_path, request.commit), request.subdir, request.base_patch)
        if request.bisection is not None and request.bisection.conclusive:
            return _scrubbed(pins.pin_back(view, request.cmd, request.bisection))
        log = self.store.get(request.build.log)
        diagnosis = router.diagnose(
            view,
            log,
            request.cmd,
            resolve_import=self.resolve_import,
            tools=self.tools,
            tried_patch_ids=request.tried_patch_ids,
            tests=request.build.tests,
            apt_lookup=self.apt_lookup,
            list_image_tags=self.list_image_tags,
            release_history=self.release_history,
            requires_dist=self.requires_dist,
            environment=request.build.environment,
            known_good_env=request.known_good_env,
        )
        return _scrubbed(diagnosis)

    @activity.defn(name=names.REVIEW_PATCH)
    def review_patch(self, request: ReviewRequest) -> ReviewVerdict:
        # The reviewer judges removed lines and renames against the files as they were; files
        # too big or binary to read are rebuilt from the patch's diff instead.
        files = git.tracked_files(request.repo_path, request.commit)
        base = {path: files[path] for path in request.patch.paths if path in files}
        return guardrail.review(request.patch, policy=request.policy, base=base)

    @activity.defn(name=names.VERIFY_BUILD)
    def verify_build(self, request: VerifyRequest) -> Verification:
        return verify(request.failing, request.rebuild)

    @activity.defn(name=names.PUBLISH_FIX)
    def publish_fix(self, request: PublishRequest) -> PublishResult:
        branch = f"greenline/{request.workflow_id}"
        with tempfile.TemporaryDirectory(prefix="greenline-publish-", dir=self.scratch_dir) as tmp:
            clone = git.checkout(request.repo_path, request.commit, Path(tmp) / "src")
            git.apply_patch(clone, request.patch)
            git.git("add", "--all", "--", *request.patch.paths, cwd=clone)
            git.git("commit", "--quiet", "--no-verify", "-m", _scrub(request.message), cwd=clone)  # the build step may hold a token
            tree = git.git("rev-parse", "HEAD^{tree}", cwd=clone)
            existing = git.git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{tree}}", cwd=request.repo_path, check=False)
            if existing:
                # A retry after a crash: the branch is already there, with this very fix.
                if existing == tree:
                    return PublishResult(branch=branch, commit=git.git("rev-parse", f"refs/heads/{branch}", cwd=request.repo_path))
                raise publish_conflict(f"branch {branch} already exists in {request.repo_path} with other changes; delete it or rename it")
            git.git("push", "--quiet", str(request.repo_path), f"HEAD:refs/heads/{branch}", cwd=clone)
            return PublishResult(branch=branch, commit=git.git("rev-parse", "HEAD", cwd=clone))

    def _sandbox(self, kind: SandboxKind) -> Sandbox:
        try:
            return self.sandboxes[kind]
        except KeyError:
            raise bad_input(f"sandbox {kind.value!r} is not available on this worker") from None


def read_freeze(path: Path) -> str | None:
    """The build's ``pip freeze``, without lines that could carry credentials (``name @ URL``
    requirements from private sources); ``None`` when the build left none."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    kept = [line for line in text.splitlines()[:_MAX_FREEZE_LINES] if line.strip() and "://" not in line]
    return "\n".join(kept) + "\n" if kept else None


_MAX_FREEZE_LINES = 2000


def write_selection(meta: Path, tests: list[str]) -> Path:
    """The test selection of a rerun, and the pytest plugin that honours it, in the checkout."""
    plugins = meta / "plugins"
    plugins.mkdir()
    shutil.copyfile(_SELECT_PLUGIN_SOURCE, plugins / f"{SELECT_PLUGIN}.py")
    selection = plugins / "selection.txt"
    selection.write_text("".join(f"{test}\n" for test in tests))
    return selection


_SELECT_PLUGIN_SOURCE = Path(__file__).parent / "sandbox" / "pytest_select.py"


def _scrub(text: str) -> str:
    """What leaves the worker (history, audit trail, reports) carries no secret: known token
    formats, credentials in URLs, high-entropy tokens, and the values of this worker's
    secret-named environment variables."""
    return redact(text, env=os.environ)


def _scrubbed(diagnosis: Diagnosis) -> Diagnosis:
    return diagnosis.model_copy(
        update={
            "summary": _scrub(diagnosis.summary),
            "evidence": [_scrub(e) for e in diagnosis.evidence],
            "escalate_reason": _scrub(diagnosis.escalate_reason) if diagnosis.escalate_reason else None,
        }
    )


def _should_stop() -> bool:
    return activity.is_cancelled() or activity.is_worker_shutdown()


class _PytestCase(TestCase):
    # pytest's xunit1 family says which file a test is in: enough to give back its node id.
    file = Attr()


def read_junit(path: Path) -> TestReport | None:
    """Per-test results from a JUnit XML file, in the order the tests ran; ``None`` when the
    build wrote none."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        xml = JUnitXml.fromfile(str(path))
    except (JUnitXmlError, OSError, ValueError, SyntaxError):
        # SyntaxError: the XML parsers' ParseError (xml.etree, lxml), e.g. a file cut short
        # when a timed-out build was killed mid-write.
        return None
    report = TestReport()
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    for suite in suites:
        for case in suite:
            kinds = {type(r).__name__ for r in case.result}
            if not case.classname and "Error" in kinds:
                # pytest reports a module that failed to import as a nameless "test": it is
                # a collection error, not a test.
                report.collection_errors += 1
                continue
            test_id = node_id_of(_PytestCase.fromelem(case))
            report.collected += 1
            if "Skipped" in kinds and not kinds & {"Failure", "Error"}:
                report.skipped += 1
                continue
            report.executed_ids.append(test_id)
            if not kinds:
                report.passed += 1
                report.passed_ids.append(test_id)
                continue
            if "Error" in kinds:
                report.errors += 1
            else:
                report.failed += 1
            report.failed_ids.append(test_id)
            if len(report.failure_messages) < _MAX_MESSAGES:
                report.failure_messages[test_id] = _first_line(case)
    return report


_MAX_MESSAGES = 50


def node_id_of(case: _PytestCase) -> str:
    """pytest's node id (``tests/test_x.py::TestY::test_z[p]``) when the XML names the file,
    else JUnit's ``classname::name``."""
    classname, name = case.classname or "", case.name or ""
    file = case.file
    if file and file.endswith(".py"):
        module = file[: -len(".py")].replace("/", ".")
        if classname == module or classname.startswith(module + "."):
            classes = [c for c in classname[len(module) :].split(".") if c]
            return "::".join([file, *classes, name])
    return f"{classname}::{name}" if classname else name


def _first_line(case: TestCase) -> str:
    for result in case.result:
        message = (result.message or result.text or "").strip()
        if message:
            return message.splitlines()[0][:300]
    return ""
