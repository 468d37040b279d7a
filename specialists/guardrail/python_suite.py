"""Reading Python test files as syntax trees, to see what a patch does to the tests they hold.

A pattern on added lines cannot tell a renamed test from a new one or notice an assertion that went
missing, so Python test files are parsed, base and new: the tests they define (with their bodies, so
a rename that pytest still collects is not a deletion), their skips and collection filters, the
pytest hooks that can drop tests or rewrite outcomes, each test's checks, and the constructs that
keep a check from failing (an early return, a swallowed AssertionError, ``if False``,
``contextlib.suppress``). Comparing the two readings yields the findings.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from specialists.guardrail.diff import ChangedFile
from specialists.guardrail.paths import COLLECTED_TEST
from specialists.guardrail.rules import format_finding

_SKIP_WORDS = frozenset({"skip", "skipif", "skipIf", "skipUnless", "xfail", "expectedFailure", "skipTest", "importorskip", "SkipTest", "Skipped"})
_COLLECTION_HOOKS = frozenset({"pytest_collection_modifyitems", "pytest_ignore_collect", "pytest_collect_file", "pytest_pycollect_makeitem",
                               "pytest_collection", "pytest_deselected", "pytest_itemcollected", "pytest_runtest_setup"})
_OUTCOME_HOOKS = frozenset({"pytest_runtest_makereport", "pytest_runtest_logreport", "pytest_report_teststatus", "pytest_sessionfinish",
                            "pytest_runtest_call", "pytest_pyfunc_call", "pytest_runtest_protocol"})
_BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException", "AssertionError"})


@dataclass
class PyTests:
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


def py_tests(source: str | None) -> PyTests:
    out = PyTests()
    try:
        tree = ast.parse(source or "")
    except (SyntaxError, ValueError):
        out.parsed = False
        return out
    _visit(tree, out, scope="", in_test_class=False, function=None)
    return out


def _visit(node: ast.AST, out: PyTests, scope: str, in_test_class: bool, function: str | None) -> None:
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


def _decorators(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, scope: str, out: PyTests) -> None:
    for deco in node.decorator_list:
        parts = set(_dotted(deco).split("."))
        if parts & _SKIP_WORDS:
            out.skips.append((scope, deco.lineno, "@" + ast.unparse(deco)))


def _node(node: ast.AST, out: PyTests, scope: str, function: str | None) -> None:
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


def _guards(fn: ast.FunctionDef | ast.AsyncFunctionDef, owner: str, out: PyTests) -> None:
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


def python_test_findings(f: ChangedFile, files: list[ChangedFile]) -> list[str]:
    old, new = py_tests(f.old), py_tests(f.new)
    if not new.parsed:
        return []
    findings: list[str] = []
    path = f.path
    # Tests that are gone (deleted or renamed so pytest no longer collects them).
    new_bodies = {body for _, body in new.tests.values()}
    gone = [(name, line) for name, (line, body) in old.tests.items() if name not in new.tests and body not in new_bodies]
    if gone and not COLLECTED_TEST.search(path) and path.endswith("conftest.py"):
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
            findings.append(format_finding("tests-skipped", path, line, "skips, xfails or stops collecting tests", text))
    for hook, (line, dump) in new.hooks.items():
        if old.hooks.get(hook, (0, ""))[1] != dump:
            rule = "tests-skipped" if hook in _COLLECTION_HOOKS else "failure-masked"
            what = "can drop or skip collected tests" if hook in _COLLECTION_HOOKS else "can rewrite test outcomes"
            findings.append(format_finding(rule, path, line, f"adds or changes the {hook} hook, which {what}"))
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
            findings.append(format_finding("assertions-weakened", path, line, f"removes or changes the check {text!r} of {function}{now}{widened}"))
    for function, new_checks in new.checks.items():
        known = {t for _, t in old.checks.get(function, [])}
        for line, text in new_checks:
            if text not in known and _trivially_true(text):
                findings.append(format_finding("assertions-weakened", path, line, f"adds a check that cannot fail in {function}", text))
    added_guards = Counter((s, w) for s, _, w in new.guards) - Counter((s, w) for s, _, w in old.guards)
    for scope, line, what in new.guards:
        if added_guards[(scope, what)] > 0:
            added_guards[(scope, what)] -= 1
            findings.append(format_finding("assertions-weakened", path, line, f"{scope} {what}"))
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
