"""Triage from the log and the per-test results: each category, with its evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import ArtifactRef, BuildResult, Category, SandboxKind
from models import TestReport as Report
from specialists.logs import clean
from specialists.triage import classify

PIP_DATA = Path(__file__).parent / "data" / "pip"

PIP_TIMEOUT = """\
Collecting requests==2.32.3
ERROR: Exception:
Traceback (most recent call last):
  File "/tmp/venv/lib/python3.11/site-packages/pip/_vendor/urllib3/response.py", line 438, in _error_catcher
    yield
  File "/tmp/venv/lib/python3.11/site-packages/pip/_vendor/urllib3/response.py", line 561, in read
    data = self._fp_read(amt) if not fp_closed else b""
TimeoutError: The read operation timed out

During handling of the above exception, another exception occurred:

pip._vendor.urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Read timed out.
"""

PIP_NOT_FOUND_AFTER_RETRIES = """\
WARNING: Retrying (Retry(total=1, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ReadTimeoutError("HTTPSConnectionPool(host='pypi.org', port=443): Read timed out. (read timeout=15)")': /simple/requests/
WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ReadTimeoutError("HTTPSConnectionPool(host='pypi.org', port=443): Read timed out. (read timeout=15)")': /simple/requests/
ERROR: Could not find a version that satisfies the requirement requests==2.32.3 (from versions: none)
ERROR: No matching distribution found for requests==2.32.3
"""

REGISTRY_503 = """\
#5 [internal] load metadata for docker.io/library/python:3.12-slim
#5 ERROR: failed to do request: Head "https://registry-1.docker.io/v2/library/python/manifests/3.12-slim": 503 Service Unavailable
"""

RESOLVER = """\
ERROR: Cannot install -r requirements.txt (line 1) and urllib3==2.2.1 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested urllib3==2.2.1
    botocore 1.29.0 depends on urllib3<1.27 and >=1.25.4

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts
"""

MISSING_VAR = """\
Traceback (most recent call last):
  File "/workspace/app/settings.py", line 4, in <module>
    DATABASE_URL = os.environ["DATABASE_URL"]
  File "<frozen os>", line 679, in __getitem__
KeyError: 'DATABASE_URL'
"""

DOCKER_BUILD = """\
#7 [3/5] COPY requirments.txt /app/
#7 ERROR: failed to calculate checksum of ref 1b2c: "/requirments.txt": not found
------
 > [3/5] COPY requirments.txt /app/:
------
ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref 1b2c: "/requirments.txt": not found
"""

TERRAFORM = """\
aws_s3_bucket.logs: Refreshing state... [id=logs-bucket]
╷
│ Error: Unsupported argument
│
│   on main.tf line 12, in resource "aws_s3_bucket" "logs":
│   12:   acl_policy = "private"
│
│ An argument named "acl_policy" is not expected here.
╵
"""

RETRIED_THEN_ASSERTION = PIP_NOT_FOUND_AFTER_RETRIES.splitlines()[0] + "\nSuccessfully installed requests-2.32.3\n" + "\n" * 60 + """\
    def test_total():
>       assert total([1, 2]) == 4
E       assert 3 == 4
FAILED tests/test_calc.py::test_total - assert 3 == 4
"""


def build(log: str, tests: Report | None = None, timed_out: bool = False) -> tuple[list[str], BuildResult]:
    result = BuildResult(
        label="failing build", exit_code=1, timed_out=timed_out, duration_s=3.0,
        log=ArtifactRef(sha256="0" * 64, size=len(log), uri="file:///dev/null"), excerpt="", signature="s",
        sandbox=SandboxKind.LOCAL, tests=tests,
    )
    return clean(log), result


@pytest.mark.parametrize(
    ("log", "category", "evidence"),
    [
        (PIP_TIMEOUT, Category.INFRA_TRANSIENT, "Read timed out"),
        (PIP_NOT_FOUND_AFTER_RETRIES, Category.INFRA_TRANSIENT, "Read timed out"),
        # pip 26 says it its own way (recorded against a local index that stalls a download).
        ((PIP_DATA / "download-timeout-pip26.log").read_text(), Category.INFRA_TRANSIENT, "connection-timeout"),
        (REGISTRY_503, Category.INFRA_TRANSIENT, "503 Service Unavailable"),
        (RESOLVER, Category.DEPENDENCY, "ResolutionImpossible"),
        (MISSING_VAR, Category.ENVIRONMENT, "KeyError: 'DATABASE_URL'"),
        (DOCKER_BUILD, Category.DOCKER, "failed to solve"),
        (TERRAFORM, Category.TERRAFORM, "Error: Unsupported argument"),
    ],
)
def test_the_log_names_the_category_with_its_evidence(log: str, category: Category, evidence: str) -> None:
    triage = classify(*build(log))
    assert triage.category == category
    assert any(evidence in line for line in triage.evidence), triage.evidence
    assert 0.5 <= triage.confidence <= 0.95 and not triage.rerun_tests


def test_a_not_found_without_network_trouble_is_a_dependency_problem() -> None:
    log = "\n".join(PIP_NOT_FOUND_AFTER_RETRIES.splitlines()[2:])
    assert classify(*build(log)).category == Category.DEPENDENCY


def test_a_retried_download_early_does_not_hide_a_failure_at_the_end() -> None:
    triage = classify(*build(RETRIED_THEN_ASSERTION))
    assert triage.category == Category.LOGIC and "E       assert 3 == 4" in triage.evidence[0]


def test_failing_tests_with_assertions_need_reruns() -> None:
    executed = ["tests/test_a.py::test_one", "tests/test_a.py::test_two", "tests/test_b.py::test_three"]
    tests = Report(
        collected=3, passed=1, failed=2, passed_ids=[executed[0]], failed_ids=[executed[2], executed[1]], executed_ids=executed,
        failure_messages={executed[1]: "assert 3 == 4", executed[2]: "AssertionError: expected 'a'"},
    )
    triage = classify(*build(RETRIED_THEN_ASSERTION, tests))
    assert triage.rerun_tests and triage.category == Category.LOGIC
    assert triage.failing_tests == executed[1:]  # in the order they ran
    assert triage.evidence[0] == "tests/test_a.py::test_two: assert 3 == 4"


def test_tests_failing_on_a_missing_module_are_dependency_drift_without_reruns() -> None:
    failed = ["tests/test_a.py::test_one", "tests/test_a.py::test_two"]
    tests = Report(
        collected=2, failed=2, failed_ids=failed, executed_ids=failed,
        failure_messages={t: "ModuleNotFoundError: No module named 'yaml'" for t in failed},
    )
    triage = classify(*build("", tests))
    assert triage.category == Category.DEPENDENCY and not triage.rerun_tests


def test_a_timeout_without_error_lines_is_unknown_and_says_so() -> None:
    triage = classify(*build("collecting ...\nrunning step 3\n", timed_out=True))
    assert triage.category == Category.UNKNOWN and "timed out" in triage.summary


def test_an_unrecognised_failure_is_unknown_with_its_last_lines() -> None:
    triage = classify(*build("make: *** [all] Segmentation fault (core dumped)\n"))
    assert triage.category == Category.UNKNOWN and triage.evidence
