"""Build logs: cleaning, distilling and fingerprinting."""

from __future__ import annotations

import pytest

from specialists.logs import clean, distill, error_lines, signature
from specialists.logs.scoring import Scorer
from specialists.logs.shapes import depth
from specialists.logs.vocabulary import evidence

PYTEST_FAILURE = """\
============================= test session starts ==============================
platform linux -- Python 3.11.7, pytest-8.3.2, pluggy-1.5.0
collected 3 items

tests/test_calc.py .F.                                                   [100%]

=================================== FAILURES ===================================
__________________________________ test_add ___________________________________

    def test_add():
>       assert add(1, 2) == 4
E       assert 3 == 4
E        +  where 3 = add(1, 2)

tests/test_calc.py:7: AssertionError
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_add - assert 3 == 4
========================= 1 failed, 2 passed in 0.12s ==========================
"""

TRACEBACK = """\
Traceback (most recent call last):
  File "/home/runner/work/app/main.py", line 3, in <module>
    import foobar
ModuleNotFoundError: No module named 'foobar'
"""


def noise(count: int, start: int = 0) -> str:
    return "".join(f"\x1b[32mINFO\x1b[0m step {i}: compiling module_{i}.c ok\n" for i in range(start, start + count))


# --- clean -------------------------------------------------------------------------------


def test_clean_strips_ansi_colours_cursor_moves_and_titles() -> None:
    raw = "\x1b[1;31mERROR\x1b[0m boom\n\x1b[2K\x1b[1Gcleared\n\x1b]0;window title\x07visible"
    assert clean(raw) == ["ERROR boom", "cleared", "visible"]


def test_clean_keeps_what_the_last_carriage_return_left_visible() -> None:
    raw = "Downloading  10%\rDownloading  55%\rDownloading 100%\r\nnext\r\n"
    assert clean(raw) == ["Downloading 100%", "next", ""]


def test_clean_ignores_a_trailing_empty_overwrite() -> None:
    assert clean("progress 3/3\r   \r") == ["progress 3/3"]


def test_clean_survives_invalid_utf8_and_control_bytes() -> None:
    raw = b"ok \xff\xfe\xc3( line\x00\x01\x07 end\nE   KeyError: 'X'\x1b[0m\n"
    lines = clean(raw)
    assert lines[0].startswith("ok ") and lines[0].endswith(" line end")
    assert "\ufffd" in lines[0]  # undecodable bytes become replacement characters, not an exception
    assert not any(ch in "".join(lines) for ch in "\x00\x01\x07\x1b")
    assert lines[1] == "E   KeyError: 'X'"


def test_clean_accepts_str_and_bytes_alike() -> None:
    assert clean(PYTEST_FAILURE) == clean(PYTEST_FAILURE.encode())


# --- distill -----------------------------------------------------------------------------


def test_distill_keeps_the_short_summary_and_the_assertion() -> None:
    excerpt = distill(noise(300) + PYTEST_FAILURE)
    assert "FAILED tests/test_calc.py::test_add - assert 3 == 4" in excerpt
    assert "E       assert 3 == 4" in excerpt
    assert "tests/test_calc.py:7: AssertionError" in excerpt
    assert "step 10: compiling" not in excerpt  # early noise is not what explains the failure


def test_distill_keeps_the_traceback_exception_and_its_last_frame() -> None:
    excerpt = distill(noise(500) + TRACEBACK + noise(5, start=900))
    assert "ModuleNotFoundError: No module named 'foobar'" in excerpt
    assert "    import foobar" in excerpt


def test_distill_keeps_error_lines_from_the_middle_of_a_log() -> None:
    log = noise(400) + "npm ERR! code E404\nERROR: Could not find a version that satisfies the requirement nope==9\n" + noise(400, start=400)
    excerpt = distill(log)
    assert "ERROR: Could not find a version that satisfies the requirement nope==9" in excerpt
    # Lines that are not contiguous in the log are separated by an ellipsis.
    assert "\n...\n" in excerpt


def test_error_lines_are_the_failures_not_the_noise() -> None:
    lines = clean(noise(3) + TRACEBACK + "E   KeyError: 'X'\n    ^^^^^^\nbash: foo: command not found\n" + noise(3, start=3))
    assert [lines[i] for i in error_lines(lines)] == [
        "Traceback (most recent call last):",
        "ModuleNotFoundError: No module named 'foobar'",
        "E   KeyError: 'X'",
        "    ^^^^^^",
        "bash: foo: command not found",
    ]


def test_distill_keeps_log_order() -> None:
    excerpt = distill(TRACEBACK + noise(200) + PYTEST_FAILURE)
    assert excerpt.index("ModuleNotFoundError") < excerpt.index("short test summary info")


