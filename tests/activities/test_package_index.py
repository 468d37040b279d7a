"""PackageIndex against a local simple index (PEP 503 HTML and PEP 691 JSON) on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from activities.package_index import PackageIndex
from specialists.python_deps import Provider


def metadata(project: str, version: str, requires: list[str] = ()) -> str:  # type: ignore[assignment]
    return f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)


def build_wheel(
    project: str, version: str, modules: list[str], requires: list[str] = (),  # type: ignore[assignment]
    console_scripts: dict[str, str] | None = None, data_scripts: list[str] = (),  # type: ignore[assignment]
    pytest_plugin: tuple[str, str] | None = None,
) -> tuple[str, bytes]:
    """A minimal but well-formed pure-Python wheel shipping ``modules`` (packages), with the
    console scripts (name → entry point) and ``.data/scripts`` it declares, and a pytest plugin
    (its module and the code of its ``plugin.py``)."""
    stem = f"{re.sub(r'[-_.]+', '_', project)}-{version}"
    info = f"{stem}.dist-info"
    files = {f"{m}/__init__.py": f"NAME = {m!r}\n" for m in modules}
    if console_scripts or pytest_plugin:
        files[f"{info}/entry_points.txt"] = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in (console_scripts or {}).items())
    if pytest_plugin:
        module, code = pytest_plugin
        files[f"{info}/entry_points.txt"] += f"\n[pytest11]\n{module} = {module}.plugin\n"
        files[f"{module}/plugin.py"] = code
    for script in data_scripts:
        files[f"{stem}.data/scripts/{script}"] = "#!python\nprint('hi')\n"
    files[f"{info}/METADATA"] = metadata(project, version, requires)
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: greenline-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/top_level.txt"] = "".join(f"{m}\n" for m in modules)
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}\n")
    files[f"{info}/RECORD"] = "".join(record) + f"{info}/RECORD,,\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return f"{stem}-py3-none-any.whl", buffer.getvalue()


@dataclass
class SimpleIndex:
    """What the local index serves: projects → files, as HTML or JSON pages."""

    url: str = ""
    style: str = "html"
    failing: bool = False
    projects: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # name → [(filename, yanked)]
    blobs: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    # PEP 700 / PEP 658 details per file: upload time, Requires-Python, core metadata.
    uploaded: dict[str, str] = field(default_factory=dict)
    requires_python: dict[str, str] = field(default_factory=dict)
    metadata_files: dict[str, str] = field(default_factory=dict)
    serve_metadata: bool = True

    def add(
        self, project: str, version: str, modules: list[str], *, yanked: bool = False,
        requires: list[str] = (), uploaded: str | None = None, requires_python: str | None = None,  # type: ignore[assignment]
        console_scripts: dict[str, str] | None = None, data_scripts: list[str] = (),  # type: ignore[assignment]
        pytest_plugin: tuple[str, str] | None = None,
    ) -> None:
        filename, data = build_wheel(project, version, modules, requires, console_scripts, data_scripts, pytest_plugin)
        self.projects.setdefault(_normal(project), []).append((filename, yanked))
        self.blobs[filename] = data
        self.metadata_files[filename] = metadata(project, version, requires)
        if uploaded:
            self.uploaded[filename] = uploaded
        if requires_python:
            self.requires_python[filename] = requires_python

    def page(self, project: str) -> tuple[str, bytes] | None:
        files = self.projects.get(project)
        if files is None:
            return None
        if self.style == "json":
            body = {
                "meta": {"api-version": "1.0"},
                "name": project,
                "files": [
                    {
                        "filename": f, "url": f"../../files/{f}", "hashes": {"sha256": _sha(self.blobs[f])}, "yanked": y,
                        **({"upload-time": self.uploaded[f]} if f in self.uploaded else {}),
                        **({"requires-python": self.requires_python[f]} if f in self.requires_python else {}),
                    }
                    for f, y in files
                ],
            }
            return "application/vnd.pypi.simple.v1+json", json.dumps(body).encode()
        links = "".join(
            f'<a href="../../files/{f}#sha256={_sha(self.blobs[f])}"{" data-yanked=" if y else ""}{self._attributes(f)}>{f}</a><br/>\n'
            for f, y in files
        )
        return "text/html", f"<!DOCTYPE html><html><body><h1>Links for {project}</h1>\n{links}</body></html>".encode()


    def _attributes(self, filename: str) -> str:
        found = ""
        if filename in self.requires_python:
            found += f' data-requires-python="{html.escape(self.requires_python[filename])}"'
        if filename in self.uploaded:
            found += f' data-upload-time="{self.uploaded[filename]}"'
        return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def index() -> Iterator[SimpleIndex]:
    served = SimpleIndex()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            served.requests.append(self.path)
            found: tuple[str, bytes] | None = None
            if served.failing:
                self.send_error(503)
                return
            if m := re.fullmatch(r"/simple/([^/]+)/", self.path):
                found = served.page(m.group(1))
            elif (m := re.fullmatch(r"/files/([^/]+)\.metadata", self.path)) and served.serve_metadata:
                text = served.metadata_files.get(m.group(1))
                found = ("text/plain", text.encode()) if text is not None else None
            elif m := re.fullmatch(r"/files/([^/]+)", self.path):
                blob = served.blobs.get(m.group(1))
                found = ("application/octet-stream", blob) if blob is not None else None
            if found is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", found[0])
            self.send_header("Content-Length", str(len(found[1])))
            self.end_headers()
            self.wfile.write(found[1])

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    served.add("PyFooBar", "1.0.0", ["foobar"])
    served.add("PyFooBar", "1.2.0", ["foobar"])
    served.add("PyFooBar", "1.3.0", ["foobar"], yanked=True)
    served.add("PyFooBar", "2.0.0rc1", ["foobar"])
    served.add("foobar", "9.9.9", ["foobar_compat"])  # a decoy: the name matches, the module does not
    yield served
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def client(index: SimpleIndex) -> Iterator[PackageIndex]:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: this is 127.0.0.1 only
    package_index = PackageIndex(index_url=index.url, session=session, timeout=5)
    yield package_index
    package_index.close()


@pytest.mark.parametrize("style", ["html", "json"])
def test_resolves_the_project_that_ships_the_module_not_the_namesake(index: SimpleIndex, client: PackageIndex, style: str) -> None:
    index.style = style
    provider = client.resolve_import("foobar")
    assert provider is not None
    assert _normal(provider.distribution) == "pyfoobar"
    assert provider.latest_version == "1.2.0"  # not the yanked 1.3.0, not the 2.0.0rc1 prerelease
    # The namesake was looked at (and its wheel opened) before the real provider was found.
    assert index.requests.index("/simple/foobar/") < index.requests.index("/simple/pyfoobar/")
    assert "/files/foobar-9.9.9-py3-none-any.whl" in index.requests
    assert "/files/PyFooBar-1.2.0-py3-none-any.whl" in index.requests


def test_the_answer_is_cached(index: SimpleIndex, client: PackageIndex) -> None:
    first = client.resolve_import("foobar")
    asked = len(index.requests)
    assert first is not None and client.resolve_import("foobar") is first
    assert len(index.requests) == asked


def test_an_unknown_module_resolves_to_none(index: SimpleIndex, client: PackageIndex) -> None:
    assert client.resolve_import("nosuchmodule") is None
    assert index.requests and all(r.startswith("/simple/") for r in index.requests)  # only 404s, no downloads


def test_a_project_without_a_stable_wheel_does_not_count(index: SimpleIndex, client: PackageIndex) -> None:
    index.add("PyBazQux", "0.1.0", ["bazqux"], yanked=True)
    assert client.resolve_import("bazqux") is None


def test_an_index_error_is_raised_not_taken_for_a_missing_project(index: SimpleIndex, client: PackageIndex) -> None:
    index.failing = True
    with pytest.raises(requests.HTTPError):
        client.resolve_import("foobar")


# --- release history and metadata --------------------------------------------------------


@pytest.mark.parametrize("style", ["html", "json"])
def test_release_history_has_versions_upload_times_yanks_and_requires_python(index: SimpleIndex, client: PackageIndex, style: str) -> None:
    index.style = style
    index.add("Widget", "1.0.0", ["widget"], uploaded="2022-08-08T21:44:13.251607Z", requires_python=">=3.7")
    index.add("Widget", "2.0.0", ["widget"], uploaded="2023-09-30T13:58:46Z", requires_python=">=3.12")
    index.add("Widget", "2.0.1", ["widget"], yanked=True)
    history = client.release_history("widget")
    assert history is not None
    assert [(r.version, r.yanked, r.requires_python) for r in history] == [("1.0.0", False, ">=3.7"), ("2.0.0", False, ">=3.12"), ("2.0.1", True, None)]
    assert history[0].upload_time is not None and history[0].upload_time.isoformat() == "2022-08-08T21:44:13.251607+00:00"
    assert history[1].upload_time is not None and (history[1].upload_time.year, history[1].upload_time.month) == (2023, 9)
    assert history[2].upload_time is None
    assert history[1].supports("3.12.1") and not history[1].supports("3.11.7")
    assert client.release_history("no-such-project") is None


def test_release_history_is_asked_once(index: SimpleIndex, client: PackageIndex) -> None:
    assert client.release_history("PyFooBar") == client.release_history("pyfoobar")
    assert index.requests.count("/simple/pyfoobar/") == 1


@pytest.mark.parametrize("serve_metadata", [True, False], ids=["pep658-metadata", "from-the-wheel"])
def test_requires_dist_of_one_release(index: SimpleIndex, client: PackageIndex, serve_metadata: bool) -> None:
    index.serve_metadata = serve_metadata
    index.add("Widget", "3.0.0", ["widget"], requires=["Gadget>=3.0.0", 'extra-thing ; extra == "x"'])
    assert client.requires_dist("widget", "3.0") == ["Gadget>=3.0.0", 'extra-thing ; extra == "x"']
    asked = len(index.requests)
    assert client.requires_dist("Widget", "3.0.0") == ["Gadget>=3.0.0", 'extra-thing ; extra == "x"']
    assert len(index.requests) == asked  # cached
    fetched = [r for r in index.requests if r.startswith("/files/Widget-3.0.0")]
    assert fetched == (["/files/Widget-3.0.0-py3-none-any.whl.metadata"] if serve_metadata else ["/files/Widget-3.0.0-py3-none-any.whl.metadata", "/files/Widget-3.0.0-py3-none-any.whl"])
    assert client.requires_dist("widget", "9.9") is None
    assert client.requires_dist("nope", "1.0") is None


def test_a_program_resolves_to_the_distribution_whose_console_script_it_is(index: SimpleIndex, client: PackageIndex) -> None:
    index.add("lintkit", "1.0.0", ["lintkit"], console_scripts={"lintkit": "lintkit.cli:main"})
    index.add("lintkit", "2.1.0", ["lintkit"], console_scripts={"lintkit": "lintkit.cli:main"})
    # Named after its first word: Sphinx's sphinx-build.
    index.add("DocBuild", "3.0", ["docbuild"], console_scripts={"docbuild-html": "docbuild.html:main", "docbuild": "docbuild:main"})
    index.add("toolbelt", "0.5", ["toolbelt"], data_scripts=["toolbelt"])
    assert client.resolve_command("lintkit") == Provider(distribution="lintkit", latest_version="2.1.0")
    assert client.resolve_command("docbuild-html") == Provider(distribution="docbuild", latest_version="3.0")
    assert client.resolve_command("toolbelt") == Provider(distribution="toolbelt", latest_version="0.5")


def test_a_namesake_without_the_script_is_not_the_program(index: SimpleIndex, client: PackageIndex) -> None:
    # PyPI's "docker" is the SDK, not the CLI: a project named like the program does not count.
    index.add("dockerish", "7.0", ["dockerish"])
    index.add("lintkit", "2.1.0", ["lintkit"], console_scripts={"Lintkit": "lintkit.cli:main"})
    assert client.resolve_command("dockerish") is None
    assert client.resolve_command("lintkit") is None  # script names are case-sensitive
    assert client.resolve_command("nosuchprogram") is None
    asked = len(index.requests)
    assert client.resolve_command("dockerish") is None and len(index.requests) == asked  # the answer is kept


ADDOPTION = """def pytest_addoption(parser):
    group = parser.getgroup("flakes")
    group.addoption("--flakes-strict", action="store_true")
    group.addoption('--flakes', action="store_true")
