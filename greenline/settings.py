"""Configuration from the environment (and nothing else): one explicit value object."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
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

    @property
    def artifacts_dir(self) -> Path:
        return self.state_dir / "artifacts"
