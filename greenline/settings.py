"""Configuration from the environment (and nothing else): one explicit value object."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "greenline"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "greenline"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GREENLINE_", extra="ignore")

    temporal_address: str | None = Field(default=None, validation_alias=AliasChoices("TEMPORAL_ADDRESS", "GREENLINE_TEMPORAL_ADDRESS"))
    temporal_namespace: str = Field(default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "GREENLINE_TEMPORAL_NAMESPACE"))
    state_dir: Path = Field(default_factory=_default_state_dir)
    task_queue: str = "greenline-control"
    sandbox_task_queue: str = "greenline-sandbox"
    sandbox_image: str = "greenline-sandbox:bookworm"
    dev_server_port: int = 7233
    dev_server_ui_port: int = 8233
    # The LLM engine (docs/llm.md): off unless a key is set. The base URL points at a gateway or a
    # self-hosted Anthropic-compatible server for teams that keep code inside their perimeter.
    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "GREENLINE_ANTHROPIC_API_KEY"))
    llm_base_url: str | None = Field(default=None, validation_alias=AliasChoices("GREENLINE_LLM_BASE_URL", "ANTHROPIC_BASE_URL"))
    llm_model: str = "claude-sonnet-4-6"
    llm_max_output_tokens: int = Field(default=4096, gt=0)
    llm_context_tokens: int = Field(default=24_000, gt=1000)
    llm_prices: Path | None = None
    # Downloads shared between builds (activities/sandbox/pip_cache.py): per repository, per
    # worker, or not at all.
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    pip_cache: Literal["repository", "worker", "off"] = "repository"

    @property
    def artifacts_dir(self) -> Path:
        return self.state_dir / "artifacts"