def test_distill_respects_the_byte_budget() -> None:
    log = (noise(50) + TRACEBACK + PYTEST_FAILURE + "ÉRROR: ünïcödé fails ✗\n") * 20
    for budget in (60, 200, 1000, 4096):
        excerpt = distill(log, budget=budget)
        assert excerpt
        assert len(excerpt.encode()) <= budget


def test_distill_prefers_the_summary_when_the_budget_is_tight() -> None:
    excerpt = distill(noise(1000) + PYTEST_FAILURE, budget=300)
    assert "FAILED tests/test_calc.py::test_add - assert 3 == 4" in excerpt
    assert "compiling" not in excerpt


def test_distill_of_an_empty_or_blank_log_is_empty() -> None:
    assert distill(b"") == ""
    assert distill("\n\n   \n") == ""
    assert distill([]) == ""


def test_distill_handles_a_50_mb_log() -> None:
    block = noise(1000)
    raw = (noise(10) + "ERROR: early warning sign\n" + block * 1100 + TRACEBACK + "\x1b[31mbuild failed\x1b[0m\n").encode()
    assert len(raw) > 50_000_000
    excerpt = distill(raw)
    assert len(excerpt.encode()) <= 4096
    assert "ModuleNotFoundError: No module named 'foobar'" in excerpt
    assert "ERROR: early warning sign" in excerpt
    assert excerpt.endswith("build failed")
    assert signature(raw) == signature(TRACEBACK.replace("/home/runner/work", "/tmp/x") + "ERROR: early warning sign")


# --- signature ---------------------------------------------------------------------------


def failing_build(line: int, root: str, digest: str, stamp: str, exception: str) -> str:
    return f"""\
{stamp} Step 3/7 : RUN pip install -r requirements.txt
{stamp} Successfully built {digest}
Traceback (most recent call last):
  File "{root}/app/main.py", line {line}, in <module>
    import foobar
{exception}
ERROR: build step exited with code 1 after {line}.{line}s in container {digest}
FAILED tests/test_app.py::test_import - object at 0x7ffd{line}ab
"""


MISSING = "ModuleNotFoundError: No module named 'foobar'"


def test_signature_ignores_numbers_paths_hashes_and_timestamps() -> None:
    first = failing_build(12, "/home/runner/work/abc", "3f9a2c1d7e", "2024-05-01T12:00:01.123Z", MISSING)
    second = failing_build(987, "/tmp/build-99/x", "deadbeef12345678", "2025-11-30T23:59:59Z", MISSING)
    assert first != second
    assert signature(first) == signature(second)
    assert signature(first.encode()) == signature(first)


def test_signature_ignores_noise_and_ansi_around_the_failure() -> None:
    plain = failing_build(1, "/a", "abcdef0", "2024-01-01T00:00:00Z", MISSING)
    noisy = noise(50) + "\x1b[31m" + plain.replace("\n", "\x1b[0m\n", 3)
    assert signature(noisy) == signature(plain)


def test_signature_differs_when_the_exception_differs() -> None:
    args = (12, "/home/runner/work/abc", "3f9a2c1d7e", "2024-05-01T12:00:01.123Z")
    missing = signature(failing_build(*args, MISSING))
    other_module = signature(failing_build(*args, "ModuleNotFoundError: No module named 'barbaz'"))
    key_error = signature(failing_build(*args, "KeyError: 'DATABASE_URL'"))
    assert len({missing, other_module, key_error}) == 3


def test_signature_of_a_log_without_errors_uses_its_tail() -> None:
    assert signature("building\nstep 1\nKilled\n") == signature("building\nstep 2\nKilled\n")
    assert signature("building\nKilled\n") != signature("building\nSegmentation fault\n")
    assert len(signature("")) == 16


# --- distill: what each kind of tool says --------------------------------------------------


def ci_noise(count: int, start: int = 0) -> str:
    """Ordinary build chatter: downloads with progress bars, compiler lines, passing tests."""
    return "".join(
        f"Downloading dep-{i}.tar.gz  {i % 100}%\r\x1b[2KDownloading dep-{i}.tar.gz 100%\n"
        f"\x1b[32m  CC      src/module_{i}.o\x1b[0m\n"
        f"test_module_{i}_handles_errors ... ok\n"
        for i in range(start, start + count)
    )


AFTER_FAILURE = "".join(f"uploading cache part {i}/40 ({i * 3} MB)\n" for i in range(40)) + "Done. Your build exited with 1.\n"


def failed_command(cmd: str, output: str, code: int = 1) -> str:
    """A CI log in which ``cmd`` fails after ``output``, with noise before and clean-up after."""
    return ci_noise(300) + f"$ {cmd}\n" + ci_noise(30, start=300) + output + f'The command "{cmd}" exited with {code}.\n' + AFTER_FAILURE


