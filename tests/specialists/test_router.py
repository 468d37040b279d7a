"""The router: the first untried patch of the specialists that know the failure, else escalation."""

from __future__ import annotations

from models import Category
from specialists import router
from specialists.python_deps import Provider
from specialists.repo_view import RepoView

MISSING_MODULE = b"""\
\x1b[1mCollecting flask==3.0.0\x1b[0m
Successfully installed flask-3.0.0
Traceback (most recent call last):
  File "/build/app/main.py", line 1, in <module>
    import foobar
ModuleNotFoundError: No module named 'foobar'
"""

ASSERTION = """\
    def test_add():
>       assert add(1, 2) == 4
E       assert 3 == 4

tests/test_calc.py:7: AssertionError
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_add - assert 3 == 4
"""

VIEW = RepoView({"requirements.txt": "flask==3.0.0\n", ".env.example": "APP_MODE=development\n"})


def resolve(module: str) -> Provider | None:
    return {"foobar": Provider("PyFooBar", "1.4.2")}.get(module)


def test_a_missing_module_goes_to_the_dependency_specialist() -> None:
    diagnosis = router.diagnose(VIEW, MISSING_MODULE, "pip install -r requirements.txt && python app/main.py", resolve_import=resolve)
    assert diagnosis.category is Category.DEPENDENCY
    assert diagnosis.specialist == "python-dependencies"
    assert diagnosis.patch is not None
    assert diagnosis.patch.changes[0].content == "flask==3.0.0\nPyFooBar==1.4.2\n"


def test_a_missing_variable_goes_to_the_environment_specialist() -> None:
    log = "RuntimeError: environment variable APP_MODE is not set\n"
    diagnosis = router.diagnose(VIEW, log, "pytest", resolve_import=resolve)
    assert diagnosis.category is Category.ENVIRONMENT and diagnosis.patch is not None


def test_an_already_tried_patch_is_skipped_for_the_next_candidate() -> None:
    log = MISSING_MODULE.decode() + "RuntimeError: environment variable APP_MODE is not set\n"
    first = router.diagnose(VIEW, log, "pytest", resolve_import=resolve)
    assert first.category is Category.DEPENDENCY and first.patch is not None
    second = router.diagnose(VIEW, log, "pytest", resolve_import=resolve, tried_patch_ids=[first.patch.id])
    assert second.category is Category.ENVIRONMENT and second.patch is not None


def test_when_every_patch_was_tried_the_router_escalates() -> None:
    first = router.diagnose(VIEW, MISSING_MODULE, "pytest", resolve_import=resolve)
    assert first.patch is not None
    again = router.diagnose(VIEW, MISSING_MODULE, "pytest", resolve_import=resolve, tried_patch_ids=[first.patch.id])
    assert again.patch is None
    assert again.category is Category.DEPENDENCY
    assert again.escalate_reason is not None and "no patch left that was not tried" in again.escalate_reason


def test_the_best_founded_escalation_wins() -> None:
    log = MISSING_MODULE.decode().replace("foobar", "nosuchthing") + "RuntimeError: environment variable API_TOKEN is not set\n"
    diagnosis = router.diagnose(VIEW, log, "pytest", resolve_import=resolve)
    assert diagnosis.patch is None
    assert diagnosis.category is Category.ENVIRONMENT  # confidence 0.8 beats the dependency's 0.5


def test_an_assertion_failure_is_a_logic_error_to_escalate() -> None:
    diagnosis = router.diagnose(VIEW, ASSERTION, "pytest", resolve_import=resolve)
    assert diagnosis.category is Category.LOGIC
    assert diagnosis.patch is None
    assert diagnosis.escalate_reason is not None and diagnosis.escalate_reason.startswith("logic error: a test assertion fails")
    assert "E       assert 3 == 4" in diagnosis.escalate_reason
    assert diagnosis.evidence == ["E       assert 3 == 4", "FAILED tests/test_calc.py::test_add - assert 3 == 4"]


def test_an_unrelated_log_is_unknown() -> None:
    log = "Step 4/9 : RUN make\nmake: *** [all] Killed\n\nSegmentation fault (core dumped)\n"
    diagnosis = router.diagnose(VIEW, log, "make", resolve_import=resolve)
    assert diagnosis.category is Category.UNKNOWN
    assert diagnosis.patch is None and diagnosis.escalate_reason is not None
    assert diagnosis.evidence == ["Step 4/9 : RUN make", "make: *** [all] Killed", "Segmentation fault (core dumped)"]
