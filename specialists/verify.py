"""Verification: the rebuild passes and no test the failing build ran has vanished or failed."""

from __future__ import annotations

from models import BuildResult, Verification


def verify(failing: BuildResult, rebuild: BuildResult) -> Verification:
    if rebuild.timed_out:
        return Verification(verified=False, reason=f"rebuild timed out after {rebuild.duration_s:.0f}s")
    if rebuild.exit_code != 0:
        return Verification(verified=False, reason=f"rebuild still fails (exit {rebuild.exit_code})")
    before, after = failing.tests, rebuild.tests
    if before is not None and before.collected > 0:
        if after is None:
            return Verification(verified=False, reason="rebuild passed but reported no test results: the tests did not run")
        if after.collected < before.collected:
            return Verification(verified=False, reason=f"tests collected dropped from {before.collected} to {after.collected}")
        if after.passed < before.passed:
            return Verification(verified=False, reason=f"tests passed dropped from {before.passed} to {after.passed}")
        vanished = sorted(set(before.passed_ids + before.failed_ids) - set(after.passed_ids))
        if vanished:
            return Verification(verified=False, reason=f"{len(vanished)} test(s) of the failing build no longer pass: {', '.join(vanished[:5])}")
    if after is not None:
        return Verification(verified=True, reason=f"rebuild passed: {after.passed} passed, {after.failed + after.errors} failed, {after.skipped} skipped of {after.collected} collected")
    return Verification(verified=True, reason="rebuild passed (no per-test results reported)")
