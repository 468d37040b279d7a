"""The environment specialist: a variable the build reads is unset, a template has its value."""

from __future__ import annotations

from models import Category, Diagnosis
from specialists.config_files import missing_files, secret_keys, template_names
from specialists.env_config import (
    env_targets,
    looks_secret,
    missing_settings_fields,
    missing_variables,
    parse_env,
    settings_class,
)
from specialists import config_files, env_config
from specialists.repo_view import RepoView

def diagnose(view: RepoView, lines: list[str], cmd: str) -> list[Diagnosis]:
    """Both environment playbooks, in the router's order: variables, then config files."""
    return [*env_config.diagnose(view, lines, cmd), *config_files.diagnose(view, lines)]


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


# --- pydantic-settings validation errors -----------------------------------------------------

# Recorded: pytest 8 running ``Settings()`` of a ``BaseSettings`` with ``env_prefix="shop_"``,
# pydantic 2.14 / pydantic-settings 2.16, nothing set.
PYDANTIC_SETTINGS_IN_PYTEST = """\
>       super().__init__(**__pydantic_self__.__class__._settings_build_values(sources, init_kwargs))
E       pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings
E       database_url
E         Field required [type=missing, input_value={}, input_type=dict]
E           For further information visit https://errors.pydantic.dev/2.14/v/missing

/work/main/.venv/lib/python3.11/site-packages/pydantic_settings/main.py:292: ValidationError
=========================== short test summary info ============================
FAILED tests/test_s.py::test_settings - pydantic_core._pydantic_core.Validati...
""".splitlines()

# Recorded: plain ``python s.py``; ``redis_host`` has ``validation_alias="CACHE_HOST"``, APP_PORT=abc.
PYDANTIC_SETTINGS_PLAIN = """\
  File "/work/main/.venv/lib/python3.11/site-packages/pydantic_settings/main.py", line 292, in __init__
    super().__init__(**__pydantic_self__.__class__._settings_build_values(sources, init_kwargs))
  File "/work/main/.venv/lib/python3.11/site-packages/pydantic/main.py", line 280, in __init__
    validated_self = self.__pydantic_validator__.validate_python(data, self_instance=self)
                     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
pydantic_core._pydantic_core.ValidationError: 3 validation errors for Settings
database_url
  Field required [type=missing, input_value={'port': 'abc'}, input_type=dict]
    For further information visit https://errors.pydantic.dev/2.14/v/missing
CACHE_HOST
  Field required [type=missing, input_value={'port': 'abc'}, input_type=dict]
    For further information visit https://errors.pydantic.dev/2.14/v/missing
port
  Input should be a valid integer, unable to parse string as an integer [type=int_parsing, input_value='abc', input_type=str]
    For further information visit https://errors.pydantic.dev/2.14/v/int_parsing
""".splitlines()

SHOP_SETTINGS = """\
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="shop_", env_file=".env.test")

    database_url: str
    redis_host: str = Field(validation_alias="CACHE_HOST")
    api_token: str
    debug: bool = False


class Other:
    env_prefix = "nope_"
"""


def test_missing_settings_fields_reads_recorded_pydantic_errors() -> None:
    assert missing_settings_fields(PYDANTIC_SETTINGS_IN_PYTEST) == [("Settings", "database_url")]
    # A type error is not a missing variable; the alias is what pydantic prints.
    assert missing_settings_fields(PYDANTIC_SETTINGS_PLAIN) == [("Settings", "database_url"), ("Settings", "CACHE_HOST")]
    assert missing_settings_fields(["Field required [type=missing, input_value={}, input_type=dict]"]) == []  # no header
    nested = ["1 validation error for Settings", "db.host", "  Field required [type=missing, input_value={}, input_type=dict]"]
    assert missing_settings_fields(nested) == []
    v1 = ["pydantic.error_wrappers.ValidationError: 1 validation error for Settings", "database_url", "  field required (type=value_error.missing)"]
    assert missing_settings_fields(v1) == [("Settings", "database_url")]


def test_settings_class_reads_prefix_aliases_and_env_file_from_the_source() -> None:
    view = RepoView({"app/settings.py": SHOP_SETTINGS})
    cls = settings_class(view, "Settings")
    assert cls is not None and cls.is_settings
    assert (cls.prefix, cls.env_file, cls.case_sensitive) == ("shop_", ".env.test", False)
    assert cls.variable("database_url") == "SHOP_DATABASE_URL"
    assert cls.variable("CACHE_HOST") == "CACHE_HOST"  # an alias gets no prefix
    assert settings_class(view, "Missing") is None
    other = settings_class(RepoView({"x.py": "class Other(Base):\n    env_prefix = 'x_'\n"}), "Other")
    assert other is not None and not other.is_settings


