"""Greenline: CI/CD pipelines that repair themselves."""

__version__ = "0.1.0"
