"""The upstream-release specialist on a real failing build's log and freeze (flask 2.2.2 with
werkzeug 3.1.9, recorded with real pip and pytest), with a table standing in for the index."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from models import Category
from specialists import router, upstream_release
from specialists.python_deps import Provider
from specialists.releases import Release
from specialists.repo_view import RepoView

DATA = Path(__file__).parent / "data" / "upstream"
LOG = (DATA / "flask-werkzeug3.log").read_text()
FREEZE = (DATA / "flask-werkzeug3.freeze").read_text()
CMD = "pip install -q -r requirements.txt && python -m pytest -q"
REQUIREMENTS = "# The shop's framework and test runner.\nflask==2.2.2\npytest==8.3.4\n"


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# A slice of the real histories (versions and upload days as PyPI has them).
HISTORY = {
    "werkzeug": [
        Release("2.2.1", _day("2022-07-27")),
        Release("2.2.2", _day("2022-08-08")),
        Release("2.2.3", _day("2023-02-14")),
        Release("2.3.0", _day("2023-04-25")),
        Release("2.3.8", _day("2023-11-08")),
        Release("3.0.0", _day("2023-09-30")),
        Release("3.0.1rc1", _day("2023-10-20")),
        Release("3.1.0", _day("2024-11-01")),
        Release("3.1.9", _day("2025-01-01")),
    ],
    "flask": [Release("2.2.2", _day("2022-08-08")), Release("2.3.3", _day("2023-08-21")), Release("3.0.0", _day("2023-09-30")), Release("3.1.0", _day("2024-11-13"))],
}
REQUIRES = {
    ("flask", "2.2.2"): ["Werkzeug (>=2.2.2)", "Jinja2 (>=3.0)", 'importlib-metadata (>=3.6.0) ; python_version < "3.10"'],
    ("flask", "2.3.3"): ["Werkzeug>=2.3.7"],
    ("flask", "3.0.0"): ["Werkzeug>=3.0.0", "Jinja2>=3.1.2"],
    ("flask", "3.1.0"): ["Werkzeug>=3.1"],
}


def history(project: str) -> list[Release] | None:
    return HISTORY.get(project)


def requires(project: str, version: str) -> list[str] | None:
    return REQUIRES.get((project, version))


def resolve(module: str) -> Provider | None:
    return {"werkzeug": Provider("Werkzeug", "3.1.9"), "flask": Provider("Flask", "3.1.0")}.get(module)


def diagnoses(view: RepoView, log: str = LOG, environment: str | None = FREEZE, known_good_env: str | None = None) -> list:
    from specialists.logs import clean

    return list(
        upstream_release.diagnose(
            view, clean(log), CMD, resolve_import=resolve, release_history=history, requires_dist=requires,
            environment=environment, known_good_env=known_good_env,
        )
    )


def changed(diagnosis) -> str:  # noqa: ANN001 (a Diagnosis)
    assert diagnosis.patch is not None, diagnosis.escalate_reason
    (change,) = diagnosis.patch.changes
    return change.content


def test_the_failure_names_the_upstream_module_and_the_calling_frames() -> None:
    from specialists.logs import clean

    failure = upstream_release.api_failure(clean(LOG))
    assert failure is not None
    assert failure.module == "werkzeug.urls"
    assert failure.frames == ["flask", "flask"]


def test_candidates_bound_the_upstream_then_upgrade_the_downstream_then_go_older() -> None:
    found = diagnoses(RepoView({"requirements.txt": REQUIREMENTS}))
    assert [d.category for d in found] == [Category.DEPENDENCY] * 4
    first, upgrade, older, oldest = found
    # The house style pins exactly: the bound is the newest release below 3.0.0.
    assert changed(first) == REQUIREMENTS + "werkzeug==2.3.8\n"
    assert "werkzeug 3.0.0 (uploaded 2023-09-30)" in first.summary and "flask 2.2.2" in first.summary
    assert "the failing build installed werkzeug 3.1.9 and flask 2.2.2" in first.evidence
    assert changed(upgrade) == REQUIREMENTS.replace("flask==2.2.2", "flask==3.0.0")  # the first flask that requires werkzeug 3
    assert changed(older) == REQUIREMENTS + "werkzeug==2.2.3\n"  # below the 2.3 series
    assert changed(oldest) == REQUIREMENTS + "werkzeug==2.2.2\n"  # flask 2.2.2's own floor; nothing older is proposed
    assert first.confidence > older.confidence > oldest.confidence


def test_a_file_that_does_not_pin_gets_an_upper_bound() -> None:
    text = "flask>=2.2\npytest\n"
    first = diagnoses(RepoView({"requirements.txt": text}))[0]
    assert changed(first) == text + "werkzeug<3.0.0\n"


def test_a_declared_upstream_is_bounded_in_place_and_a_constraints_file_is_preferred() -> None:
    text = "flask==2.2.2\nwerkzeug>=2.2  # transitive, kept explicit\n"
    first = diagnoses(RepoView({"requirements.txt": text}))[0]
    assert changed(first) == "flask==2.2.2\nwerkzeug>=2.2,<3.0.0  # transitive, kept explicit\n"
    view = RepoView({"requirements.txt": "flask==2.2.2\n", "constraints.txt": "# pins\n"})
    from specialists.logs import clean

    found = list(upstream_release.diagnose(view, clean(LOG), "pip install -r requirements.txt -c constraints.txt", resolve_import=resolve, release_history=history, requires_dist=requires, environment=FREEZE))
    assert found[0].patch is not None and found[0].patch.paths == ["constraints.txt"]
    assert changed(found[0]) == "# pins\nwerkzeug<3.0.0\n"


def test_the_last_green_environment_names_the_breaking_release_exactly() -> None:
    good = FREEZE.replace("Werkzeug==3.1.9", "Werkzeug==2.3.8")
    first = diagnoses(RepoView({"requirements.txt": "flask==2.2.2\n"}), known_good_env=good)[0]
    assert changed(first) == "flask==2.2.2\nwerkzeug==2.3.8\n"
    assert "the last green build had werkzeug 2.3.8" in first.evidence
    assert first.confidence == 0.85


def test_installed_versions_come_from_pip_when_there_is_no_freeze() -> None:
    log = "Successfully installed Flask-2.2.2 Werkzeug-3.1.9 click-8.1.7\n" + LOG
    assert changed(diagnoses(RepoView({"requirements.txt": REQUIREMENTS}), log=log, environment=None)[0]).endswith("werkzeug==2.3.8\n")
    (escalation,) = diagnoses(RepoView({"requirements.txt": REQUIREMENTS}), environment=None)
    assert escalation.patch is None and "which version the failing build installed is unknown" in (escalation.escalate_reason or "")


def test_module_attribute_errors_raised_in_third_party_frames() -> None:
    log = """\
