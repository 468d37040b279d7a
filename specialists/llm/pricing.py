"""What a model call costs: a price table per model, from ``prices.toml`` and the operator's own
file, matched by the longest model-id prefix."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from models import Usage

_DEFAULTS = Path(__file__).parent / "prices.toml"


class Price(BaseModel):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)
    cache_read: float = Field(ge=0)

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_write_tokens * self.cache_write
            + usage.cache_read_tokens * self.cache_read
        ) / 1_000_000

    def most(self, input_tokens: int, output_tokens: int) -> float:
        """The dearest a call of this size can be (every input token written to the cache)."""
        return (input_tokens * max(self.input, self.cache_write) + output_tokens * self.output) / 1_000_000


class PriceError(ValueError):
    pass


def load_prices(extra: Path | None = None) -> dict[str, Price]:
    table = _read(_DEFAULTS)
    if extra is not None:
        table.update(_read(extra))
    return table


def price_of(model: str, table: dict[str, Price]) -> Price:
    matches = [prefix for prefix in table if model == prefix or model.startswith(prefix + "-")]
    if not matches:
        raise PriceError(
            f"no price for model {model!r}; add it to a prices file ([models.\"{model}\"] input/output/cache_write/cache_read "
            "in USD per million tokens) and point GREENLINE_LLM_PRICES at it"
        )
    return table[max(matches, key=len)]


def _read(path: Path) -> dict[str, Price]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return {name: Price.model_validate(entry) for name, entry in data.get("models", {}).items()}
    except (OSError, tomllib.TOMLDecodeError, ValidationError, AttributeError) as err:
        raise PriceError(f"cannot read the price table {path}: {err}") from None
