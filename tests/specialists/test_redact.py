"""Redaction: secrets never leave the worker; ordinary log text is left alone; time is linear."""

from __future__ import annotations

import time

import pytest

from specialists.redact import find_secrets, is_random_token, looks_like_credential, redact


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        ("export GITHUB_TOKEN=ghp_4fT9kLm2QwXz8RvB1nYp6HsJ3uC0dE7aG5iK", "ghp_4fT9kLm2QwXz8RvB1nYp6HsJ3uC0dE7aG5iK", "github-token"),
        ("token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF", "github-token"),
        ("PRIVATE-TOKEN: glpat-Rk3mZ8vQ2nX7pL4sW9tB", "glpat-Rk3mZ8vQ2nX7pL4sW9tB", "gitlab-token"),
        ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack-token"),
        ("aws AKIAQ3EGT5Z7XK2LM4NP in use", "AKIAQ3EGT5Z7XK2LM4NP", "aws-access-key"),
        ("aws_secret_access_key = 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", "Jk8sQ2mW9vX4pL7nB3rT6yH1cF5gD0zA8eU2iO4q", "aws-secret-key"),
        ("key=sk-ant-api03-Xq8mZ2vB7nK4pL9sT1wR6yH3cF0gD5jA8eU2iO4qM7xN1bV6", "sk-ant-api03-Xq8mZ2vB7nK4pL9sT1wR6yH3cF0gD5jA8eU2iO4qM7xN1bV6", "anthropic-key"),
        ("OPENAI sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "openai-key"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
         "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt"),
        ("-H 'Authorization: token 9f8e7d6c5b4a39281706f5e4d3c2b1a0'", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "authorization"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabcd\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA7", "private-key"),
        ("password = \"hunter2hunter2\"", "hunter2hunter2", "password"),
        ("{\"api_key\": \"a8Fk2LmQ9zR4tYp0WnX7cVb3\"}", "a8Fk2LmQ9zR4tYp0WnX7cVb3", "key"),
        ("client_secret: Zq3-Lm9_Tx2", "Zq3-Lm9_Tx2", "secret"),
        ("//registry.npmjs.org/:_authToken=npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "npm-token"),
        ("payload Xk9mP2vL8qR4nT7wZ3yBq1 leaked", "Xk9mP2vL8qR4nT7wZ3yBq1", "high-entropy"),
    ],
)
def test_secrets_are_replaced_by_their_kind(text: str, secret: str, kind: str) -> None:
    out = redact(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out


def test_credentials_in_urls_keep_the_user_and_lose_the_password() -> None:
    out = redact("pip install --index-url https://deploy:s3cr3t-P@ss@pypi.internal.example.com/simple pkg")
    assert out == "pip install --index-url https://deploy:[REDACTED:url-password]@pypi.internal.example.com/simple pkg"
    assert redact("git clone https://github.com/acme/app.git") == "git clone https://github.com/acme/app.git"


def test_values_of_secret_named_env_vars_are_redacted_wherever_they_appear() -> None:
    env = {"DB_PASSWORD": "Sup3rS3cretValue", "API_URL": "http://localhost:8000", "PWD": "/work/main", "SESSION_TIMEOUT": "30", "DEPLOY_KEY": "k3y-Of-Deploy"}
    out = redact("connecting with Sup3rS3cretValue to http://localhost:8000 from /work/main after 30s; key k3y-Of-Deploy", env=env)
    assert out == "connecting with [REDACTED:env:DB_PASSWORD] to http://localhost:8000 from /work/main after 30s; key [REDACTED:env:DEPLOY_KEY]"


LOG = """\
Collecting requests==2.31.0 (from -r requirements.txt (line 1))
  Downloading numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl (18.3 MB)
Successfully installed certifi-2024.2.2 charset-normalizer-3.3.2 idna-3.6 urllib3-2.2.1
requests==2.31.0 --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f
platform linux -- Python 3.11.7, pytest-8.1.1, pluggy-1.4.0
rootdir: /tmp/greenline-build-abc123/src
tests/test_settings.py::test_loads_environment_variables_from_ci_env FAILED
E   KeyError: 'BILLING_API_URL'
/usr/lib/python3.11/site-packages/_pytest/python.py:194: in pytest_pyfunc_call
 ---> Running in 3f786850e387
commit 8ade135a41bc03ea155e62e844d188df1ea18608
Digest: sha256:9b5f2a1a5e7a2c0b4e0d0a0f6b5b8f7b2a4b1a0e3c8d4e1f0a2b3c4d5e6f7a8b
  # aws_security_group_rule.allow_https will be updated in-place
      ~ instance_type = "t3.micro" -> "t3.small"
      ~ ami           = "ami-0a1b2c3d4e5f67890"
Error: Basic authentication failed for user deploy
token_count=4096 max_tokens: 200000
workflow repair-7f3a9c2e1b-attempt2 node_modules/typescript/lib/lib2020.d.ts
request id 123e4567-e89b-12d3-a456-426614174000
password: str = Field(...)
def login(user, password=None): token = get_token()
github.com/stretchr/testify v1.9.0 h1:HtqpIVDClZ4nwg75+f6Lvsy/wHu+3BoSGCbBAcpTsTg=
"integrity": "sha512-rAVeHYMcv8ATV5d508CFdn+8/pHPpXeIid1DdrPwXnaAdH7cqjVbpJaT5eq4yRAFU/lsbwYwSF/n5iNrdJHPQA=="
"""


def test_ordinary_log_text_is_left_alone() -> None:
    assert redact(LOG) == LOG


def test_redaction_is_idempotent() -> None:
    text = redact("GITHUB_TOKEN=ghp_4fT9kLm2QwXz8RvB1nYp6HsJ3uC0dE7aG5iK password=hunter2hunter2 https://u:p4ssw0rd@h/x")
    assert redact(text) == text
    assert find_secrets(text) == []


def test_credential_judgement() -> None:
    for value in ("postgres", "us-east-1", "billing/prod/db", "changeme", "${DB_PASSWORD}", "/run/secrets/x", "30", "true", "http://localhost:8000"):
        assert not looks_like_credential(value), value
    for value in ("hunter2hunter2", "Xk9#mP2$vL8qR4nT", "postgres://a:S3cret!x@db/app"):
        assert looks_like_credential(value), value
    assert looks_like_credential("oauth2x", strict=True) and not looks_like_credential("oauth2", strict=False)
    for token in ("3f786850e387550fdab836ed7e6dc881de23001b", "test_parse_config_with_env_2", "usr/lib/x86_64-linux-gnu/libssl3", "getUserAccountSettingsV2ForTenant"):
        assert not is_random_token(token), token


def test_a_4kb_excerpt_is_fast() -> None:
    excerpt = (LOG * 4)[:4096]
    started = time.perf_counter()
    for _ in range(10):
        redact(excerpt)
    assert (time.perf_counter() - started) / 10 < 0.05


@pytest.mark.parametrize(
    "unit",
    ["https://a:b", "aws" + "x" * 50, "a", "password=", "-----BEGIN PRIVATE KEY-----", "/", " ", "authorization: ", "bearer ", "x=", "ab12", "token\n", "sk-"],
)
def test_time_stays_linear_on_hostile_input(unit: str) -> None:
    text = unit * (400_000 // len(unit))
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 3.0