Traceback (most recent call last):
  File "/app/main.py", line 3, in <module>
    import report
  File "/usr/local/lib/python3.11/site-packages/report/__init__.py", line 9, in <module>
    DTYPE = numpy.float
AttributeError: module 'numpy' has no attribute 'float'
"""
    numpy = [Release("1.23.5"), Release("1.24.0"), Release("1.26.4"), Release("2.0.0"), Release("2.1.0")]
    found = list(
        upstream_release.diagnose(
            RepoView({"requirements.txt": "report\n"}), log.splitlines(), "pip install -r requirements.txt",
            resolve_import=lambda m: None, release_history=lambda p: {"numpy": numpy, "report": [Release("1.0")]}.get(p),
            requires_dist=lambda p, v: None, environment="numpy==2.1.0\nreport==1.0\n",
        )
    )
    assert [changed(d).splitlines()[-1] for d in found] == ["numpy<2.0.0", "numpy<1.26.4", "numpy<1.24.0"]


def test_errors_of_the_builds_own_code_are_not_upstream_releases() -> None:
    own_type_error = """\
tests/test_calc.py:7: in test_add
    add(1, 2, 3)
E   TypeError: add() takes 2 positional arguments but 3 were given
"""
    assert diagnoses(RepoView({"requirements.txt": REQUIREMENTS}), log=own_type_error) == []
    local = "E   ImportError: cannot import name 'helper' from 'shop.utils' (/src/shop/utils.py)\n"
    assert diagnoses(RepoView({"requirements.txt": REQUIREMENTS, "shop/utils.py": ""}), log=local) == []
    stdlib = "E   ImportError: cannot import name 'getargspec' from 'inspect' (/usr/lib/python3.11/inspect.py)\n"
    assert diagnoses(RepoView({"requirements.txt": REQUIREMENTS}), log=stdlib) == []


def test_a_type_error_raised_inside_a_package_blames_it_and_its_caller() -> None:
    log = """\
  File "/work/app.py", line 4, in main
    client = make_client()
  File "/venv/lib/python3.11/site-packages/flask/app.py", line 10, in make_client
    return werkzeug_thing(proxies=None)
  File "/venv/lib/python3.11/site-packages/werkzeug/test.py", line 20, in werkzeug_thing
    raise TypeError("unexpected keyword argument 'proxies'")
TypeError: unexpected keyword argument 'proxies'
"""
    first = diagnoses(RepoView({"requirements.txt": REQUIREMENTS}), log=log)[0]
    assert changed(first).endswith("werkzeug==2.3.8\n") and "flask 2.2.2 fails" in first.summary


def test_the_router_hands_the_failure_to_the_specialist_before_the_missing_module_one() -> None:
    view = RepoView({"requirements.txt": REQUIREMENTS})
    diagnosis = router.diagnose(view, LOG, CMD, resolve_import=resolve, release_history=history, requires_dist=requires, environment=FREEZE)
    assert diagnosis.specialist == upstream_release.NAME and changed(diagnosis).endswith("werkzeug==2.3.8\n")
    # Without the index, the specialist stands aside and the failure escalates.
    assert router.diagnose(view, LOG, CMD, resolve_import=resolve).patch is None