PIP_CONFLICT = """\
ERROR: Cannot install -r requirements.txt (line 2) and urllib3==2.0.7 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested urllib3==2.0.7
    botocore 1.31.64 depends on urllib3<1.27 and >=1.25.4; python_version < "3.10"

To fix this you could try to:
1. loosen the range of package versions you've specified
2. remove package versions to allow pip attempt to solve the dependency conflict

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts
"""

DOCKER_BUILD = """\
Step 3/6 : COPY requirements.txt .
 ---> 1f2e3d4c5b6a
Step 4/6 : RUN pip install --no-cache-dir -r requirements.txt
 ---> Running in 0a1b2c3d4e5f
Collecting flask==2.3.3
  Downloading flask-2.3.3-py3-none-any.whl (96 kB)
ERROR: Could not find a version that satisfies the requirement nosuchpkg==9.9 (from versions: none)
ERROR: No matching distribution found for nosuchpkg==9.9
The command '/bin/sh -c pip install --no-cache-dir -r requirements.txt' returned a non-zero code: 1
"""

TERRAFORM = """\
aws_s3_bucket.logs: Refreshing state... [id=greenline-logs]
aws_iam_role.ci: Refreshing state... [id=greenline-ci]
╷
│ Error: Reference to undeclared resource
│
│   on main.tf line 14, in resource "aws_s3_bucket_policy" "logs":
│   14:   bucket = aws_s3_bucket.log.id
│
│ A managed resource "aws_s3_bucket" "log" has not been declared in the root module.
╵
"""


def test_distill_keeps_pips_conflict_lines() -> None:
    excerpt = distill(failed_command("pip install -r requirements.txt", PIP_CONFLICT), budget=1500)
    assert "ERROR: ResolutionImpossible: for help visit" in excerpt
    assert "The user requested urllib3==2.0.7" in excerpt
    assert 'botocore 1.31.64 depends on urllib3<1.27 and >=1.25.4; python_version < "3.10"' in excerpt
    assert "because these package versions have conflicting dependencies." in excerpt


def test_distill_keeps_the_failing_docker_build_step() -> None:
    log = ci_noise(200) + DOCKER_BUILD + ci_noise(5, start=900)
    excerpt = distill(log, budget=800)
    assert "Step 4/6 : RUN pip install --no-cache-dir -r requirements.txt" in excerpt
    assert "ERROR: No matching distribution found for nosuchpkg==9.9" in excerpt
    assert "returned a non-zero code: 1" in excerpt
    assert "Step 3/6" not in excerpt  # the step that worked is not the story


def test_distill_keeps_terraforms_error_block() -> None:
    excerpt = distill(failed_command("terraform plan -input=false", TERRAFORM), budget=900)
    for line in (
        "│ Error: Reference to undeclared resource",
        '│   on main.tf line 14, in resource "aws_s3_bucket_policy" "logs":',
        "│   14:   bucket = aws_s3_bucket.log.id",
        '│ A managed resource "aws_s3_bucket" "log" has not been declared in the root module.',
    ):
        assert line in excerpt


