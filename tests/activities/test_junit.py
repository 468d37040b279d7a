"""read_junit on JUnit XML that a real pytest run wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from activities.repair import read_junit

MIXED = """\
import pytest

def test_passes():
    pass

def test_fails():
    assert 1 == 2

@pytest.mark.skipif(True, reason="not today")
def test_skipped():
    pass

@pytest.fixture
def broken():
    raise RuntimeError("fixture setup fails")

def test_errors(broken):
    pass

class TestGroup:
    def test_in_class(self):
        pass
"""


def junit_of(tmp_path: Path, name: str, source: str, *options: str) -> Path:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(source)
    xml = tmp_path / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", f"--junitxml={xml}", *options, name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert xml.is_file()
    return xml


def test_pass_fail_skip_and_error(tmp_path: Path) -> None:
    report = read_junit(junit_of(tmp_path, "test_mixed.py", MIXED))
    assert report is not None
    assert (report.collected, report.passed, report.failed, report.errors, report.skipped) == (5, 2, 1, 1, 1)
    assert report.collection_errors == 0
    assert report.passed_ids == ["test_mixed::test_passes", "test_mixed.TestGroup::test_in_class"]
    assert sorted(report.failed_ids) == ["test_mixed::test_errors", "test_mixed::test_fails"]


def test_with_file_names_ids_are_node_ids_in_run_order_with_failure_messages(tmp_path: Path) -> None:
    # What the sandboxes ask pytest for: the xunit1 family names each test's file.
    report = read_junit(junit_of(tmp_path, "tests/test_mixed.py", MIXED, "-o", "junit_family=xunit1"))
    assert report is not None
    assert report.executed_ids == [
        "tests/test_mixed.py::test_passes",
        "tests/test_mixed.py::test_fails",
        "tests/test_mixed.py::test_errors",
        "tests/test_mixed.py::TestGroup::test_in_class",
    ]
    assert report.failure_messages["tests/test_mixed.py::test_fails"] == "assert 1 == 2"
    assert "fixture setup fails" in report.failure_messages["tests/test_mixed.py::test_errors"]


def test_a_module_that_fails_to_import_is_a_collection_error(tmp_path: Path) -> None:
    report = read_junit(junit_of(tmp_path, "test_broken.py", "import no_such_module_here\n\ndef test_never():\n    pass\n"))
    assert report is not None
    assert (report.collection_errors, report.collected, report.passed, report.errors) == (1, 0, 0, 0)
    assert report.failed_ids == []


def test_no_usable_junit_file_gives_none(tmp_path: Path) -> None:
    assert read_junit(tmp_path / "missing.xml") is None
    empty = tmp_path / "empty.xml"
    empty.touch()
    assert read_junit(empty) is None
    garbage = tmp_path / "garbage.xml"
    garbage.write_text("<testsuites><testsuite>truncated by a kill")
    assert read_junit(garbage) is None
