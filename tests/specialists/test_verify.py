"""Verification: the rebuild must pass without losing any test the failing build ran."""

from __future__ import annotations

from models import ArtifactRef, BuildResult, SandboxKind
from models import TestReport as Report  # not "Test*": pytest would try to collect it
from specialists.verify import verify

FAILING_TESTS = Report(collected=3, passed=2, failed=1, passed_ids=["t::a", "t::b"], failed_ids=["t::c"])
ALL_PASS = Report(collected=3, passed=3, passed_ids=["t::a", "t::b", "t::c"])


def build(exit_code: int, tests: Report | None, *, timed_out: bool = False, label: str = "build") -> BuildResult:
    return BuildResult(
        label=label,
        exit_code=exit_code,
        timed_out=timed_out,
        duration_s=42.4,
        log=ArtifactRef(sha256="0" * 64, size=0, uri="file:///dev/null"),
        excerpt="",
        signature="0" * 16,
        tests=tests,
        sandbox=SandboxKind.LOCAL,
    )


FAILING = build(1, FAILING_TESTS)


def test_a_rebuild_that_passes_every_test_is_verified() -> None:
    result = verify(FAILING, build(0, ALL_PASS, label="rebuild"))
    assert result.verified
    assert result.reason == "rebuild passed: 3 passed, 0 failed, 0 skipped of 3 collected"


def test_a_rebuild_that_still_fails_is_not_verified() -> None:
    result = verify(FAILING, build(2, ALL_PASS))
    assert not result.verified and result.reason == "rebuild still fails (exit 2)"


def test_a_rebuild_that_timed_out_is_not_verified_even_with_exit_zero() -> None:
    result = verify(FAILING, build(0, ALL_PASS, timed_out=True))
    assert not result.verified and result.reason == "rebuild timed out after 42s"
    assert not build(0, None, timed_out=True).passed


def test_tests_that_stopped_running_are_not_verified() -> None:
    assert "reported no test results" in verify(FAILING, build(0, None)).reason
    fewer = Report(collected=2, passed=2, passed_ids=["t::a", "t::b"])
    result = verify(FAILING, build(0, fewer))
    assert not result.verified and result.reason == "tests collected dropped from 3 to 2"


def test_fewer_passes_are_not_verified() -> None:
    failing = build(1, Report(collected=3, passed=3, passed_ids=["t::a", "t::b", "t::c"]))
    skipped = Report(collected=3, passed=2, skipped=1, passed_ids=["t::a", "t::b"])
    result = verify(failing, build(0, skipped))
    assert not result.verified and result.reason == "tests passed dropped from 3 to 2"


def test_a_test_swapped_for_another_is_not_verified() -> None:
    swapped = Report(collected=3, passed=3, passed_ids=["t::a", "t::b", "t::new"])
    result = verify(FAILING, build(0, swapped))
    assert not result.verified
    assert result.reason == "1 test(s) of the failing build no longer pass: t::c"


def test_a_build_that_never_collected_tests_needs_only_a_pass() -> None:
    broken_import = build(1, Report(collection_errors=1))
    assert verify(broken_import, build(0, ALL_PASS)).verified
    result = verify(build(1, None), build(0, None))
    assert result.verified and result.reason == "rebuild passed (no per-test results reported)"