def test_settings_class_follows_an_inner_config_and_repo_bases() -> None:
    source = """\
import pydantic_settings


class Base(pydantic_settings.BaseSettings):
    class Config:
        env_prefix = "svc_"
        case_sensitive = True


class Settings(Base):
    host: str
"""
    cls = settings_class(RepoView({"svc/conf.py": source}), "Settings")
    assert cls is not None and cls.is_settings and cls.case_sensitive
    assert cls.variable("host") == "svc_host"


def test_a_missing_settings_field_is_set_from_a_case_insensitive_template() -> None:
    view = RepoView({"app/settings.py": SHOP_SETTINGS, ".env.example": "shop_database_url=postgres://db:5432/shop\n"})
    [diagnosis] = diagnose(view, PYDANTIC_SETTINGS_IN_PYTEST, "pytest")
    assert diagnosis.category is Category.ENVIRONMENT and diagnosis.patch is not None
    # The env file the settings class loads, with the name pydantic-settings looks up.
    assert [(c.path, c.content) for c in diagnosis.patch.changes] == [(".env.test", "SHOP_DATABASE_URL=postgres://db:5432/shop\n")]
    assert "E       database_url" in diagnosis.evidence
    # Already there in another case: pydantic-settings sees it, so the build's loading is wrong.
    view = RepoView({"app/settings.py": SHOP_SETTINGS, ".env.example": "SHOP_DATABASE_URL=x\n", ".env.test": "shop_database_url=x\n"})
    [diagnosis] = diagnose(view, PYDANTIC_SETTINGS_IN_PYTEST, "pytest")
    assert diagnosis.patch is None and diagnosis.escalate_reason is not None and "defined in .env.test" in diagnosis.escalate_reason


def test_an_aliased_field_reads_its_alias_and_a_secret_field_escalates() -> None:
    template = ".env.example"
    view = RepoView({"app/settings.py": SHOP_SETTINGS, template: "CACHE_HOST=redis\nSHOP_DATABASE_URL=sqlite://\nSHOP_API_TOKEN=changeme\n"})
    [diagnosis] = diagnose(view, PYDANTIC_SETTINGS_PLAIN, "pytest")
    assert diagnosis.patch is not None
    assert diagnosis.patch.changes[0].content == "SHOP_DATABASE_URL=sqlite://\nCACHE_HOST=redis\n"
    lines = ["1 validation error for Settings", "api_token", "  Field required [type=missing, input_value={}, input_type=dict]"]
    [diagnosis] = diagnose(view, lines, "pytest")
    assert diagnosis.patch is None and diagnosis.escalate_reason is not None
    assert "SHOP_API_TOKEN" in diagnosis.escalate_reason and "never invents secrets" in diagnosis.escalate_reason


def test_a_plain_model_missing_a_field_is_not_the_environment() -> None:
    source = "from pydantic import BaseModel\n\n\nclass User(BaseModel):\n    name: str\n"
    lines = ["E   pydantic_core._pydantic_core.ValidationError: 1 validation error for User", "E   name", "E     Field required [type=missing, input_value={}, input_type=dict]"]
    assert list(diagnose(RepoView({"app/models.py": source, ".env.example": "NAME=x\n"}), lines, "pytest")) == []
    # A settings class of an installed package: its traceback frames name pydantic-settings.
    [diagnosis] = diagnose(RepoView({".env.example": "DATABASE_URL=sqlite://\n"}), PYDANTIC_SETTINGS_IN_PYTEST, "pytest")
    assert diagnosis.patch is not None and diagnosis.patch.changes[0].content == "DATABASE_URL=sqlite://\n"


# --- config files from their template --------------------------------------------------------

# Recorded: python 3.11, ``open("config/settings.yaml", "rb")`` with no such file.
FILE_NOT_FOUND = """\
Traceback (most recent call last):
  File "/tmp/rec/f.py", line 5, in <module>
    load()
  File "/tmp/rec/f.py", line 3, in load
    with open("config/settings.yaml", "rb") as f:
         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
FileNotFoundError: [Errno 2] No such file or directory: 'config/settings.yaml'
""".splitlines()

# Recorded: pytest 8, ``Path(__file__).parent.parent / "config" / "app.toml"`` opened by pathlib.
FILE_NOT_FOUND_IN_PYTEST = """\
>       return io.open(self, mode, buffering, encoding, errors, newline)
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
E       FileNotFoundError: [Errno 2] No such file or directory: '/work/main/bench/corpus/config-from-template/repo/config/app.toml'

/root/.pyenv/versions/3.11.7/lib/python3.11/pathlib.py:1044: FileNotFoundError
""".splitlines()