@pytest.mark.parametrize(
    ("output", "kept"),
    [
        pytest.param(  # Maven + surefire (Java)
            "[INFO] Running com.acme.CalcTest\n"
            "[ERROR] Tests run: 3, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.05 s <<< FAILURE! - in com.acme.CalcTest\n"
            "[ERROR] add(com.acme.CalcTest)  Time elapsed: 0.01 s  <<< FAILURE!\n"
            "java.lang.AssertionError: expected:<4> but was:<3>\n"
            "\tat org.junit.Assert.fail(Assert.java:89)\n"
            "\tat com.acme.CalcTest.add(CalcTest.java:12)\n"
            "[INFO] BUILD FAILURE\n"
            "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:2.22.2:test (default-test) on project calc\n",
            ["java.lang.AssertionError: expected:<4> but was:<3>", "\tat com.acme.CalcTest.add(CalcTest.java:12)"],
            id="maven",
        ),
        pytest.param(  # Gradle (Kotlin/Java)
            "> Task :test\n\nCalcTest > add() FAILED\n    org.opentest4j.AssertionFailedError at CalcTest.kt:12\n\n"
            "3 tests completed, 1 failed\n\n> Task :test FAILED\n\nFAILURE: Build failed with an exception.\n\n"
            "* What went wrong:\nExecution failed for task ':test'.\n",
            ["CalcTest > add() FAILED", "    org.opentest4j.AssertionFailedError at CalcTest.kt:12"],
            id="gradle",
        ),
        pytest.param(  # npm + Jest (JavaScript)
            "FAIL src/sum.test.js\n  ● sum › adds 1 + 2 to equal 3\n\n    expect(received).toBe(expected) // Object.is equality\n\n"
            "    Expected: 3\n    Received: 4\n\n      at Object.<anonymous> (src/sum.test.js:4:20)\n\n"
            "Tests:       1 failed, 4 passed, 5 total\nnpm ERR! code ELIFECYCLE\nnpm ERR! errno 1\n",
            ["FAIL src/sum.test.js", "    Expected: 3", "    Received: 4", "npm ERR! code ELIFECYCLE"],
            id="jest",
        ),
        pytest.param(  # go test
            "=== RUN   TestAdd\n--- FAIL: TestAdd (0.00s)\n    calc_test.go:9: Add(1, 2) = 4; want 3\nFAIL\nFAIL\tgithub.com/acme/calc\t0.002s\n",
            ["--- FAIL: TestAdd (0.00s)", "    calc_test.go:9: Add(1, 2) = 4; want 3"],
            id="go",
        ),
        pytest.param(  # cargo (Rust)
            "   Compiling calc v0.1.0 (/home/runner/work/calc)\nerror[E0425]: cannot find value `y` in this scope\n"
            " --> src/main.rs:3:20\n  |\n3 |     println!(\"{}\", y);\n  |                    ^ not found in this scope\n\n"
            "error: could not compile `calc` due to previous error\n",
            ["error[E0425]: cannot find value `y` in this scope", " --> src/main.rs:3:20", "error: could not compile `calc` due to previous error"],
            id="cargo",
        ),
        pytest.param(  # RSpec (Ruby)
            "Failures:\n\n  1) Calc adds numbers\n     Failure/Error: expect(Calc.add(1, 2)).to eq(4)\n\n"
            "       expected: 4\n            got: 3\n\n     # ./spec/calc_spec.rb:5:in `block (2 levels) in <top (required)>'\n\n"
            "Finished in 0.01 seconds\n3 examples, 1 failure\n",
            ["     Failure/Error: expect(Calc.add(1, 2)).to eq(4)", "       expected: 4", "            got: 3"],
            id="rspec",
        ),
        pytest.param(  # dotnet (C#)
            "  Calc -> /src/bin/Calc.dll\nCalcTests.cs(12,9): error CS0103: The name 'y' does not exist in the current context [/src/Calc.csproj]\n"
            "Build FAILED.\n",
            ["CalcTests.cs(12,9): error CS0103: The name 'y' does not exist in the current context [/src/Calc.csproj]"],
            id="dotnet",
        ),
        pytest.param(  # make + gcc (C)
            "gcc -Wall -Werror -c calc.c -o calc.o\ncalc.c: In function 'add':\ncalc.c:3:12: error: 'y' undeclared (first use in this function)\n"
            "    3 |     return y;\n      |            ^\nmake: *** [Makefile:4: calc.o] Error 1\n",
            ["calc.c:3:12: error: 'y' undeclared (first use in this function)", "make: *** [Makefile:4: calc.o] Error 1"],
            id="make",
        ),
    ],
)
def test_distill_keeps_each_tools_failure(output: str, kept: list[str]) -> None:
    excerpt = distill(failed_command("ci/test.sh", output), budget=1024)
    for line in kept:
        assert line.strip() in excerpt
    assert "uploading cache" not in excerpt  # what ran after the failure explains nothing


def test_distill_prefers_real_errors_to_look_alikes() -> None:
    look_alikes = (
        "gcc -Wall -Werror -c errors.c -o errors.o\n"
        "export PROVE_OPTS=--state=failed,slow,save\n"
        "test_error_handling ... ok\n"
        "Ran 12 tests: 0 failures, 0 errors\n"
    )
    log = failed_command("ci/test.sh", look_alikes * 5 + ci_noise(30, start=600) + "Segmentation fault (core dumped)\n", code=139)
    excerpt = distill(log, budget=600)
    assert "Segmentation fault (core dumped)" in excerpt
    for look_alike in ("-Werror", "--state=failed", "test_error_handling", "0 failures"):
        assert look_alike not in excerpt


def test_distill_keeps_a_traceback_with_its_frames_in_order() -> None:
    excerpt = distill(failed_command("python -m app", TRACEBACK), budget=600)
    frames = ["Traceback (most recent call last):", 'File "/home/runner/work/app/main.py", line 3, in <module>', "import foobar", MISSING]
    positions = [excerpt.index(frame) for frame in frames]
    assert positions == sorted(positions)


