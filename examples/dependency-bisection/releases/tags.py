"""Pick the release a deployment should use from a repository's tags."""

from packaging.version import parse


def newest(tags: list[str]) -> str:
    """The newest tag by version order; tags that are not versions (``snapshot``, ``nightly``)
    sort before every release."""
    return max(tags, key=parse)


def release_notes_url(base: str, tag: str) -> str:
    return f"{base.rstrip('/')}/releases/tag/{tag}"
