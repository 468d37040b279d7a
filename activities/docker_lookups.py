"""The worker's real lookups for the Dockerfile specialist. Unlike the rest of this package they
have side effects (the docker daemon, ``apt-cache``): the worker builds them and injects them,
tests pass plain functions instead.

- ``LocalImageTags``: the tags of an image repository that the local docker daemon holds. There
  is no registry to ask on a build host without one; where there is, the daemon's images are
  still what a rebuild can use without a pull.
- ``AptCache``: the apt package index of the image a stage starts from, read by ``apt-cache``
  in a throw-away container of that image (after ``apt-get update`` when the image ships no
  package lists), else the index of this host.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import docker
import docker.errors

from specialists.dockerfile.apt import AptPackage
from specialists.dockerfile.base_image import parse_ref

_FIELDS = re.compile(r"^(Package|Provides|Replaces|Priority):\s*(.*)$")
# Run as root in the image: fetch the package lists if there are none, print the fields we read.
_SCRIPT = (
    "command -v apt-cache >/dev/null 2>&1 || exit 3; "
    "ls /var/lib/apt/lists/ 2>/dev/null | grep -q _Packages || apt-get -qq -o Acquire::http::Timeout=20 update >/dev/null 2>&1; "
    "apt-cache dumpavail | grep -E '^(Package|Provides|Replaces|Priority):'"
)
_SIMILAR = 0.8
_MAX_SIMILAR = 8


class LocalImageTags:
    """``ListImageTags`` backed by the local docker daemon's images."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        self._client = client

    def __call__(self, repository: str) -> list[str]:
        wanted = parse_ref(repository).repository
        try:
            client = self._client or docker.from_env(timeout=30)
            images = client.images.list(name=wanted)
        except docker.errors.DockerException:
            return []
        tags = {ref.tag for image in images for ref in map(parse_ref, image.tags) if ref.repository == wanted and ref.tag}
        return sorted(tags)


@dataclass
class AptIndex:
    """The fields of a distribution's packages that tell what may stand in for a missing one."""

    packages: dict[str, AptPackage] = field(default_factory=dict)
    providers: dict[str, list[str]] = field(default_factory=dict)
    replacers: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> AptIndex:
        index = cls()
        record: dict[str, str] = {}
        for line in [*text.splitlines(), "Package: "]:
            match = _FIELDS.match(line)
            if not match:
                continue
            key, value = match.groups()
            if key == "Package" and record.get("Package"):
                index._add(record)
                record = {}
            record[key] = value.strip()
        return index

    def _add(self, record: dict[str, str]) -> None:
        name = record["Package"]
        if name in self.packages:  # dumpavail lists each version; the first is the candidate
            return
        package = AptPackage(
            name, _names(record.get("Provides", "")), _names(record.get("Replaces", "")), record.get("Priority", "optional")
        )
        self.packages[name] = package
        for provided in package.provides:
            self.providers.setdefault(provided, []).append(name)
        for replaced in package.replaces:
            self.replacers.setdefault(replaced, []).append(name)

    def related(self, name: str) -> list[AptPackage]:
        found = [name] if name in self.packages else []
        found += self.providers.get(name, []) + self.replacers.get(name, [])
        stem = re.sub(r"\d+(?:\.\d+)*", "#", name)
        found += [n for n in self.packages if "#" in stem and re.sub(r"\d+(?:\.\d+)*", "#", n) == stem]
        found += difflib.get_close_matches(name, list(self.packages), n=_MAX_SIMILAR, cutoff=_SIMILAR)
        return [self.packages[n] for n in dict.fromkeys(found)]


def _names(relations: str) -> tuple[str, ...]:
    # "a (= 1.0), b | c, d:any (<< 2)" -> ("a", "b", "c", "d")
    names = []
    for part in re.split(r"[,|]", relations):
        word = part.strip().split(" ")[0].split(":")[0]
        if word:
            names.append(word)
    return tuple(names)


class AptCache:
    """``AptLookup`` backed by apt-cache in the stage's base image, else on this host."""

    def __init__(self, client: docker.DockerClient | None = None, keep: int = 4) -> None:
        self._client = client
        self._keep = keep
        self._indexes: OrderedDict[str | None, AptIndex] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, package: str, image: str | None) -> list[AptPackage]:
        return self.index(image).related(package)

    def index(self, image: str | None) -> AptIndex:
        with self._lock:
            if image not in self._indexes:
                text = (self._in_image(image) if image else "") or self._on_host()
                self._indexes[image] = AptIndex.parse(text)
                while len(self._indexes) > self._keep:
                    self._indexes.popitem(last=False)
            self._indexes.move_to_end(image)
            return self._indexes[image]

    def _in_image(self, image: str) -> str:
        try:
            client = self._client or docker.from_env(timeout=300)
            client.images.get(image)  # never pull: a missing image is not worth a registry round trip
            out = client.containers.run(
                image,
                ["-c", _SCRIPT],
                entrypoint="sh",
                user="0",
                remove=True,
                stdout=True,
                stderr=False,
                labels={"greenline.lookup": "apt"},
            )
        except docker.errors.DockerException:
            return ""
        return out.decode("utf-8", errors="replace") if isinstance(out, bytes) else ""

    def _on_host(self) -> str:
        if shutil.which("apt-cache") is None:
            return ""
        try:
            result = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return "\n".join(line for line in result.stdout.decode("utf-8", errors="replace").splitlines() if _FIELDS.match(line))
