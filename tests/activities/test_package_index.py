"""PackageIndex against a local simple index (PEP 503 HTML and PEP 691 JSON) on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
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


def build_wheel(project: str, version: str, modules: list[str]) -> tuple[str, bytes]:
    """A minimal but well-formed pure-Python wheel shipping ``modules`` (packages)."""
    stem = f"{re.sub(r'[-_.]+', '_', project)}-{version}"
    info = f"{stem}.dist-info"
    files = {f"{m}/__init__.py": f"NAME = {m!r}\n" for m in modules}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n"
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

    def add(self, project: str, version: str, modules: list[str], *, yanked: bool = False) -> None:
        filename, data = build_wheel(project, version, modules)
        self.projects.setdefault(_normal(project), []).append((filename, yanked))
        self.blobs[filename] = data

    def page(self, project: str) -> tuple[str, bytes] | None:
        files = self.projects.get(project)
        if files is None:
            return None
        if self.style == "json":
            body = {
                "meta": {"api-version": "1.0"},
                "name": project,
                "files": [
                    {"filename": f, "url": f"../../files/{f}", "hashes": {"sha256": _sha(self.blobs[f])}, "yanked": y}
                    for f, y in files
                ],
            }
            return "application/vnd.pypi.simple.v1+json", json.dumps(body).encode()
        links = "".join(
            f'<a href="../../files/{f}#sha256={_sha(self.blobs[f])}"{" data-yanked=" if y else ""}>{f}</a><br/>\n' for f, y in files
        )
        return "text/html", f"<!DOCTYPE html><html><body><h1>Links for {project}</h1>\n{links}</body></html>".encode()


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