"""


def test_a_pytest_option_resolves_to_the_plugin_that_adds_it(index: SimpleIndex, client: PackageIndex) -> None:
    index.add("pytest-flakes", "4.0.5", ["pytest_flakes"], pytest_plugin=("pytest_flakes", ADDOPTION))
    assert client.resolve_pytest_option("--flakes") == Provider(distribution="pytest-flakes", latest_version="4.0.5")
    # An option of several words: the plugin is named after its first.
    assert client.resolve_pytest_option("--flakes-strict") == Provider(distribution="pytest-flakes", latest_version="4.0.5")
    # One download of the plugin's wheel for both questions.
    assert sum(path.startswith("/files/pytest_flakes-") and not path.endswith(".metadata") for path in index.requests) == 1


def test_a_namesake_that_is_no_plugin_or_lacks_the_option_is_not_taken(index: SimpleIndex, client: PackageIndex) -> None:
    index.add("pytest-lint", "1.0", ["pytest_lint"], pytest_plugin=("pytest_lint", 'def pytest_addoption(parser):\n    parser.addoption("--lint-all")\n'))
    index.add("pytest-shout", "1.0", ["pytest_shout"])  # no pytest11 entry point: not a plugin
    assert client.resolve_pytest_option("--lint") is None  # the plugin adds --lint-all, not --lint
    assert client.resolve_pytest_option("--shout") is None
