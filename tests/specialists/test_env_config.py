"""The environment specialist: a variable the build reads is unset, a template has its value."""

from __future__ import annotations

from models import Category
from specialists.env_config import diagnose, env_targets, looks_secret, missing_variables, parse_env
from specialists.repo_view import RepoView

ENVIRON_TRACEBACK = """\
_________________________________ test_settings _________________________________

    def test_settings():
>       url = os.environ["DATABASE_URL"]

tests/test_settings.py:4:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
/usr/lib/python3.11/os.py:679: in __getitem__
    raise KeyError(key) from None
E   KeyError: 'DATABASE_URL'
""".splitlines()

TEMPLATE = """\
# Copy to .env and fill in.
APP_MODE=development
GREETING='hello world'
DATABASE_URL=redis://cache:6379/0
API_TOKEN=changeme
WEBHOOK_URL=<your webhook>
"""


def unset(name: str) -> list[str]:
    return [f"RuntimeError: environment variable {name} is not set"]


# --- reading the log -----------------------------------------------------------------------


def test_pytest_keyerror_with_an_environ_frame_counts() -> None:
    assert missing_variables(ENVIRON_TRACEBACK) == ["DATABASE_URL"]
    assert missing_variables(["    token = os.getenv('X') or os.environ['SERVICE_HOST']", "KeyError: 'SERVICE_HOST'"]) == ["SERVICE_HOST"]


def test_a_bare_keyerror_on_a_dict_does_not_count() -> None:
    lines = ["    value = config['DATABASE_URL']", "E   KeyError: 'DATABASE_URL'"]
    assert missing_variables(lines) == []
    assert missing_variables(["KeyError: 'name'", "os.environ"]) == []  # not a variable name


def test_not_set_messages_in_the_usual_wordings() -> None:
    lines = [
        "RuntimeError: environment variable APP_MODE is not set",
        "error: REDIS_HOST is not set",
        "missing required environment variable: FOO_BAR",
        "Error: BAZ_QUX must be set",
        "error: REDIS_HOST is not set",
    ]
    assert missing_variables(lines) == ["APP_MODE", "REDIS_HOST", "FOO_BAR", "BAZ_QUX"]


def test_parse_env_reads_dotenv_syntax() -> None:
    text = "# comment\nexport A=1\nB='two words'\nC=\"q\" \nD=x # trailing\nE=\nnot a pair\nF=a=b\n  G = spaced  \n"
    assert parse_env(text) == {"A": "1", "B": "two words", "C": "q", "D": "x", "E": "", "F": "a=b", "G": "spaced"}


