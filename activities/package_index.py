"""Which distribution provides an import name, asked of the package index the build's pip uses.

Import names and distribution names differ (``yaml`` is PyYAML, ``dateutil`` is
python-dateutil). The answer comes from maintained sources, never a hand list: first the
installed metadata of this interpreter (``importlib.metadata.packages_distributions``), then
the index itself: candidate projects are looked up through the standard simple API (PEP 503
HTML or PEP 691 JSON, so private mirrors work too) and a candidate counts only when one of its
wheels really ships the module (its ``top_level.txt`` or ``RECORD``).

The same pages give a project's release history (versions, upload times, yanks and
``Requires-Python`` per file, PEP 700) and, per release, its ``Requires-Dist``: from the PEP 658
metadata file when the index serves one, else from the wheel itself.
"""

from __future__ import annotations

import configparser
import dataclasses
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from email.parser import HeaderParser
from importlib import metadata

import pypi_simple
import requests
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from activities.sandbox.docker import host_pip_settings
from specialists.python_deps import Provider
from specialists.releases import Release

_MAX_WHEEL_BYTES = 40 * 1024 * 1024


def configured_index_url() -> str:
    return host_pip_settings().get("index-url", "https://pypi.org/simple/")


class PackageIndex:
    def __init__(self, index_url: str | None = None, session: requests.Session | None = None, timeout: float = 20.0) -> None:
        self.index_url = index_url or configured_index_url()
        self.timeout = timeout
        self._resolved: dict[str, Provider | None] = {}
        self._commands: dict[str, Provider | None] = {}
        self._options: dict[str, Provider | None] = {}
        self._last_wheel: tuple[str, io.BytesIO | None] | None = None
        self._histories: dict[str, list[Release] | None] = {}
        self._requires: dict[tuple[str, Version | str], list[str] | None] = {}
        self._pages: dict[str, pypi_simple.ProjectPage | None] = {}
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
        return self._first_provider(self._candidates(module), lambda wheel: self._ships(wheel, module))

    def resolve_command(self, program: str) -> Provider | None:
        """The distribution whose console script ``program`` is (``black``, Sphinx's
        ``sphinx-build``): a project named like it, or like its first word, whose newest wheel
        declares the script (never the namesake alone: PyPI's ``docker`` is not the CLI)."""
        if program not in self._commands:
            names = [ep.dist.name for ep in metadata.entry_points(group="console_scripts", name=program) if ep.dist is not None]
            names += [program, re.split(r"[-_.]", program)[0]]
            self._commands[program] = self._first_provider(names, lambda wheel: program in self._scripts(wheel))
        return self._commands[program]

    def resolve_pytest_option(self, option: str) -> Provider | None:
        """The pytest plugin that adds ``option`` (``--cov`` of pytest-cov): a project named
        ``pytest-<option>`` or ``pytest-<its first word>`` whose newest wheel registers a pytest
        plugin (a ``pytest11`` entry point) and whose code adds the option."""
        if option not in self._options:
            name = option.lstrip("-")
            names = [f"pytest-{name}", f"pytest-{re.split(r'[-_.]', name)[0]}"]
            self._options[option] = self._first_provider(names, lambda wheel: self._adds_pytest_option(wheel, option))
        return self._options[option]

    def _first_provider(self, names: Iterable[str], accepts: Callable[[pypi_simple.DistributionPackage], bool]) -> Provider | None:
        """The first of the projects ``names`` on the index whose newest stable wheel ``accepts``."""
        for candidate in dict.fromkeys(canonicalize_name(name) for name in names if name):
            page = self._page(candidate)
            if page is None:
                continue
            packages = list(page.packages)
            wheel = _best_wheel(packages)
            if wheel is not None and accepts(wheel):
                return Provider(distribution=page.project or candidate, latest_version=_latest(packages))
        return None

    def release_history(self, project: str) -> list[Release] | None:
        """Every version of ``project`` on the index, oldest first (``None``: no such project)."""
        key = canonicalize_name(project)
        if key not in self._histories:
            page = self._page(key)
            self._histories[key] = None if page is None else _releases(list(page.packages))
        return self._histories[key]

    def requires_dist(self, project: str, version: str) -> list[str] | None:
        """The ``Requires-Dist`` lines of one release (``None``: no wheel or metadata for it)."""
        key = (canonicalize_name(project), _version(version) or version)  # 3.0 is 3.0.0
        if key not in self._requires:
            self._requires[key] = self._requires_dist(key[0], version)
        return self._requires[key]

    def _requires_dist(self, project: str, version: str) -> list[str] | None:
        page = self._page(project)
        if page is None:
            return None
        wheels = [p for p in page.packages if p.package_type == "wheel" and _same(p.version, version)]
        if not wheels:
            return None
        wheel = _best_wheel(wheels) or wheels[0]
        text = self._metadata(wheel)
        if text is None:
            return None
        return HeaderParser().parsestr(text).get_all("Requires-Dist") or []

    def _metadata(self, wheel: pypi_simple.DistributionPackage) -> str | None:
        # PEP 658: the core metadata next to the file (PyPI serves it even where a mirror's page
        # does not say so); else the METADATA inside the wheel.
        url = wheel.metadata_url if wheel.has_metadata else wheel.url.split("#", 1)[0] + ".metadata"
        response = self._client.s.get(url, timeout=self.timeout)
        if response.ok:
            return response.text
        if response.status_code not in (403, 404, 410):
            response.raise_for_status()
        data = self._download(wheel)
        if data is None:
            return None
        with zipfile.ZipFile(data) as archive:
            for name in archive.namelist():
                if name.count("/") == 1 and name.endswith(".dist-info/METADATA"):
                    return archive.read(name).decode(errors="replace")
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
        # One repair asks about the same projects on every attempt: one request each.
        key = canonicalize_name(project)
        if key not in self._pages:
            url = self._client.get_project_url(key)
            response = self._client.s.get(url, timeout=self.timeout, headers={"Accept": self._client.accept})
            if response.status_code == 404:
                self._pages[key] = None
            else:
                response.raise_for_status()
                page = pypi_simple.ProjectPage.from_response(response, key)
                self._pages[key] = _with_html_upload_times(page, response)
        return self._pages[key]

    def _download(self, wheel: pypi_simple.DistributionPackage) -> io.BytesIO | None:
        # The same wheel is often asked about twice in a row (--cov, then --cov-report of
        # pytest-cov): the last one is kept.
        if self._last_wheel is not None and self._last_wheel[0] == wheel.url:
            return self._last_wheel[1]
        data = self._fetch(wheel)
        self._last_wheel = (wheel.url, data)
        return data

    def _fetch(self, wheel: pypi_simple.DistributionPackage) -> io.BytesIO | None:
        response = self._client.s.get(wheel.url, timeout=self.timeout * 3, stream=True)
        response.raise_for_status()
        data = io.BytesIO()
        for chunk in response.iter_content(1 << 16):
            data.write(chunk)
            if data.tell() > _MAX_WHEEL_BYTES:
                return None
        return data

    def _scripts(self, wheel: pypi_simple.DistributionPackage) -> set[str]:
        data = self._download(wheel)
        if data is None:
            return set()
        with zipfile.ZipFile(data) as archive:
            return _script_names(archive)

    def _adds_pytest_option(self, wheel: pypi_simple.DistributionPackage, option: str) -> bool:
        data = self._download(wheel)
        if data is None:
            return False
        with zipfile.ZipFile(data) as archive:
            if "pytest11" not in _entry_points(archive):
                return False
            quoted = (f'"{option}"', f"'{option}'")
            return any(
                any(q in archive.read(name).decode(errors="replace") for q in quoted)
                for name in archive.namelist() if name.endswith(".py")
            )

    def _ships(self, wheel: pypi_simple.DistributionPackage, module: str) -> bool:
        data = self._download(wheel)
        if data is None:
            return False
        with zipfile.ZipFile(data) as archive:
            return module in _top_level_names(archive.namelist(), archive)