def test_distill_removes_the_indentation_kept_lines_share() -> None:
    block = "".join(" " * 30 + line + "\n" for line in TRACEBACK.splitlines())
    excerpt = distill(noise(100) + "\n" + block + "\n" + noise(10, start=500), budget=4096)
    assert "\nTraceback (most recent call last):\n" in "\n" + excerpt + "\n"
    assert '\n  File "/home/runner/work/app/main.py", line 3, in <module>\n    import foobar\n' in excerpt


def test_distill_survives_binary_garbage_and_huge_lines() -> None:
    garbage = bytes(range(256)) * 4000 + b"\n" + bytes(b for b in range(256) if b != 10) * 4000 + b"\n"
    raw = garbage * 3 + b"ERROR: payload " + b"x" * 5_000_000 + b"\n" + garbage + TRACEBACK.encode() + b"\xff\xfe\x00" * 1000 + b"\n"
    for budget in (100, 1024, 4096):
        assert len(distill(raw, budget=budget).encode()) <= budget
    assert "ModuleNotFoundError: No module named 'foobar'" in distill(raw)


def test_distill_cuts_a_huge_line_to_half_the_budget() -> None:
    excerpt = distill(noise(20) + "ERROR: payload " + "x" * 5_000_000 + "\n" + noise(3, start=50), budget=4096)
    line = next(line for line in excerpt.split("\n") if line.startswith("ERROR: payload xxx"))
    assert line.endswith(" [...]") and len(line.encode()) <= 2048


def test_distill_of_a_log_with_a_single_line_longer_than_the_budget() -> None:
    assert len(distill("E" * 10_000, budget=200).encode()) <= 200
    assert distill("x" * 10_000, budget=10) == ""


# --- distill with the last green log ------------------------------------------------------


def ci_run(run: int, failure: str = "") -> str:
    """One run of a job: the same lines each run but for numbers, paths, hashes and timestamps."""
    stamp = f"2024-05-{run:02d}T12:{run:02d}:07.{run}Z"
    return (
        f"{stamp} $ pip install -r requirements.txt\n"
        f"{stamp} WARNING: the cache at /tmp/run-{run}/pip is not writable; caching is disabled\n"
        f"{stamp} DEPRECATION: legacy-{run}.{run}.tar.gz uses setup.py install, which is deprecated\n"
        f"{stamp} Successfully built {run:07x}abc\n"
        + noise(40, start=run * 100)
        + f"{stamp} $ pytest -q\n"
        + failure
        + f"{stamp} ERROR: could not upload coverage to https://codecov.example/{run}: 503\n"
    )


def test_green_log_drops_the_lines_a_green_run_has_too() -> None:
    red = ci_run(7, PYTEST_FAILURE)
    green = ci_run(3, "========================= 3 passed in 0.10s ==========================\n")
    without = distill(red, budget=4096)
    with_green = distill(red, budget=4096, green=green)
    assert "could not upload coverage" in without and "WARNING: the cache at" in without
    assert "could not upload coverage" not in with_green  # fails on green runs too: not why this one failed
    assert "WARNING: the cache at" not in with_green and "DEPRECATION" not in with_green
    assert "compiling module_" not in with_green
    for line in ("FAILED tests/test_calc.py::test_add - assert 3 == 4", "E       assert 3 == 4", "tests/test_calc.py:7: AssertionError"):
        assert line in with_green


def test_green_log_may_be_bytes_text_or_clean_lines() -> None:
    red = ci_run(7, PYTEST_FAILURE)
    green = ci_run(3)
    assert distill(red, green=green.encode()) == distill(red, green=green) == distill(red, green=clean(green))
    assert distill(red, green=None) == distill(red)


def test_green_log_identical_to_the_red_one_leaves_nothing() -> None:
    red = ci_run(7, PYTEST_FAILURE)
    assert distill(red, green=red) == ""


def test_distill_keeps_the_section_a_verdict_under_a_banner_is_about() -> None:
    # Test runners that print a test's output (here a diff) and then, under a banner, its verdict.
    passing = "".join(f"PASS test {i} [tests/t{i}.phpt]\n" for i in range(40))
    diff = "========DIFF========\n003- bool(true)\n003+ bool(false)\n004- creating receive socket\n"
    failing = diff + "========DONE========\nFAIL recvmsg(): basic test [tests/recvmsg.phpt]\n"
    log = failed_command("make test", passing + failing + passing.replace("t", "u"))
    excerpt = distill(log, budget=800)
    for line in ("003- bool(true)", "003+ bool(false)", "004- creating receive socket", "FAIL recvmsg(): basic test [tests/recvmsg.phpt]"):
        assert line in excerpt


