import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "config" / "app.toml"


def load() -> dict:
    with CONFIG.open("rb") as f:
        return tomllib.load(f)


def base_url() -> str:
    server = load()["server"]
    return f"http://{server['host']}:{server['port']}"
