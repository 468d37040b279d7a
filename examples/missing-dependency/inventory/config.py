"""Loads the warehouse configuration (YAML)."""

import yaml


def load(text: str) -> dict:
    data = yaml.safe_load(text) or {}
    data.setdefault("warehouses", [])
    return data


def capacity(config: dict) -> int:
    return sum(w.get("capacity", 0) for w in config["warehouses"])