SETTINGS_YAML = "# Copy to settings.yaml\nserver:\n  host: 127.0.0.1\n  port: 8080\nlog_level: info\n"


def test_missing_files_in_the_usual_wordings() -> None:
    assert missing_files(FILE_NOT_FOUND) == ["config/settings.yaml"]
    assert missing_files(FILE_NOT_FOUND_IN_PYTEST) == ["/work/main/bench/corpus/config-from-template/repo/config/app.toml"]
    lines = [
        "cat: config/app.ini: No such file or directory",
        "Error: config file 'conf/app.yaml' not found",
        "RuntimeError: could not load configuration file settings.json",
        "OSError: cannot open settings file: etc/app.cfg",
    ]
    assert missing_files(lines) == ["config/app.ini", "conf/app.yaml", "settings.json", "etc/app.cfg"]


def test_template_names_sit_next_to_the_file() -> None:
    names = template_names("config/settings.yaml")
    for name in ("settings.yaml.example", "settings.example.yaml", "settings.yaml.dist", "settings.yaml.template", "settings.sample.yaml", "settings.yaml.sample", "settings.yaml.in"):
        assert f"config/{name}" in names, name


def test_creates_the_missing_config_file_from_its_template() -> None:
    view = RepoView({"config/settings.yaml.example": SETTINGS_YAML})
    [diagnosis] = diagnose(view, FILE_NOT_FOUND, "python app.py")
    assert diagnosis.category is Category.ENVIRONMENT and diagnosis.escalate_reason is None
    assert diagnosis.patch is not None
    assert [(c.path, c.content) for c in diagnosis.patch.changes] == [("config/settings.yaml", SETTINGS_YAML)]
    assert "--- /dev/null" in diagnosis.patch.diff
    assert diagnosis.summary == "create config/settings.yaml from config/settings.yaml.example"
    assert "FileNotFoundError: [Errno 2] No such file or directory: 'config/settings.yaml'" in diagnosis.evidence


def test_the_path_resolves_in_the_build_folder_then_the_root_and_by_its_tail() -> None:
    view = RepoView({"svc/config/settings.example.yaml": SETTINGS_YAML, "config/settings.yaml.dist": "root: 1\n"}, subdir="svc")
    [diagnosis] = diagnose(view, FILE_NOT_FOUND, "pytest")
    assert diagnosis.patch is not None and diagnosis.patch.paths == ["svc/config/settings.yaml"]
    view = RepoView({"config/settings.yaml.dist": "root: 1\n"}, subdir="svc")
    [diagnosis] = diagnose(view, FILE_NOT_FOUND, "pytest")
    assert diagnosis.patch is not None and diagnosis.patch.paths == ["config/settings.yaml"]
    # An absolute path in the CI's checkout.
    [diagnosis] = diagnose(RepoView({"config/app.toml.example": "[server]\nport = 8080\n"}), FILE_NOT_FOUND_IN_PYTEST, "pytest")
    assert diagnosis.patch is not None and diagnosis.patch.paths == ["config/app.toml"]


def test_secrets_in_the_template_escalate_naming_the_keys() -> None:
    template = "db:\n  host: localhost\n  password: changeme\napi_key = 'abc'\nWEBHOOK_URL=https://u:p@hooks.example.com\n"
    assert secret_keys(template) == ["password", "api_key", "WEBHOOK_URL"]
    # An empty value holds no secret to copy.
    assert secret_keys('token: ""\nsecret_key =\nname: app\n"sentry_dsn": null,\n') == []
    [diagnosis] = diagnose(RepoView({"config/settings.yaml.example": template}), FILE_NOT_FOUND, "pytest")
    assert diagnosis.patch is None and diagnosis.escalate_reason is not None
    for word in ("password", "api_key", "WEBHOOK_URL", "config/settings.yaml.example", "secret store", "never writes secrets"):
        assert word in diagnosis.escalate_reason, word


def test_an_existing_file_or_no_template_gives_nothing() -> None:
    view = RepoView({"config/settings.yaml": "x: 1\n", "config/settings.yaml.example": SETTINGS_YAML})
    assert list(diagnose(view, FILE_NOT_FOUND, "pytest")) == []
    # No template next to it, or a path outside the repo.
    assert list(diagnose(RepoView({"config/other.yaml.example": "a: 1\n"}), FILE_NOT_FOUND, "pytest")) == []
    assert list(diagnose(RepoView({"config/settings.yaml.example": SETTINGS_YAML}), ["FileNotFoundError: [Errno 2] No such file or directory: '../outside.yaml'"], "pytest")) == []
