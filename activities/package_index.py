"""Which distribution provides an import name, asked of the package index the build's pip uses.

Import names and distribution names differ (``yaml`` is PyYAML, ``dateutil`` is
python-dateutil). The answer comes from maintained sources, never a hand list: first the
installed metadata of this interpreter (``importlib.metadata.packages_distributions``), then
the index itself: candidate projects are looked up through the standard simple API (PEP 503
HTML or PEP 691 JSON, so private mirrors work too) and a candidate counts only when one of its
wheels really ships the module (its ``top_level.txt`` or ``RECORD``).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from importlib import metadata

import pypi_simple
import requests
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from activities.sandbox.docker import host_pip_settings
from specialists.python_deps import Provider

_MAX_WHEEL_BYTES = 40 * 1024 * 1024


def configured_index_url() -> str:
    return host_pip_settings().get("index-url", "https://pypi.org/simple/")


class PackageIndex:
    def __init__(self, index_url: str | None = None, session: requests.Session | None = None, timeout: float = 20.0) -> None:
        self.index_url = index_url or configured_index_url()
        self.timeout = timeout
        self._resolved: dict[str, Provider | None] = {}
        self._client = pypi_simple.PyPISimple(endpoint=self.index_url, session=session or requests.Session())

    def close(self) -> None:
        # PyPISimple has no close(); its context manager closes the session, as this does.
        self._client.s.close()

    def resolve_import(self, module: str) -> Provider | None:
        # One repair asks about the same module on every attempt: ask the index once.
        if module not in self._resolved:
            self._resolved[module] = self._resolve(module)
        return self._resolved[module]

    def _resolve(self, module: str) -> Provider | None:
        for candidate in self._candidates(module):
            page = self._page(candidate)
            if page is None:
                continue
            packages = list(page.packages)
            wheel = _best_wheel(packages)
            if wheel is None or not self._ships(wheel, module):
                continue
            return Provider(distribution=page.project or candidate, latest_version=_latest(packages))
        return None

    def _candidates(self, module: str) -> list[str]:
        names: list[str] = []
        for dist in metadata.packages_distributions().get(module, []):
            names.append(dist)
        base = module.replace("_", "-")
        for name in (module, base, f"py{module}", f"python-{base}", f"{base}-python", f"py-{base}", f"{base}py", f"{base}2", f"{base}3"):
            names.append(name)
        seen: dict[str, None] = {}
        for name in names:
            seen.setdefault(canonicalize_name(name), None)
        return list(seen)

    def _page(self, project: str) -> pypi_simple.ProjectPage | None:
        try:
            return self._client.get_project_page(project, timeout=self.timeout)
        except pypi_simple.NoSuchProjectError:
            return None

    def _ships(self, wheel: pypi_simple.DistributionPackage, module: str) -> bool:
        response = self._client.s.get(wheel.url, timeout=self.timeout * 3, stream=True)
        response.raise_for_status()
        data = io.BytesIO()
        for chunk in response.iter_content(1 << 16):
            data.write(chunk)
            if data.tell() > _MAX_WHEEL_BYTES:
                return False
        with zipfile.ZipFile(data) as archive:
            return module in _top_level_names(archive.namelist(), archive)


def _top_level_names(names: Iterable[str], archive: zipfile.ZipFile) -> set[str]:
    tops: set[str] = set()
    for name in names:
        if name.endswith(".dist-info/top_level.txt"):
            tops.update(line.strip() for line in archive.read(name).decode().splitlines() if line.strip())
        first = name.split("/", 1)[0]
        if ".dist-info" in first or ".data" in first:
            continue
        tops.add(re.sub(r"(?:\.cpython.*|\.abi3)?\.(?:py|so|pyd)$", "", first))
    return tops


def _best_wheel(packages: list[pypi_simple.DistributionPackage]) -> pypi_simple.DistributionPackage | None:
    """The newest stable version's most portable wheel (pure Python first, then manylinux)."""
    wheels = [p for p in packages if p.package_type == "wheel" and not p.is_yanked and _version(p.version) is not None]
    if not wheels:
        return None
    def rank(p: pypi_simple.DistributionPackage) -> tuple[bool, Version, int]:
        version = _version(p.version) or Version("0")
        portability = 2 if p.filename.endswith("-none-any.whl") else 1 if "manylinux" in p.filename else 0
        return (not version.is_prerelease, version, portability)
    return max(wheels, key=rank)


def _latest(packages: list[pypi_simple.DistributionPackage]) -> str | None:
    versions = [v for p in packages if not p.is_yanked and (v := _version(p.version)) and not v.is_prerelease]
    return str(max(versions)) if versions else None


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None