def test_distill_keeps_the_exception_that_ends_a_python_traceback_whatever_its_name() -> None:
    # Not every exception is called SomeError: the traceback's last line says what went wrong anyway.
    traceback = (
        "ERROR: Unexpected exception caught during testing\n"
        "Traceback (most recent call last):\n"
        '  File "/home/runner/work/app/client.py", line 107, in _request\n'
        "    return self._get_response()\n"
        '  File "/usr/lib/python3.6/http/client.py", line 266, in _read_status\n'
        '    raise RemoteDisconnected("Remote end closed connection without"\n'
        "http.client.RemoteDisconnected: Remote end closed connection without response\n"
    )
    excerpt = distill(failed_command("python -m app", traceback + ci_noise(20, start=700)), budget=1000)
    assert "http.client.RemoteDisconnected: Remote end closed connection without response" in excerpt


def test_distill_keeps_a_long_pytest_failure_from_its_banner() -> None:
    # A failing test's section shows its source, its locals and several frames before the exception:
    # the test's name, under the section's banner, is still part of it.
    source = "".join(f"        value_{i} = compute({i})\n" for i in range(70))
    section = (
        "=================================== FAILURES ===================================\n"
        "_______________________________ test_unsorted _________________________________\n\n"
        "    def test_unsorted():\n" + source + ">       check(value_1)\n\n"
        "tests/test_sort.py:80: in check\n"
        "    raise TypeError('could not interpret data type')\n"
        "E   TypeError: could not interpret data type\n\n"
        "tests/test_sort.py:80: TypeError\n"
    )
    excerpt = distill(ci_noise(200) + section + ci_noise(5, start=900), budget=4096)
    assert "_______________________________ test_unsorted _________________________________" in excerpt
    assert "E   TypeError: could not interpret data type" in excerpt


def test_distill_reads_indentation_after_a_log_level_prefix() -> None:
    # Build tools that prefix every line with its level ("[info] ", "[error] ") indent the details
    # of a message after the prefix: they belong to the message's block.
    passing = "".join(f"[info] - test {i} works\n" for i in range(60))
    failure = (
        "[info] - an upload completes *** FAILED ***\n"
        "[info]   com.example.TimeoutException: 30.seconds\n"
        "[info]   at com.example.Promise.ready(Promise.scala:656)\n"
        "[info]   at com.example.Await.result(Await.scala:152)\n"
        "[info]   ...\n"
    )
    assert [depth(line) for line in failure.splitlines()] == [0, 2, 2, 2, 2]
    excerpt = distill(failed_command("sbt test", passing + failure + passing.replace("test", "case")), budget=1000)
    assert "[info]   com.example.TimeoutException: 30.seconds" in excerpt
    assert "[info]   at com.example.Await.result(Await.scala:152)" in excerpt


def test_distill_leaves_out_a_command_that_reported_success() -> None:
    # Between the failing command and the end of the build ran a command that said it exited with
    # 0: its scary-sounding report is not the failure's.
    report = "".join(f"[!!] Aborted connections: {i}% (check {i})\n" for i in range(40))
    log = (
        ci_noise(100) + "$ lint app.pl\nUse of -t at line 69. (Severity: 5)\nUse of -t at line 203. (Severity: 5)\n"
        'The command "lint app.pl" exited with 2.\n$ ./report\n' + report + 'The command "./report" exited with 0.\n'
        + "Done. Your build exited with 1.\n"
    )
    excerpt = distill(log, budget=400)
    assert "Use of -t at line 69. (Severity: 5)" in excerpt
    assert "Use of -t at line 203. (Severity: 5)" in excerpt


def test_distill_keeps_what_lies_between_exits_of_one_cascade() -> None:
    # A wrapper reports the exit of the command it ran, then its own error details, then the shell
    # reports the wrapper's exit: one failure, whose middle lines belong to it.
    failure = (
        "Execution of { dotnet build } by build.psm1: line 368 failed with exit code 1\n"
        "At /src/build.psm1:2038 char:17\n"
        "+                 throw $errorMessage\n"
        "+                 ~~~~~~~~~~~~~~~~~~~\n"
        "+ CategoryInfo          : OperationStopped: (build failed with exit code 1:String) [], RuntimeException\n"
        "+ FullyQualifiedErrorId : Execution of { dotnet build } by build.psm1: line 368 failed with exit code 1\n"
    )
    excerpt = distill(failed_command("pwsh -File build.ps1", failure), budget=1200)
    assert "At /src/build.psm1:2038 char:17" in excerpt
    assert "+                 throw $errorMessage" in excerpt


def test_distill_takes_unindented_at_lines_as_frames() -> None:
    failure = (
        "[-] runs all files from the local folder -> Expected and actual values differ!\n"
        "Expected: 'file1.Tests.ps1'\nActual  : 'dir/file1.Tests.ps1'\n"
        + "".join(f"at Step{i}, /src/Runtime.psm1:{100 + i}\n" for i in range(8))
        + "\nStarting the next container\n"
    )
    excerpt = distill(failed_command("pwsh -c Invoke-Tests", failure + ci_noise(40, start=900)), budget=900)
    assert "at Step7, /src/Runtime.psm1:107" in excerpt


