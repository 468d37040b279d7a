"""The LLM engine's pure half: answers become patches or precise corrections, context fits its
budget and points at the right files, prices and prompts come from their files."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import Category, Engine, TriedFix, Usage
from models import TestReport as Report
from specialists.llm.answer import FIX_TOOLS, AnswerError, Edit, Proposal, apply_edits, parse, to_diagnosis
from specialists.llm.context import assemble, environment_drift, estimate_tokens, naive_prompt, referenced_paths
from specialists.llm.pricing import PriceError, load_prices, price_of
from specialists.llm.prompts import load
from specialists.repo_view import RepoView

FILES = {
    "app/core.py": "import json\n\n\ndef load(path):\n    return json.loads(open(path).read())\n",
    "tests/test_core.py": "from app.core import load\n",
    "requirements.txt": "requests==2.31.0\n",
}


def proposal(edits: list[Edit], escalate: str | None = None) -> Proposal:
    return Proposal(hypothesis="h", category=Category.LOGIC, rationale="r", confidence=0.5, edits=edits, escalate=escalate)


def test_edits_become_a_cumulative_patch_over_the_view() -> None:
    view = RepoView(FILES)
    patch = apply_edits(view, [Edit(path="app/core.py", old="open(path).read()", new="Path(path).read_text()"),
                               Edit(path="app/core.py", old="import json\n", new="import json\nfrom pathlib import Path\n"),
                               Edit(path="constraints.txt", old="", new="urllib3<3\n")])
    changed = {c.path: c.content for c in patch.changes}
    assert changed["app/core.py"] == "import json\nfrom pathlib import Path\n\n\ndef load(path):\n    return json.loads(Path(path).read_text())\n"
    assert changed["constraints.txt"] == "urllib3<3\n"
    assert "+from pathlib import Path" in patch.diff and "--- /dev/null" in patch.diff


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (Edit(path="app/core.py", old="json.load(", new="x"), "does not occur in app/core.py"),
        (Edit(path="app/core.py", old="json", new="x"), "occurs 2 times"),
        (Edit(path="app/missing.py", old="a", new="b"), "app/missing.py does not exist"),
        (Edit(path="requirements.txt", old="", new="x"), "already exists"),
        (Edit(path="../etc/passwd", old="", new="x"), "not a path inside the repository"),
        (Edit(path="/etc/passwd", old="", new="x"), "not a path inside the repository"),
        (Edit(path="app/core.py", old="import json", new="import json"), "change nothing"),
    ],
)
def test_an_edit_that_cannot_apply_says_what_to_correct(edit: Edit, says: str) -> None:
    with pytest.raises(AnswerError, match=says):
        apply_edits(RepoView(FILES), [edit])


def test_no_edits_needs_a_reason_and_then_is_an_escalation() -> None:
    with pytest.raises(AnswerError, match="no edits and no `escalate`"):
        to_diagnosis(proposal([]), RepoView(FILES), specialist="llm")
    diagnosis = to_diagnosis(proposal([], escalate="a real bug: the function returns the wrong total"), RepoView(FILES), specialist="llm")
    assert diagnosis.patch is None and diagnosis.engine == Engine.LLM and "wrong total" in (diagnosis.escalate_reason or "")


def test_a_schema_violation_names_the_fields() -> None:
    with pytest.raises(AnswerError) as err:
        parse(Proposal, {"hypothesis": "x", "confidence": 7, "category": "weather"})
    message = str(err.value)
    assert "confidence" in message and "category" in message and "rationale" in message


def test_the_tool_schema_is_the_pydantic_schema() -> None:
    [fix] = FIX_TOOLS
    assert fix["name"] == "propose_fix"
    assert set(fix["input_schema"]["required"]) >= {"hypothesis", "category", "rationale", "confidence"}


def test_traceback_frames_map_sandbox_paths_to_repository_files() -> None:
    view = RepoView(FILES)
    log = (
        'File "/tmp/greenline-build-1x/src/app/core.py", line 5, in load\n'
        'File "/workspace/.greenline/venv/lib/python3.11/site-packages/requests/api.py", line 9\n'
        "tests/test_core.py:1: in <module>\n"
    )
    assert referenced_paths(view, log) == [("app/core.py", 5), ("tests/test_core.py", 1)]


def test_environment_drift_against_the_last_green_build() -> None:
    log = ["Successfully installed charset-normalizer-3.3.2 requests-2.32.0 urllib3-2.2.1",
           "Requirement already satisfied: idna in ./venv/lib/python3.11/site-packages (3.7)"]
    green = "requests==2.31.0\nurllib3==2.2.1\nidna==3.6\n"
    drift = environment_drift(green, log)
    assert "requests: 2.31.0 (last green) -> 2.32.0 (failing)" in drift
    assert "idna: 3.6 (last green) -> 3.7 (failing)" in drift
    assert "urllib3" not in drift and "charset-normalizer: new in the failing build" in drift


def test_context_stays_within_its_budget_by_showing_windows_of_big_files() -> None:
    big = "".join(f"def f{i}():\n    return {i}\n" for i in range(3000))
    view = RepoView({**FILES, "app/big.py": big})
    excerpt = 'Traceback:\n  File "/workspace/app/big.py", line 4000, in f1999\nValueError: bad'
    kwargs = dict(cmd="pytest", excerpt=excerpt, tests=Report(collected=3, failed=1, failed_ids=["tests/test_core.py::t"]),
                  tried=[TriedFix(summary="pin requests", diff="+requests<2.32\n", outcome="rebuild still fails")],
                  known_good_env=None, log_lines=[], rules_said="no playbook recognises this failure", allow_source_changes=False)
    context = assemble(view, budget_tokens=6000, **kwargs)  # type: ignore[arg-type]
    assert context.tokens <= 6000
    assert "app/big.py" in context.files and "    return 1999" in context.task and "    return 10\n" not in context.task
    assert "pin requests" in context.task and "rebuild still fails" in context.task
    assert "do not edit source files" in context.task and "no playbook recognises" in context.task
    roomy = assemble(view, budget_tokens=200_000, **kwargs)  # type: ignore[arg-type]
    assert "    return 10\n" in roomy.task  # the whole file when it fits
    assert context.overview == roomy.overview  # the cached prefix does not depend on the failure


def test_the_context_is_much_smaller_than_the_naive_prompt() -> None:
    log = "\n".join(f"Collecting package{i}\n  Downloading package{i}-1.0.tar.gz" for i in range(3000)) + "\nModuleNotFoundError: No module named 'yaml'\n"
    view = RepoView(FILES)
    context = assemble(view, cmd="pytest", excerpt="ModuleNotFoundError: No module named 'yaml'", tests=None, tried=[], known_good_env=None,
                       log_lines=log.splitlines(), rules_said=None, allow_source_changes=False, budget_tokens=24_000)
    assert context.tokens * 10 < estimate_tokens(naive_prompt(view, log))


def test_prices_match_dated_model_ids_and_an_operator_file_adds_models(tmp_path: Path) -> None:
    table = load_prices()
    assert price_of("claude-sonnet-4-6", table).input == 3.0
    assert price_of("claude-haiku-4-5-20251001", table).output == 5.0
    with pytest.raises(PriceError, match="GREENLINE_LLM_PRICES"):
        price_of("my-gateway-model", table)
    extra = tmp_path / "prices.toml"
    extra.write_text('[models."my-gateway-model"]\ninput = 1\noutput = 2\ncache_write = 1.25\ncache_read = 0.1\n')
    price = price_of("my-gateway-model", load_prices(extra))
    assert price.cost(Usage(input_tokens=1_000_000, output_tokens=500_000, cache_read_tokens=1_000_000)) == pytest.approx(2.1)
    extra.write_text('[models."broken"]\ninput = "free"\n')
    with pytest.raises(PriceError, match="cannot read the price table"):
        load_prices(extra)


def test_prompts_are_versioned_files_and_a_missing_field_is_an_error() -> None:
    task = load("fixer-task")
    assert task.id.startswith("fixer-task.v") and "$excerpt" in task.text
    with pytest.raises(KeyError):
        task.render(cmd="pytest")
    assert "$HOME" in load("security-task").render(summary="s", diff="+echo $HOME\n")  # values go in verbatim
