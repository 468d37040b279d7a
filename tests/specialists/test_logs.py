"""Build logs: cleaning, distilling and fingerprinting."""

from __future__ import annotations

from specialists.logs import clean, distill, error_lines, signature

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