def test_distill_treats_one_failed_test_per_line_as_routine() -> None:
    # A verbose runner lists every failed test on a line of its own before the details of the
    # first failure: the list is routine, the details are what explain it.
    listing = "".join(f"tests/test_proxy.py::test_case_{i} FAILED\n" for i in range(120))
    details = (
        "____________________ test_case_0 ____________________\n"
        "    def test_case_0(proxy):\n"
        ">       r = proxy.get('http://nginx-proxy/port')\n"
        "E       ConnectionError: HTTPConnectionPool(host='nginx-proxy', port=80): Max retries exceeded\n"
        "test_proxy.py:4: ConnectionError\n"
    )
    excerpt = distill(failed_command("pytest -v", listing + details + "=== 120 failed in 20.1s ===\n"), budget=1500)
    assert "E       ConnectionError: HTTPConnectionPool(host='nginx-proxy', port=80): Max retries exceeded".strip() in excerpt
    assert ">       r = proxy.get('http://nginx-proxy/port')".strip() in excerpt


def test_distill_keeps_a_list_of_what_failed_at_the_end_of_a_command() -> None:
    # A checker prints a long listing of what it checked (under a line that mentions errors), then
    # the list of problems, one of which says "Failed": the problems are the failure.
    checked = "".join(f"  {i:04d}. https://example.org/page/{i}\n" for i in range(1, 400))
    problems = "Issues :-(\n> Links\n" + "".join(
        f"  {i:02d}. [L{i * 7:04d}] 301 https://example.org/old/{i}  → https://example.org/new/{i}\n" for i in range(1, 13)
    ) + "  13. [L0555]  https://gone.example Failed to open TCP connection to gone.example:443\n> Dupes\n  None ✓\n"
    log = failed_command("link_check README.md", "> Will allow SSL errors\nLinks to check: 399\n" + checked + problems)
    excerpt = distill(log, budget=2500)
    kept = [line for line in problems.splitlines() if line.strip() in {k.strip() for k in excerpt.splitlines()}]
    assert len(kept) >= 0.8 * len(problems.splitlines())
    assert "0300. https://example.org/page/300" not in excerpt


def test_distill_keeps_compiler_diagnostics_behind_an_error_level_prefix() -> None:
    # sbt prefixes every line of a failed compilation with "[error]": the lines that point at a
    # source location are the diagnostics, the rest their code excerpts.
    diagnostics = "".join(
        f"[error] /src/main/scala/app/Module{i}.scala:{10 + i}:8: value withMdc is not a member of Logger\n"
        f"[error]         val l{i} = context.log.withMdc(mdc, {i})\n"
        f"[error]                             ^\n"
        for i in range(40)
    )
    excerpt = distill(failed_command("sbt compile", diagnostics + "[error] 40 errors found\n"), budget=1500)
    # Most code excerpts kept come with their diagnostic (taken for routine logging, only a few did).
    located = sum(".scala:" in line for line in excerpt.splitlines())
    code = sum("context.log.withMdc" in line for line in excerpt.splitlines())
    assert located >= 8 and located >= code - 2


def test_distill_keeps_a_line_marked_with_a_cross() -> None:
    # xcpretty and many JavaScript tools mark a failure with ❌ and no error word.
    line = "❌  /src/App.swift:47:19: 'value' is inaccessible due to 'internal' protection level"
    progress = "".join(f"▸ Compiling File{i}.swift\n" for i in range(60))
    excerpt = distill(failed_command("xcodebuild test | xcpretty", progress + line + "\n" + progress.replace("File", "Other")), budget=300)
    assert line in excerpt


@pytest.mark.parametrize(
    "line",
    [
        "  06. [L1623] 404 https://www.example.org/gone",
        "[503] https://status.example.org/api",
        "GET https://registry.example.org/v2/app/manifests/latest 502",
        "< HTTP/1.1 429 Too Many Requests",
    ],
)
def test_an_http_error_status_is_evidence_of_a_failure(line: str) -> None:
    assert evidence(line)[1] >= 2


@pytest.mark.parametrize(
    "line",
    [
        "  401 https://github.com/example/project",  # the 401st link a checker lists, not a status
        "Downloading https://files.example.org/pkg-404.tar.gz",
        "< HTTP/1.1 200 OK",
    ],
)
def test_numbers_near_a_url_are_not_an_http_error(line: str) -> None:
    assert evidence(line)[1] == 0