def test_looks_secret_by_name_and_by_entropy() -> None:
    for name in ("GITHUB_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "STRIPE_API_KEY", "SENTRY_DSN", "SIGNING_KEY"):
        assert looks_secret(name, "x"), name
    assert looks_secret("SALT", "aZ9$kq!2Lm@7Pw#4Xv%8Rt^1")
    assert not looks_secret("APP_MODE", "development")
    assert not looks_secret("BASE_URL", "https://api.example.com/v1/resources")
    assert not looks_secret("MONKEY", "banana")
    assert not looks_secret("DATABASE_URL", "postgres://db:5432/app_test_database")
    assert looks_secret("DATABASE_URL", "postgres://app:hunter2@db:5432/app")
    assert looks_secret("UPLOAD_REF", "ghp_AbC123dEf456GhI789jKl012MnO345pQr678")


def test_env_targets_are_the_env_files_the_command_loads() -> None:
    view = RepoView({".env.example": "A=1\n"})
    assert env_targets(view, "set -a && . ./.env.ci && set +a && pytest") == [".env.ci"]
    assert env_targets(view, "dotenv -f config/app.env run -- pytest") == ["config/app.env"]
    assert env_targets(view, "ENV_FILE=.env.test pytest") == [".env.test"]
    assert env_targets(view, "env $(cat .env.example) pytest") == []  # a template is never a target
    assert env_targets(view, "pytest") == []
    assert env_targets(RepoView({}, subdir="svc"), "source .env.test && pytest") == ["svc/.env.test"]


# --- diagnose ------------------------------------------------------------------------------


def test_adds_the_template_value_to_the_env_file_the_command_loads() -> None:
    view = RepoView({".env.example": TEMPLATE, ".env.ci": "EXISTING=1"})
    [diagnosis] = diagnose(view, ["    os.environ['APP_MODE']", "E   KeyError: 'APP_MODE'"], "set -a && . ./.env.ci && set +a && pytest")
    assert diagnosis.category is Category.ENVIRONMENT and diagnosis.escalate_reason is None
    assert diagnosis.patch is not None
    [change] = diagnosis.patch.changes
    assert (change.path, change.content) == (".env.ci", "EXISTING=1\nAPP_MODE=development\n")
    assert "+APP_MODE=development" in diagnosis.patch.diff
    assert "E   KeyError: 'APP_MODE'" in diagnosis.evidence


def test_creates_dot_env_when_none_exists_and_quotes_values() -> None:
    view = RepoView({".env.example": TEMPLATE})
    [diagnosis] = diagnose(view, unset("GREETING") + unset("APP_MODE"), "pytest")
    assert diagnosis.patch is not None
    [change] = diagnosis.patch.changes
    assert change.path == ".env"
    assert change.content == "GREETING='hello world'\nAPP_MODE=development\n"
    assert parse_env(change.content) == {"GREETING": "hello world", "APP_MODE": "development"}
    assert "--- /dev/null" in diagnosis.patch.diff


def test_a_subdir_build_prefers_its_own_template_and_env_file() -> None:
    view = RepoView({".env.example": "APP_MODE=prod\n", "svc/.env.example": "APP_MODE=dev\n"}, subdir="svc")
    [diagnosis] = diagnose(view, unset("APP_MODE"), "pytest")
    assert diagnosis.patch is not None
    assert [(c.path, c.content) for c in diagnosis.patch.changes] == [("svc/.env", "APP_MODE=dev\n")]


def test_secret_names_and_placeholder_values_escalate_without_a_patch() -> None:
    view = RepoView({".env.example": TEMPLATE})
    for name in ("API_TOKEN", "WEBHOOK_URL", "GITHUB_TOKEN"):
        [diagnosis] = diagnose(view, unset(name), "pytest")
        assert diagnosis.patch is None, name
        assert diagnosis.escalate_reason is not None and "never invents secrets" in diagnosis.escalate_reason
        assert name in diagnosis.escalate_reason


def test_one_secret_among_several_variables_escalates_them_all() -> None:
    [diagnosis] = diagnose(RepoView({".env.example": TEMPLATE}), unset("APP_MODE") + unset("API_TOKEN"), "pytest")
    assert diagnosis.patch is None and diagnosis.escalate_reason is not None


def test_a_variable_absent_from_every_template_escalates() -> None:
    [diagnosis] = diagnose(RepoView({".env.example": TEMPLATE}), unset("FEATURE_FLAGS"), "pytest")
    assert diagnosis.patch is None
    assert diagnosis.escalate_reason == "FEATURE_FLAGS is not set and .env.example gives no value for it; set it in the CI environment"
    [diagnosis] = diagnose(RepoView({}), unset("FEATURE_FLAGS"), "pytest")
    assert diagnosis.patch is None
    assert diagnosis.escalate_reason is not None and "has no env template" in diagnosis.escalate_reason


def test_a_variable_already_in_the_env_file_escalates() -> None:
    view = RepoView({".env.example": TEMPLATE, ".env": "APP_MODE=development\n"})
    [diagnosis] = diagnose(view, unset("APP_MODE"), "pytest")
    assert diagnosis.patch is None
    assert diagnosis.escalate_reason is not None and "defined in .env but the build does not see it" in diagnosis.escalate_reason


def test_no_missing_variable_gives_nothing() -> None:
    assert list(diagnose(RepoView({".env.example": TEMPLATE}), ["E   assert 3 == 4"], "pytest")) == []