def _entry_points(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    """A wheel's entry points: group → names (``console_scripts``, ``pytest11``...)."""
    groups: dict[str, list[str]] = {}
    for name in archive.namelist():
        if name.count("/") == 1 and name.endswith(".dist-info/entry_points.txt"):
            parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
            parser.optionxform = str  # type: ignore[assignment,method-assign]  # names are case-sensitive
            parser.read_string(archive.read(name).decode(errors="replace"))
            for section in parser.sections():
                groups[section] = [key.strip() for key in parser[section]]
    return groups


def _script_names(archive: zipfile.ZipFile) -> set[str]:
    """The programs a wheel installs: its console and GUI entry points, and its data scripts."""
    groups = _entry_points(archive)
    scripts = set(groups.get("console_scripts", [])) | set(groups.get("gui_scripts", []))
    for name in archive.namelist():
        top, _, rest = name.partition("/")
        if top.endswith(".data") and rest.startswith("scripts/"):
            scripts.add(rest.removeprefix("scripts/"))
    return scripts


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


def _releases(packages: list[pypi_simple.DistributionPackage]) -> list[Release]:
    """Files grouped by version: a release is yanked when all its files are, uploaded when its
    first file was, and requires the Python its wheels (else its sdist) declare."""
    by_version: dict[Version, list[pypi_simple.DistributionPackage]] = {}
    for package in packages:
        version = _version(package.version)
        if version is not None:
            by_version.setdefault(version, []).append(package)
    releases = []
    for version, files in sorted(by_version.items()):
        wheels = [f for f in files if f.package_type == "wheel"]
        times: list[datetime] = [f.upload_time for f in files if f.upload_time is not None]
        declared = next((f.requires_python for f in wheels + files if f.requires_python), None)
        releases.append(
            Release(
                version=str(version),
                upload_time=min(times) if times else None,
                yanked=all(f.is_yanked for f in files),
                requires_python=declared,
                has_wheel=bool(wheels),
            )
        )
    return releases


def _with_html_upload_times(page: pypi_simple.ProjectPage, response: requests.Response) -> pypi_simple.ProjectPage:
    """PEP 700 upload times from an HTML page's ``data-upload-time`` (pypi_simple reads them
    from JSON pages only)."""
    if "html" not in response.headers.get("Content-Type", "text/html") or "data-upload-time" not in response.text:
        return page
    times: dict[str, datetime] = {}
    for link in pypi_simple.RepositoryPage.from_html(response.text, response.url).links:
        stamp = link.get_str_attrib("data-upload-time")
        if stamp:
            try:
                times[link.text] = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                continue
    packages = [p if p.upload_time or p.filename not in times else dataclasses.replace(p, upload_time=times[p.filename]) for p in page.packages]
    return dataclasses.replace(page, packages=packages)


def _same(text: str | None, version: str) -> bool:
    parsed = _version(text)
    return parsed is not None and parsed == _version(version)


def _latest(packages: list[pypi_simple.DistributionPackage]) -> str | None:
    versions = [v for p in packages if not p.is_yanked and (v := _version(p.version)) and not v.is_prerelease]
    return str(max(versions)) if versions else None


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None