def test_distill_keeps_the_whole_list_of_what_failed_when_it_runs_above_the_tail() -> None:
    # A link checker's report: 18 problems (most of them redirects, which carry no error word),
    # then a few closing lines: the list is longer than the tail, its one error word is above the
    # tail, and all of it is the failure.
    checked = "".join(f"  {i:04d}. https://example.org/page/{i}\n" for i in range(1, 400))
    problems = "Issues :-(\n> Links\n" + "".join(
        f"  {i:02d}. [L{i * 7:04d}] {404 if i == 2 else 301} https://example.org/old/{i}  → https://example.org/new/{i}\n"
        for i in range(1, 19)
    ) + "> Dupes\n  None ✓\n\n" + "".join(f"Wrote results to results-{k}.json\n" for k in range(3))
    log = failed_command("link_check README.md", "Links to check: 399\n" + checked + problems)
    excerpt = {line.strip() for line in distill(log, budget=1750).splitlines()}
    assert all(f"https://example.org/old/{i} " in " ".join(excerpt) for i in range(1, 19))
    assert "Issues :-(" in excerpt


def test_a_long_log_of_checks_is_not_a_list_of_failures() -> None:
    # cmake's configure output: a hundred and twenty "-- Looking for x" lines, a few of them "not
    # found", ending in the tail: a log of checks, not a list of what failed. Only the tail and
    # the failed checks score; the checks far above them do not.
    checks = "".join(f"-- Looking for header{i}.h - {'not found' if i in (0, 50, 110) else 'found'}\n" for i in range(120))
    lines = clean(failed_command("cmake ..", checks + "-- Configuring incomplete, errors occurred!\n"))
    scores = Scorer(lines, set()).run()
    far = lines.index("-- Looking for header75.h - found")
    assert far not in scores
    assert lines.index("-- Looking for header110.h - not found") in scores
    assert lines.index("-- Looking for header119.h - found") in scores  # the tail


def test_the_logchunks_bench_reports_the_targets_it_misses() -> None:
    from bench.logchunks import missed_targets

    def summary(mean: float, good: float) -> list[dict[str, object]]:
        return [{"half": "dev", "ours_4096_mean": 0.99, "ours_4096_good": 0.99}, {"half": "all", "ours_4096_mean": mean, "ours_4096_good": good}]

    assert missed_targets(summary(0.90, 0.86)) == []
    assert missed_targets(summary(0.894, 0.837)) == ["logs at recall >= 0.8 at 4 KB 83.7% < 85%"]
    assert len(missed_targets(summary(0.80, 0.70))) == 2


def test_the_logchunks_bench_reports_the_strict_figures_next_to_the_targets_it_meets() -> None:
    from bench.logchunks import targets_met

    every = {"half": "all", "ours_4096_mean": 0.915, "ours_4096_good": 0.871, "ours_strict_4096_mean": 0.894, "ours_strict_4096_good": 0.837}
    said = targets_met([every])
    assert "mean 0.915, 87.1% of logs" in said and "Strict (whole lines only): mean 0.894, 83.7% of logs" in said


def test_the_logchunks_recall_counts_a_line_the_label_cut_only_with_the_line_it_was_cut_from() -> None:
    # LogChunks labels are ranges of characters: this one starts inside "--- FAIL: TestSum (0.01s)"
    # and ends inside "FAIL\tgithub.com/x/y\t0.02s".
    from bench.logchunks import Chunk, recall

    log = ["=== RUN   TestSum", "--- FAIL: TestSum (0.01s)", "    sum_test.go:9: got 3, want 4", "FAIL\tgithub.com/x/y\t0.02s", "exit 1"]
    row = {"failure_chunk": "FAIL: TestSum (0.01s)\n    sum_test.go:9: got 3, want 4\nFAIL\tgithub.com", "chunk_start_line": 2, "chunk_end_line": 4}
    chunk = Chunk.of(row, log)
    assert chunk.lines == ["FAIL: TestSum (0.01s)", "sum_test.go:9: got 3, want 4", "FAIL\tgithub.com"]
    assert recall(chunk, "\n".join(log[1:4])) == 1.0
    assert recall(chunk, "\n".join(log[1:4]), strict=True) == 1 / 3  # only the middle line is whole
    # The fragment ending another line, or starting one, is not the line it was cut from.
    assert recall(chunk, "x --- FAIL: TestSum (0.01s)\nsum_test.go:9: got 3, want 4\nFAIL\tgithub.com/z") == 1 / 3
    # A label that starts at the beginning of a line: its first line must be whole.
    whole = Chunk.of({**row, "failure_chunk": "\n    sum_test.go:9: got 3, want 4"}, log)
    assert whole.first_cut_from is None and whole.last_cut_from is None
    assert recall(whole, "sum_test.go:9: got 3, want 4 and more") == 0.0
