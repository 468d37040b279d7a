"""The Dockerfile specialist on real build logs.

Every log below was recorded from the docker daemon of a build host (engine 20.10) building the
repository next to it: with the legacy builder (docker CLI 28 without buildx, which is what
``docker build`` runs there) and with BuildKit (docker CLI 20.10, ``DOCKER_BUILDKIT=1``, plain
progress). The apt and tag lookups are plain functions; the real ones are tested against the
daemon in tests/integration/test_dockerfile_repair.py.
"""

from __future__ import annotations

import pytest

from models import Category, Diagnosis
from specialists import router
from specialists.dockerfile import AptPackage, choose_tag, diagnose
from specialists.dockerfile.apt import hints, installs, rank
from specialists.dockerfile.apt import _apply as apply_apt_edits
from specialists.dockerfile.build import build_commands, failed_steps, find_instruction
from specialists.dockerfile.context import BuildContext, IgnoreRules
from specialists.dockerfile.entrypoint import image_files
from activities.docker_lookups import AptIndex
from specialists.dockerfile.syntax import parse
from specialists.logs import clean
from specialists.repo_view import RepoView

# --- the recorded builds ---------------------------------------------------------------------

REPOS: dict[str, tuple[dict[str, str], str]] = {
    "copy-moved": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
WORKDIR /app
COPY requirements.txt .
COPY app/main.py /app/main.py
CMD ["python3", "/app/main.py"]
""",
            "requirements.txt": "",
            "src/app/main.py": "print('hello')\n",
            "README.md": "# demo\n",
        },
        "docker build -q -t greenline-rec-copy .",
    ),
    "copy-multi": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm AS base
WORKDIR /app
COPY --chown=root:root requirements.txt setings.yaml ./
COPY app/ /app/app/
""",
            "requirements.txt": "",
            "config/settings.yaml": "debug: false\n",
            "service/app/__init__.py": "",
            "service/app/main.py": "print(1)\n",
            "service/tests/test_main.py": "",
            ".dockerignore": """\
**/*.pyc
.git
""",
        },
        "docker build -t greenline-rec-multi .",
    ),
    "copy-ignored": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
COPY config/local.env /etc/app.env
""",
            "config/local.env": "MODE=dev\n",
            "config/app.env": "MODE=prod\n",
            ".dockerignore": """\
# secrets stay out
config/local.env
""",
        },
        "docker build -t greenline-rec-ignored .",
    ),
    "copy-from-stage": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm AS build
RUN mkdir -p /out && echo hi > /out/app.bin
FROM greenline-sandbox:bookworm
COPY --from=build /out/ap.bin /usr/local/bin/app
""",
        },
        "docker build -t greenline-rec-from .",
    ),
    "copy-subdir": (
        {
            "services/api/Dockerfile": """\
FROM greenline-sandbox:bookworm
WORKDIR /srv
COPY server.py ./
COPY conf/gunicorn.conf.py ./
CMD ["python3", "server.py"]
""",
            "services/api/server.py": "print('api')\n",
            "services/api/config/gunicorn.conf.py": "workers = 2\n",
            "services/web/conf/gunicorn.conf.py": "workers = 4\n",
        },
        "docker build -q -t greenline-rec-subdir -f services/api/Dockerfile services/api",
    ),
    "pep668": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python3", "-m", "app"]
""",
            "requirements.txt": "flask==3.0.3\n",
            "app/__main__.py": "print('app')\n",
        },
        "docker build -q -t greenline-rec-pep668 .",
    ),
    "pep668-user": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
RUN useradd --create-home app
USER app
WORKDIR /home/app
COPY --chown=app requirements.txt .
RUN python3 -m pip install --user --no-cache-dir -r requirements.txt
""",
            "requirements.txt": "requests\n",
        },
        "docker build -q -t greenline-rec-pep668u .",
    ),
    "ensurepip": (
        {
            "Dockerfile": """\
FROM greenline-recbase-novenv:1
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
RUN pip install -r requirements.txt
""",
            "requirements.txt": "flask\n",
        },
        "docker build -q -t greenline-rec-ens .",
    ),
    "apt-renamed": (
        {
            "Dockerfile": "FROM greenline-sandbox:bookworm\nRUN apt-get update -qq \\\n    && apt-get install -y --no-install-recommends \\\n       ca-certificates \\\n       libssl1.1 \\\n       netcat \\\n       python \\\n    && rm -rf /var/lib/apt/lists/*\n",
        },
        "docker build -t greenline-rec-apt .",
    ),
    "apt-no-update": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
RUN apt-get install -y --no-install-recommends jq
""",
        },
        "docker build -t greenline-rec-aptnu .",
    ),
    "base-missing": (
        {
            "Dockerfile": """\
FROM greenline-recbase:12.2
RUN python3 --version
""",
        },
        "docker build -q -t greenline-rec-base .",
    ),
    "base-arg": (
        {
            "Dockerfile": """\
ARG BASE_VERSION=12.2
FROM greenline-recbase:${BASE_VERSION}-slim AS runtime
RUN python3 --version
""",
        },
        "docker build -t greenline-rec-basearg .",
    ),
    "entrypoint-moved": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
WORKDIR /app
COPY bin/ /app/bin/
ENTRYPOINT ["/app/start.sh"]
""",
            "bin/start.sh": """\
#!/bin/sh
echo started
""",
        },
        "docker build -q -t greenline-rec-ep1 . && docker run --rm greenline-rec-ep1",
    ),
    "cmd-script": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
WORKDIR /srv
COPY src/ ./src/
CMD python3 app/server.py
""",
            "src/server.py": "print('ok')\n",
        },
        "docker build -q -t greenline-rec-ep2 . && docker run --rm greenline-rec-ep2",
    ),
    "cmd-not-in-path": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
COPY scripts /usr/local/bin/
CMD ["entrypoint"]
""",
            "scripts/entrypoint.sh": """\
#!/bin/sh
echo ok
""",
        },
        "docker build -q -t greenline-rec-ep3 . && docker run --rm greenline-rec-ep3",
    ),
    "entrypoint-bad-shebang": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
COPY run.sh /run.sh
ENTRYPOINT ["/run.sh"]
""",
            "run.sh": """\
#!/bin/bash-missing
echo hi
""",
        },
        "docker build -q -t greenline-rec-ep4 . && docker run --rm greenline-rec-ep4",
    ),
    "cmd-shell-form": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
WORKDIR /opt/app
COPY . .
CMD ./serve --port 8000
""",
            "bin/serve": """\
#!/bin/sh
echo serving
""",
        },
        "docker build -q -t greenline-rec-ep5 . && docker run --rm greenline-rec-ep5",
    ),
    "run-tests-fail": (
        {
            "Dockerfile": """\
FROM greenline-sandbox:bookworm
WORKDIR /app
COPY . .
RUN python3 -c 'import sys; assert 1 + 1 == 3, "arithmetic"'
""",
            "app.py": "",
        },
        "docker build -q -t greenline-rec-tests .",
    ),
}

LOGS: dict[tuple[str, str], str] = {}

LOGS["copy-moved", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  5.632kB

Step 1/5 : FROM greenline-sandbox:bookworm
 ---> 820036ff5ce3
Step 2/5 : WORKDIR /app
 ---> Using cache
 ---> bede4bdb7df5
Step 3/5 : COPY requirements.txt .
 ---> 9db0a855e26d
Step 4/5 : COPY app/main.py /app/main.py
COPY failed: file not found in build context or excluded by .dockerignore: stat app/main.py: file does not exist
"""

LOGS["copy-moved", "buildkit"] = """\
#1 [internal] load build definition from Dockerfile
#1 sha256:1be009894fe1b62eef935d287d67cc8357cc8d8627f4aa7e3cd637e29db144f6
#1 transferring dockerfile: 170B 0.0s done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 sha256:9749de9e38a1c3e9f112687238a62c447ff6f2baada5195fe38734784069ae61
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/library/greenline-sandbox:bookworm
#3 sha256:c5d3efbe2583bca6accaeb99d849a24f37782c9b6ec738cb6f94eb6a8ffeaba9
#3 DONE 0.0s

#4 [1/4] FROM docker.io/library/greenline-sandbox:bookworm
#4 sha256:31a342cbe1ff97b1dd3cc6650a32dbe35ff157fe424527da686fa0de6fdd60c1
#4 DONE 0.0s

#6 [internal] load build context
#6 sha256:7208ada0bcbebc39211cc4a7b6bbffed822d1f17ed894ec37182623c46ef2303
#6 transferring context: 37B done
#6 DONE 0.0s

#5 [2/4] WORKDIR /app
#5 sha256:57e000d056ffafbb0a979f250640b9491a48fbff82546ba6c746ddb9e470a672
#5 CACHED

#8 [4/4] COPY app/main.py /app/main.py
#8 sha256:860e5b3ec0ce78fe240f510a0f41e46b0b091de25b584915c8c4f20980d7b453
#8 ERROR: "/app/main.py" not found: not found

#7 [3/4] COPY requirements.txt .
#7 sha256:ff05a09c4b06caef5b42c371eb7c73d6ddbca92c7c32d6cd2930b55630f83ab0
#7 CANCELED
------
 > [4/4] COPY app/main.py /app/main.py:
------
failed to compute cache key: "/app/main.py" not found: not found
"""

LOGS["copy-multi", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  8.704kB

Step 1/4 : FROM greenline-sandbox:bookworm AS base
 ---> 820036ff5ce3
Step 2/4 : WORKDIR /app
 ---> Using cache
 ---> bede4bdb7df5
Step 3/4 : COPY --chown=root:root requirements.txt setings.yaml ./
COPY failed: file not found in build context or excluded by .dockerignore: stat setings.yaml: file does not exist
"""

LOGS["copy-multi", "buildkit"] = """\
#1 [internal] load build definition from Dockerfile
#1 sha256:035e3a30bdf453b4dac042afb0461ce7345c5c3767ade6e7c86748d7abc02ac7
#1 transferring dockerfile: 168B done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 sha256:2b807ae8aca21eb8a341ee70357abc633a102c9cbb29e2fc638fa511cf6e0953
#2 transferring context: 54B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/library/greenline-sandbox:bookworm
#3 sha256:c5d3efbe2583bca6accaeb99d849a24f37782c9b6ec738cb6f94eb6a8ffeaba9
#3 DONE 0.0s

#4 [1/4] FROM docker.io/library/greenline-sandbox:bookworm
#4 sha256:31a342cbe1ff97b1dd3cc6650a32dbe35ff157fe424527da686fa0de6fdd60c1
#4 DONE 0.0s

#5 [2/4] WORKDIR /app
#5 sha256:57e000d056ffafbb0a979f250640b9491a48fbff82546ba6c746ddb9e470a672
#5 CACHED

#6 [internal] load build context
#6 sha256:8e79c2975bcb70a4b77b577ede884fdf8baac1385f962cadf7923fe41f62e23c
#6 transferring context: 37B done
#6 DONE 0.0s

#8 [4/4] COPY app/ /app/app/
#8 sha256:8349d294922db4ed177577044c5b10141c78d0b8e2d92d31115d5db2862bdce6
#8 ERROR: "/app" not found: not found

#7 [3/4] COPY --chown=root:root requirements.txt setings.yaml ./
#7 sha256:7d57e6d0b7b05617b8e185a55552050ec0df84dc1f1544fda0eca1a60ebb19b5
#7 ERROR: "/setings.yaml" not found: not found
------
 > [3/4] COPY --chown=root:root requirements.txt setings.yaml ./:
------
------
 > [4/4] COPY app/ /app/app/:
------
failed to compute cache key: "/app" not found: not found
"""

LOGS["pep668", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  4.608kB

Step 1/6 : FROM greenline-sandbox:bookworm
 ---> 820036ff5ce3
Step 2/6 : WORKDIR /app
 ---> Using cache
 ---> bede4bdb7df5
Step 3/6 : COPY requirements.txt .
 ---> 02739eb2321e
Step 4/6 : RUN pip install --no-cache-dir -r requirements.txt
 ---> Running in 5268b26f0411
\x1b[91merror: externally-managed-environment

× This environment is externally managed
╰─> To install Python packages system-wide, try apt install
    python3-xyz, where xyz is the package you are trying to
    install.
    
    If you wish to install a non-Debian-packaged Python package,
    create a virtual environment using python3 -m venv path/to/venv.
    Then use path/to/venv/bin/python and path/to/venv/bin/pip. Make
    sure you have python3-full installed.
    
    If you wish to install a non-Debian packaged Python application,
    it may be easiest to use pipx install xyz, which will manage a
    virtual environment for you. Make sure you have pipx installed.
    
    See /usr/share/doc/python3.11/README.venv for more information.

note: If you believe this is a mistake, please contact your Python installation or OS distribution provider. You can override this, at the risk of breaking your Python installation or OS, by passing --break-system-packages.
hint: See PEP 668 for the detailed specification.
\x1b[0mThe command '/bin/sh -c pip install --no-cache-dir -r requirements.txt' returned a non-zero code: 1
"""

LOGS["pep668", "buildkit"] = """\
#1 [internal] load build definition from Dockerfile
#1 sha256:7d2a0d1adabaab5556e81e9fe5deeb6fe273ee9411d14898e93a2e9428d37d5c
#1 transferring dockerfile: 197B done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 sha256:a83d98aa31dbec48baadebc27135bf8d22f4d0a2eb713a1c6a71171a1e8a57e8
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/library/greenline-sandbox:bookworm
#3 sha256:c5d3efbe2583bca6accaeb99d849a24f37782c9b6ec738cb6f94eb6a8ffeaba9
#3 DONE 0.0s

#4 [1/5] FROM docker.io/library/greenline-sandbox:bookworm
#4 sha256:31a342cbe1ff97b1dd3cc6650a32dbe35ff157fe424527da686fa0de6fdd60c1
#4 DONE 0.0s

#6 [internal] load build context
#6 sha256:c3451caafc17207f554df9332e6d28251703339d7e137468cc4999089b47abe6
#6 transferring context: 335B done
#6 DONE 0.0s

#5 [2/5] WORKDIR /app
#5 sha256:57e000d056ffafbb0a979f250640b9491a48fbff82546ba6c746ddb9e470a672
#5 CACHED

#7 [3/5] COPY requirements.txt .
#7 sha256:5005d6cacc771b974fb7f9ba0f63b91075cce783485ee04d77b7497de3097872
#7 DONE 0.0s

#8 [4/5] RUN pip install --no-cache-dir -r requirements.txt
#8 sha256:e3aa9e2db7afa43ff73fa158747bdb685f3126756adf612248b76774ecc0f0c1
#8 0.502 error: externally-managed-environment
#8 0.502 
#8 0.502 × This environment is externally managed
#8 0.502 ╰─> To install Python packages system-wide, try apt install
#8 0.502     python3-xyz, where xyz is the package you are trying to
#8 0.502     install.
#8 0.502     
#8 0.502     If you wish to install a non-Debian-packaged Python package,
#8 0.502     create a virtual environment using python3 -m venv path/to/venv.
#8 0.502     Then use path/to/venv/bin/python and path/to/venv/bin/pip. Make
#8 0.502     sure you have python3-full installed.
#8 0.502     
#8 0.502     If you wish to install a non-Debian packaged Python application,
#8 0.502     it may be easiest to use pipx install xyz, which will manage a
#8 0.502     virtual environment for you. Make sure you have pipx installed.
#8 0.502     
#8 0.502     See /usr/share/doc/python3.11/README.venv for more information.
#8 0.502 
#8 0.502 note: If you believe this is a mistake, please contact your Python installation or OS distribution provider. You can override this, at the risk of breaking your Python installation or OS, by passing --break-system-packages.
#8 0.502 hint: See PEP 668 for the detailed specification.
#8 ERROR: executor failed running [/bin/sh -c pip install --no-cache-dir -r requirements.txt]: exit code: 1
------
 > [4/5] RUN pip install --no-cache-dir -r requirements.txt:
------
executor failed running [/bin/sh -c pip install --no-cache-dir -r requirements.txt]: exit code: 1
"""

LOGS["apt-renamed", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  2.048kB

Step 1/2 : FROM greenline-sandbox:bookworm
 ---> 820036ff5ce3
Step 2/2 : RUN apt-get update -qq     && apt-get install -y --no-install-recommends        ca-certificates        libssl1.1        netcat        python     && rm -rf /var/lib/apt/lists/*
 ---> Running in 18f5944fbe9b
Reading package lists...
Building dependency tree...
Package python is not available, but is referred to by another package.
This may mean that the package is missing, has been obsoleted, or
is only available from another source
However the following packages replace it:
  python-is-python3 2to3

Package netcat is a virtual package provided by:
  netcat-openbsd 1.219-1
  netcat-traditional 1.10-47

\x1b[91mE\x1b[0m\x1b[91m: \x1b[0m\x1b[91mUnable to locate package libssl1.1\x1b[0m\x1b[91m
\x1b[0m\x1b[91mE\x1b[0m\x1b[91m: \x1b[0m\x1b[91mCouldn't find any package by glob 'libssl1.1'\x1b[0m\x1b[91m
\x1b[0m\x1b[91mE\x1b[0m\x1b[91m: \x1b[0m\x1b[91mCouldn't find any package by regex 'libssl1.1'\x1b[0m\x1b[91m
\x1b[0m\x1b[91mE\x1b[0m\x1b[91m: \x1b[0m\x1b[91mPackage 'netcat' has no installation candidate\x1b[0m\x1b[91m
\x1b[0m\x1b[91mE\x1b[0m\x1b[91m: \x1b[0m\x1b[91mPackage 'python' has no installation candidate\x1b[0m\x1b[91m
\x1b[0mThe command '/bin/sh -c apt-get update -qq     && apt-get install -y --no-install-recommends        ca-certificates        libssl1.1        netcat        python     && rm -rf /var/lib/apt/lists/*' returned a non-zero code: 100
"""

LOGS["apt-renamed", "buildkit"] = """\
#1 [internal] load build definition from Dockerfile
#1 sha256:dcd2dce81cca2f4bb4c4ef64f4ff53b35968eabac9f9ad7292498e54fd907315
#1 transferring dockerfile: 259B 0.0s done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 sha256:f9331ad234556b5fd0d09f5fc55a02950b7072810d018c3c24d440001b48f068
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/library/greenline-sandbox:bookworm
#3 sha256:c5d3efbe2583bca6accaeb99d849a24f37782c9b6ec738cb6f94eb6a8ffeaba9
#3 DONE 0.0s

#4 [1/2] FROM docker.io/library/greenline-sandbox:bookworm
#4 sha256:31a342cbe1ff97b1dd3cc6650a32dbe35ff157fe424527da686fa0de6fdd60c1
#4 CACHED

#5 [2/2] RUN apt-get update -qq     && apt-get install -y --no-install-recommends        ca-certificates        libssl1.1        netcat        python     && rm -rf /var/lib/apt/lists/*
#5 sha256:4a8d0582806e599fa2fc3887ead868458b7c58470713018ebe26726a51f2498c
#5 2.747 Reading package lists...
#5 2.759 Building dependency tree...
#5 3.074 Package python is not available, but is referred to by another package.
#5 3.074 This may mean that the package is missing, has been obsoleted, or
#5 3.074 is only available from another source
#5 3.074 However the following packages replace it:
#5 3.074   python-is-python3 2to3
#5 3.074 
#5 3.074 Package netcat is a virtual package provided by:
#5 3.074   netcat-openbsd 1.219-1
#5 3.074   netcat-traditional 1.10-47
#5 3.074 
#5 3.075 E: Unable to locate package libssl1.1
#5 3.075 E: Couldn't find any package by glob 'libssl1.1'
#5 3.075 E: Couldn't find any package by regex 'libssl1.1'
#5 3.075 E: Package 'netcat' has no installation candidate
#5 3.075 E: Package 'python' has no installation candidate
#5 ERROR: executor failed running [/bin/sh -c apt-get update -qq     && apt-get install -y --no-install-recommends        ca-certificates        libssl1.1        netcat        python     && rm -rf /var/lib/apt/lists/*]: exit code: 100
------
 > [2/2] RUN apt-get update -qq     && apt-get install -y --no-install-recommends        ca-certificates        libssl1.1        netcat        python     && rm -rf /var/lib/apt/lists/*:
------
executor failed running [/bin/sh -c apt-get update -qq     && apt-get install -y --no-install-recommends        ca-certificates        libssl1.1        netcat        python     && rm -rf /var/lib/apt/lists/*]: exit code: 100
"""

LOGS["base-missing", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  2.048kB

Step 1/2 : FROM greenline-recbase:12.2
Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host
"""

LOGS["base-missing", "buildkit"] = """\
#1 [internal] load build definition from Dockerfile
#1 sha256:929d07b1a609dbf3da9c955c1b598dfa27ed826dd1748537caf501eae7a4190b
#1 transferring dockerfile: 87B done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 sha256:2668e13f6e245526456c61140bd741c32cfb7d5295f35899a6b3f58e79b14afb
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/library/greenline-recbase:12.2
#3 sha256:8c73006585b8d296514aec28b7f28ff3f613c73dbe86c825fc948d84c53a5cd5
#3 ERROR: failed to do request: Head "https://registry-1.docker.io/v2/library/greenline-recbase/manifests/12.2": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host
------
 > [internal] load metadata for docker.io/library/greenline-recbase:12.2:
------
failed to solve with frontend dockerfile.v0: failed to create LLB definition: failed to do request: Head "https://registry-1.docker.io/v2/library/greenline-recbase/manifests/12.2": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host
"""

LOGS["ensurepip", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  3.072kB

Step 1/6 : FROM greenline-recbase-novenv:1
 ---> 371c10439a13
Step 2/6 : WORKDIR /app
 ---> Using cache
 ---> a642ca40c115
Step 3/6 : COPY requirements.txt .
 ---> Using cache
 ---> 5668b3f56210
Step 4/6 : RUN python3 -m venv /opt/venv
 ---> Running in 4f935bb1987a
The virtual environment was not created successfully because ensurepip is not
available.  On Debian/Ubuntu systems, you need to install the python3-venv
package using the following command.

    apt install python3.11-venv

You may need to use sudo with that command.  After installing the python3-venv
package, recreate your virtual environment.

Failing command: /opt/venv/bin/python3

The command '/bin/sh -c python3 -m venv /opt/venv' returned a non-zero code: 1
"""

LOGS["ensurepip", "buildkit"] = """\
#1 [internal] load build definition from Dockerfile
#1 sha256:ebb72410a311b68df7b5c7b05f7ee1dd2a891e0ebed72e92b0c8e5a3cf913a15
#1 transferring dockerfile: 205B done
#1 DONE 0.0s

#2 [internal] load .dockerignore
#2 sha256:a4960c2ef6e5edeac8f36d12ee63388b0e7eec9a04d5f70e61df3d6978a4704c
#2 transferring context: 2B done
#2 DONE 0.0s

#3 [internal] load metadata for docker.io/library/greenline-recbase-novenv:1
#3 sha256:f7c0061300a1d20a9d21acbf93b871d6b2f74d623620bbb1b38e327859a94702
#3 DONE 0.0s

#4 [1/5] FROM docker.io/library/greenline-recbase-novenv:1
#4 sha256:35553f812fb5e7c03d6a2dbdcc0f96412f582098846795b1cb733cb9379acc1e
#4 DONE 0.0s

#6 [internal] load build context
#6 sha256:75154199f586325343ac90e5e5ef8257b4e222f98cf09c2263fb2c2414d3fb07
#6 transferring context: 49B done
#6 DONE 0.0s

#5 [2/5] WORKDIR /app
#5 sha256:0e120ac3994acc9ab507e00ba660ee809b2057b8c2c9de1e7182345d15bf4833
#5 CACHED

#7 [3/5] COPY requirements.txt .
#7 sha256:7fe7b18e422f0365e3d2592fddb4aa6140f5fd8d039ac42bd30828180a1f3658
#7 CACHED

#8 [4/5] RUN python3 -m venv /opt/venv
#8 sha256:f14b00d0b1d383e633656b80b181581d1608146fd5c06674bd47491206e09387
#8 0.356 The virtual environment was not created successfully because ensurepip is not
#8 0.356 available.  On Debian/Ubuntu systems, you need to install the python3-venv
#8 0.356 package using the following command.
#8 0.356 
#8 0.356     apt install python3.11-venv
#8 0.356 
#8 0.356 You may need to use sudo with that command.  After installing the python3-venv
#8 0.356 package, recreate your virtual environment.
#8 0.356 
#8 0.356 Failing command: /opt/venv/bin/python3
#8 0.356 
#8 ERROR: executor failed running [/bin/sh -c python3 -m venv /opt/venv]: exit code: 1
------
 > [4/5] RUN python3 -m venv /opt/venv:
------
executor failed running [/bin/sh -c python3 -m venv /opt/venv]: exit code: 1
"""

LOGS["copy-ignored", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  4.608kB

Step 1/2 : FROM greenline-sandbox:bookworm
 ---> 820036ff5ce3
Step 2/2 : COPY config/local.env /etc/app.env
COPY failed: file not found in build context or excluded by .dockerignore: stat config/local.env: file does not exist
"""

LOGS["copy-from-stage", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  2.048kB

Step 1/4 : FROM greenline-sandbox:bookworm AS build
 ---> 820036ff5ce3
Step 2/4 : RUN mkdir -p /out && echo hi > /out/app.bin
 ---> Using cache
 ---> f69a1757c59c
Step 3/4 : FROM greenline-sandbox:bookworm
 ---> 820036ff5ce3
Step 4/4 : COPY --from=build /out/ap.bin /usr/local/bin/app
COPY failed: stat out/ap.bin: file does not exist
"""

LOGS["copy-subdir", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  4.608kB

Step 1/5 : FROM greenline-sandbox:bookworm
 ---> 820036ff5ce3
Step 2/5 : WORKDIR /srv
 ---> Using cache
 ---> 1f901c773efa
Step 3/5 : COPY server.py ./
 ---> b24c0c56ca65
Step 4/5 : COPY conf/gunicorn.conf.py ./
COPY failed: file not found in build context or excluded by .dockerignore: stat conf/gunicorn.conf.py: file does not exist
"""

LOGS["pep668-user", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  3.072kB

Step 1/6 : FROM greenline-sandbox:bookworm
 ---> 820036ff5ce3
Step 2/6 : RUN useradd --create-home app
 ---> Running in 9e9929654ebf
Removing intermediate container 9e9929654ebf
 ---> 7980106ea607
Step 3/6 : USER app
 ---> Running in 9f5d581979ad
Removing intermediate container 9f5d581979ad
 ---> 061877a305a2
Step 4/6 : WORKDIR /home/app
 ---> Running in 711412da1ab7
Removing intermediate container 711412da1ab7
 ---> a4ac0b50be3e
Step 5/6 : COPY --chown=app requirements.txt .
 ---> ea1ee15eaf23
Step 6/6 : RUN python3 -m pip install --user --no-cache-dir -r requirements.txt
 ---> Running in d93193b6c2d8
\x1b[91merror: externally-managed-environment

× This environment is externally managed
╰─> To install Python packages system-wide, try apt install
    python3-xyz, where xyz is the package you are trying to
    install.
    
    If you wish to install a non-Debian-packaged Python package,
    create a virtual environment using python3 -m venv path/to/venv.
    Then use path/to/venv/bin/python and path/to/venv/bin/pip. Make
    sure you have python3-full installed.
    
    If you wish to install a non-Debian packaged Python application,
    it may be easiest to use pipx install xyz, which will manage a
    virtual environment for you. Make sure you have pipx installed.
    
    See /usr/share/doc/python3.11/README.venv for more information.

note: If you believe this is a mistake, please contact your Python installation or OS distribution provider. You can override this, at the risk of breaking your Python installation or OS, by passing --break-system-packages.
hint: See PEP 668 for the detailed specification.
\x1b[0mThe command '/bin/sh -c python3 -m pip install --user --no-cache-dir -r requirements.txt' returned a non-zero code: 1
"""

LOGS["apt-no-update", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  2.048kB

Step 1/2 : FROM greenline-sandbox:bookworm
 ---> 820036ff5ce3
Step 2/2 : RUN apt-get install -y --no-install-recommends jq
 ---> Running in 9eee4dbd0927
Reading package lists...
Building dependency tree...
\x1b[91mE\x1b[0m\x1b[91m: Unable to locate package jq\x1b[0m\x1b[91m
\x1b[0mThe command '/bin/sh -c apt-get install -y --no-install-recommends jq' returned a non-zero code: 100
"""

LOGS["base-arg", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon  2.048kB

Step 1/3 : ARG BASE_VERSION=12.2
Step 2/3 : FROM greenline-recbase:${BASE_VERSION}-slim AS runtime
Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host
"""

LOGS["entrypoint-moved", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

sha256:1a4cb2c87fb447c08076e39e77120e41f887a8b1e92f758976d403185ecb1b5f
docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/app/start.sh": stat /app/start.sh: no such file or directory: unknown

Run 'docker run --help' for more information
"""

LOGS["cmd-script", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

sha256:49d4fab5fe8745b90977b21dbc5619f0b834a3394961a974e1288baa0d823e3a
python3: can't open file '/srv/app/server.py': [Errno 2] No such file or directory
"""

LOGS["cmd-not-in-path", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

sha256:6b671d8f526660e5422c66a05a69191969a04dce71f44bf3d3dce89b429c1be0
docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "entrypoint": executable file not found in $PATH: unknown

Run 'docker run --help' for more information
"""

LOGS["cmd-not-in-path", "buildkit"] = """\
sha256:8a4f34ae36b248ea9ad55324444e86ebdf902957b5255b15e14c9c777851e0b1
docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "entrypoint": executable file not found in $PATH: unknown.
"""

LOGS["entrypoint-bad-shebang", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

sha256:7430d4dcbb8addc00c3d35ca6c2ea854facf73e129ec365ab79f636eeb941ab4
exec /run.sh: no such file or directory
"""

LOGS["cmd-shell-form", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

sha256:2c2127f47e52405f40ff5862d3fb0286874a9f9a8b1441f48d8f846e7cb1c376
/bin/sh: 1: ./serve: not found
"""

LOGS["run-tests-fail", "legacy"] = """\
DEPRECATED: The legacy builder is deprecated and will be removed in a future release.
            BuildKit is currently disabled; enable it by removing the DOCKER_BUILDKIT=0
            environment-variable.

Sending build context to Docker daemon   2.56kB

Step 1/4 : FROM greenline-sandbox:bookworm
 ---> 820036ff5ce3
Step 2/4 : WORKDIR /app
 ---> Using cache
 ---> bede4bdb7df5
Step 3/4 : COPY . .
 ---> 1fc8e94c83af
Step 4/4 : RUN python3 -c 'import sys; assert 1 + 1 == 3, "arithmetic"'
 ---> Running in 49315b191d99
\x1b[91mTraceback (most recent call last):
\x1b[0m\x1b[91m  File "<string>", line 1, in <module>
\x1b[0m\x1b[91mAssertionError: arithmetic
\x1b[0mThe command '/bin/sh -c python3 -c 'import sys; assert 1 + 1 == 3, "arithmetic"'' returned a non-zero code: 1
"""


# --- fakes of the lookups --------------------------------------------------------------------

# `apt-cache show` of bookworm, the fields the index reads (recorded on the build host).
BOOKWORM = """\
Package: netcat-openbsd
Replaces: netcat (<< 1.10-35)
Provides: netcat
Priority: optional
Package: netcat-traditional
Provides: netcat
Priority: standard
Package: libssl3
Priority: optional
Package: libssl-dev
Priority: optional
Package: python-is-python3
Replaces: python, python-dev-is-python2, python-dev-is-python3 (<< 3.11.1-2), python-is-python2, python-is-python2-but-deprecated, python-minimal
Priority: optional
Package: 2to3
Replaces: python (<< 2.7.14-4)
Priority: optional
Package: jq
Priority: optional
"""
INDEX = AptIndex.parse(BOOKWORM)
apt_questions: list[tuple[str, str | None]] = []
tag_questions: list[str] = []


def apt(name: str, image: str | None) -> list[AptPackage]:
    apt_questions.append((name, image))
    return INDEX.related(name)


def tags(repository: str) -> list[str]:
    tag_questions.append(repository)
    return ["11.7", "12.4", "12.9", "13.0", "12.3-slim", "12.9-slim", "latest"]


@pytest.fixture(autouse=True)
def _forget_questions() -> None:
    apt_questions.clear()
    tag_questions.clear()


def diagnoses(name: str, builder: str = "legacy", files: dict[str, str] | None = None, **lookups: object) -> list[Diagnosis]:
    repo, cmd = REPOS[name]
    kwargs = {"apt_lookup": apt, "list_image_tags": tags, **lookups}
    return list(diagnose(RepoView(files if files is not None else repo), clean(LOGS[name, builder]), cmd, **kwargs))  # type: ignore[arg-type]


def fixed(name: str, builder: str = "legacy", files: dict[str, str] | None = None, **lookups: object) -> tuple[Diagnosis, str]:
    """The one diagnosis of a build, which must carry a patch, and the patched Dockerfile."""
    found = diagnoses(name, builder, files, **lookups)
    assert len(found) == 1, found
    diagnosis = found[0]
    assert diagnosis.patch is not None, diagnosis.escalate_reason
    assert diagnosis.category is Category.DOCKER and diagnosis.specialist == "dockerfile"
    assert len(diagnosis.patch.changes) == 1
    content = diagnosis.patch.changes[0].content
    assert content is not None
    return diagnosis, content


def escalated(name: str, builder: str = "legacy", files: dict[str, str] | None = None, **lookups: object) -> Diagnosis:
    found = diagnoses(name, builder, files, **lookups)
    assert len(found) == 1 and found[0].patch is None, found
    assert found[0].escalate_reason
    return found[0]


BUILDERS = pytest.mark.parametrize("builder", ["legacy", "buildkit"])


# --- COPY / ADD of a missing path -----------------------------------------------------------------


@BUILDERS
def test_copy_of_a_moved_file_points_at_its_new_place(builder: str) -> None:
    diagnosis, text = fixed("copy-moved", builder)
    assert text == REPOS["copy-moved"][0]["Dockerfile"].replace("COPY app/main.py", "COPY src/app/main.py")
    assert diagnosis.patch is not None and diagnosis.patch.paths == ["Dockerfile"]
    assert diagnosis.confidence == 0.85
    assert "COPY app/main.py /app/main.py" in diagnosis.evidence
    assert any("app/main.py" in line and ("not found" in line or "does not exist" in line) for line in diagnosis.evidence[1:])


def test_buildkit_names_every_failing_copy_and_both_are_fixed() -> None:
    diagnosis, text = fixed("copy-multi", "buildkit")
    assert "COPY --chown=root:root requirements.txt config/settings.yaml ./\n" in text
    assert "COPY service/app/ /app/app/\n" in text  # a folder, still written as one
    assert diagnosis.confidence == 0.7  # one of them is a spelling, not a move


def test_the_legacy_builder_stops_at_the_first_failing_copy() -> None:
    _, text = fixed("copy-multi", "legacy")
    assert "requirements.txt config/settings.yaml ./" in text
    assert "COPY app/ /app/app/" in text  # the next rebuild will show this one


def test_copy_in_a_context_below_the_root_only_looks_inside_the_context() -> None:
    # services/web/conf/gunicorn.conf.py has the exact path asked for, but is outside the context.
    diagnosis, text = fixed("copy-subdir")
    assert diagnosis.patch is not None and diagnosis.patch.paths == ["services/api/Dockerfile"]
    assert "COPY config/gunicorn.conf.py ./\n" in text


def test_a_path_dockerignore_excludes_is_not_copied_around_it() -> None:
    diagnosis = escalated("copy-ignored", "legacy")
    assert "config/local.env" in (diagnosis.escalate_reason or "") and ".dockerignore" in (diagnosis.escalate_reason or "")


def test_candidates_that_dockerignore_excludes_are_not_chosen() -> None:
    files = dict(REPOS["copy-moved"][0])
    files[".dockerignore"] = "src/\n"
    files["old/app/main.py"] = "print('old')\n"
    _, text = fixed("copy-moved", files=files)
    assert "COPY old/app/main.py /app/main.py" in text


def test_two_equally_likely_candidates_escalate() -> None:
    files = {k: v for k, v in REPOS["copy-moved"][0].items() if k != "src/app/main.py"}
    files.update({"a/app/main.py": "", "b/app/main.py": ""})
    diagnosis = escalated("copy-moved", files=files)
    assert "a/app/main.py" in (diagnosis.escalate_reason or "") and "b/app/main.py" in (diagnosis.escalate_reason or "")


def test_nothing_alike_in_the_context_escalates() -> None:
    files = {k: v for k, v in REPOS["copy-moved"][0].items() if k != "src/app/main.py"}
    assert "resembles" in (escalated("copy-moved", files=files).escalate_reason or "")


def test_the_same_name_in_two_places_is_a_choice_for_a_person() -> None:
    view = RepoView(
        {"Dockerfile": "", "backend/requirements.txt": "", "docs/requirements.txt": "", "conf/app.ini": "", "cfg/x/app.ini": ""}
    )
    context = BuildContext(view, "", "Dockerfile")
    first, second = context.closest("requirements.txt")[:2]
    assert first.score == second.score  # nothing tells them apart: the specialist escalates
    # A folder that kept more of the path, or whose name is nearer, is the likelier move.
    assert context.closest("config/app.ini")[0].path == "conf/app.ini"
    assert context.closest("x/app.ini")[0].path == "cfg/x/app.ini"


def test_copy_from_another_stage_escalates() -> None:
    diagnosis = escalated("copy-from-stage")
    assert "--from=build" in (diagnosis.escalate_reason or "") or "copies from build" in (diagnosis.escalate_reason or "")


# --- pip and PEP 668 ------------------------------------------------------------------------------


@BUILDERS
def test_externally_managed_python_gets_a_venv_on_path_before_pip(builder: str) -> None:
    diagnosis, text = fixed("pep668", builder)
    assert text == REPOS["pep668"][0]["Dockerfile"].replace(
        "RUN pip install", 'RUN python3 -m venv /opt/venv\nENV PATH="/opt/venv/bin:$PATH"\nRUN pip install'
    )
    assert diagnosis.patch is not None
    assert "break-system-packages" not in diagnosis.patch.diff and "EXTERNALLY-MANAGED" not in diagnosis.patch.diff
    assert "error: externally-managed-environment" in diagnosis.evidence


def test_under_a_non_root_user_the_venv_is_made_before_it_and_pip_drops_user() -> None:
    _, text = fixed("pep668-user")
    assert text == (
        "FROM greenline-sandbox:bookworm\n"
        "RUN useradd --create-home app\n"
        "RUN python3 -m venv /opt/venv && chown -R app /opt/venv\n"
        'ENV PATH="/opt/venv/bin:$PATH"\n'
        "USER app\n"
        "WORKDIR /home/app\n"
        "COPY --chown=app requirements.txt .\n"
        "RUN python3 -m pip install --no-cache-dir -r requirements.txt\n"
    )


def test_a_venv_the_stage_makes_but_never_puts_on_path_is_put_on_path() -> None:
    # Same failing step as recorded; the stage made a venv earlier and forgot PATH.
    files = dict(REPOS["pep668"][0])
    files["Dockerfile"] = files["Dockerfile"].replace("COPY requirements.txt .\n", "COPY requirements.txt .\nRUN python3 -m venv /venv\n")
    _, text = fixed("pep668", files=files)
    assert 'RUN python3 -m venv /venv\nENV PATH="/venv/bin:$PATH"\nRUN pip install' in text
    assert "/opt/venv" not in text


def test_python_from_apt_gets_its_venv_package_too() -> None:
    files = dict(REPOS["pep668"][0])
    files["Dockerfile"] = files["Dockerfile"].replace(
        "WORKDIR /app\n", "RUN apt-get update && apt-get install -y --no-install-recommends \\\n    python3 python3-pip\nWORKDIR /app\n"
    )
    _, text = fixed("pep668", files=files)
    assert "    python3 python3-pip python3-venv\n" in text
    assert "RUN python3 -m venv /opt/venv\n" in text


def test_crlf_dockerfiles_keep_their_line_ends() -> None:
    files = dict(REPOS["pep668"][0])
    files["Dockerfile"] = files["Dockerfile"].replace("\n", "\r\n")
    _, text = fixed("pep668", files=files)
    assert 'RUN python3 -m venv /opt/venv\r\nENV PATH="/opt/venv/bin:$PATH"\r\nRUN pip install' in text
    assert "\n" not in text.replace("\r\n", "")


@BUILDERS
def test_a_python_without_ensurepip_gets_the_package_the_log_names(builder: str) -> None:
    diagnosis, text = fixed("ensurepip", builder)
    new_line = "RUN apt-get update && apt-get install -y --no-install-recommends python3.11-venv && rm -rf /var/lib/apt/lists/*\n"
    assert text == REPOS["ensurepip"][0]["Dockerfile"].replace("RUN python3 -m venv", new_line + "RUN python3 -m venv")
    assert any("ensurepip" in line for line in diagnosis.evidence)


# --- apt packages --------------------------------------------------------------------------------


@BUILDERS
def test_renamed_virtual_and_replaced_packages_get_their_successors(builder: str) -> None:
    diagnosis, text = fixed("apt-renamed", builder)
    assert text == REPOS["apt-renamed"][0]["Dockerfile"].replace("libssl1.1 ", "libssl3 ").replace("netcat ", "netcat-openbsd ").replace(
        "python \\", "python-is-python3 \\"
    )
    assert {name for name, _ in apt_questions} == {"libssl1.1", "netcat", "python"}
    assert {image for _, image in apt_questions} == {"greenline-sandbox:bookworm"}
    assert "E: Unable to locate package libssl1.1" in diagnosis.evidence


def test_without_a_lookup_what_apt_said_is_not_enough_for_every_package() -> None:
    diagnosis = escalated("apt-renamed", apt_lookup=None)
    reason = diagnosis.escalate_reason or ""
    assert "libssl1.1" in reason and "no package lookup" in reason
    assert "netcat" not in reason.split("(")[0] and "python " not in reason


def test_a_package_the_distribution_has_means_the_lists_were_never_fetched() -> None:
    diagnosis, text = fixed("apt-no-update")
    assert text == "FROM greenline-sandbox:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends jq\n"
    assert "apt-get update" in diagnosis.summary


def test_a_fix_that_changes_nothing_is_an_escalation() -> None:
    # e.g. the package comes from a script the RUN calls: the Dockerfile has nothing to change.
    case = _case(RepoView({"Dockerfile": "FROM debian\nRUN ./install-deps.sh\n"}), "docker build .")
    diagnosis = case.patched("apt cannot install libfoo1", [], 0.8, case.dockerfile.text)
    assert diagnosis.patch is None and "does not name what to change" in (diagnosis.escalate_reason or "")


def test_a_step_that_is_not_in_the_dockerfile_gives_nothing() -> None:
    files = {"Dockerfile": "FROM greenline-sandbox:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends jq\n"}
    assert diagnoses("apt-no-update", files=files) == []


def test_apt_hints_are_read_from_the_real_output() -> None:
    said = hints(clean(LOGS["apt-renamed", "legacy"]))
    assert [p.name for p in said["python"]] == ["python-is-python3", "2to3"]
    assert [p.name for p in said["netcat"]] == ["netcat-openbsd", "netcat-traditional"]
    assert "libssl1.1" not in said


def test_ranking_prefers_providers_then_replacements_then_newer_versions_then_lookalikes() -> None:
    assert [p.name for _, p, _ in rank("netcat", INDEX.related("netcat"))][:2] == ["netcat-openbsd", "netcat-traditional"]
    assert rank("libssl1.1", INDEX.related("libssl1.1"))[0][1].name == "libssl3"
    candidates = [AptPackage("libfoo2"), AptPackage("libfoo3"), AptPackage("libfoo-dev"), AptPackage("libfoe1")]
    assert [p.name for _, p, _ in rank("libfoo1", candidates)][:2] == ["libfoo3", "libfoo2"]
    assert rank("zlib1g", [AptPackage("bash")]) == []


def test_a_successor_already_in_the_install_list_replaces_nothing_twice() -> None:
    text = "FROM debian\nRUN apt-get update && apt-get install -y \\\n    netcat \\\n    netcat-openbsd:amd64 \\\n    libssl1.1:amd64=1.1.1n-0 curl\n"
    [run] = parse("Dockerfile", text).instructions[1:]
    new = apply_apt_edits(
        text, installs(run), {"netcat": ("netcat-openbsd", "provides it"), "libssl1.1": ("libssl3", "is its newer version")}, False
    )
    # The old name's line goes; an architecture stays, a version pin of the old package does not.
    assert new == "FROM debian\nRUN apt-get update && apt-get install -y \\\n    netcat-openbsd:amd64 \\\n    libssl3:amd64 curl\n"


def test_the_apt_index_reads_provides_and_replaces() -> None:
    assert {p.name for p in INDEX.related("python")} >= {"python-is-python3", "2to3"}
    assert INDEX.packages["netcat-openbsd"].provides == ("netcat",) and INDEX.packages["netcat-openbsd"].replaces == ("netcat",)
    assert [p.name for p in INDEX.related("jq")][0] == "jq"


# --- base image tags ------------------------------------------------------------------------------


@BUILDERS
def test_a_missing_base_tag_moves_to_the_nearest_of_the_same_major(builder: str) -> None:
    diagnosis, text = fixed("base-missing", builder)
    assert text == "FROM greenline-recbase:12.4\nRUN python3 --version\n"
    assert tag_questions == ["greenline-recbase"]
    # The daemon could not even ask a registry: a weaker case than "manifest unknown".
    assert diagnosis.confidence == 0.6 and "cannot be reached" in diagnosis.summary


def test_a_tag_from_a_build_argument_changes_the_arguments_default() -> None:
    _, text = fixed("base-arg")
    assert text == "ARG BASE_VERSION=12.3\nFROM greenline-recbase:${BASE_VERSION}-slim AS runtime\nRUN python3 --version\n"


def test_every_stage_on_the_missing_base_moves_with_it() -> None:
    files = {
        "Dockerfile": "FROM greenline-recbase:12.2\nRUN python3 --version\nFROM greenline-recbase:12.2 AS final\nCOPY --from=0 /etc/hostname /x\n"
    }
    _, text = fixed("base-missing", files=files)
    assert text.count("FROM greenline-recbase:12.4") == 2 and "12.2" not in text


def test_no_tag_of_the_same_major_escalates() -> None:
    diagnosis = escalated("base-missing", list_image_tags=lambda repository: ["11.0", "13.1", "latest"])
    assert "same variant and major version" in (diagnosis.escalate_reason or "")


def test_without_a_tag_lister_the_base_image_escalates() -> None:
    assert "no image tag lister" in (escalated("base-missing", list_image_tags=None).escalate_reason or "")


def test_a_tag_that_exists_locally_is_not_replaced() -> None:
    assert "exists locally" in (escalated("base-missing", list_image_tags=lambda repository: ["12.2", "12.4"]).escalate_reason or "")


@pytest.mark.parametrize(
    ("requested", "available", "chosen"),
    [
        ("3.9", ["3.8", "3.9.18", "3.9.2", "3.10", "3.11"], "3.9.18"),  # a finer release of the same version first
        ("12.2", ["12.4", "12.9", "11.0", "13.0"], "12.4"),  # then the nearest newer one
        ("12.10", ["12.4", "12.9", "13.0"], "12.9"),  # else the nearest older one (12.10 > 12.9: versions, not strings)
        ("3.11-slim", ["3.11-alpine", "3.12-slim", "3.11.9-slim", "3.11"], "3.11.9-slim"),  # the same variant only
        ("18.3.0", ["18.3.1rc1", "18.2.0", "19.0.0"], "18.2.0"),  # no pre-release unless one was asked for
        ("v1.2", ["v1.3", "1.3"], "v1.3"),
        ("3", ["3.12", "3.11", "4.0"], "3.12"),
        ("2.0", ["3.0", "latest"], None),
        ("bookworm", ["bookworm-slim", "trixie"], None),  # no version to compare: a person decides
    ],
)
def test_choose_tag(requested: str, available: list[str], chosen: str | None) -> None:
    assert choose_tag(requested, available) == chosen


# --- ENTRYPOINT / CMD at a missing path -------------------------------------------------------


def test_an_entrypoint_at_a_missing_path_points_at_the_copied_file() -> None:
    diagnosis, text = fixed("entrypoint-moved")
    assert 'ENTRYPOINT ["/app/bin/start.sh"]\n' in text
    assert diagnosis.evidence[0] == 'ENTRYPOINT ["/app/start.sh"]'


def test_a_script_the_cmd_runs_with_python_is_found_relative_to_workdir() -> None:
    _, text = fixed("cmd-script")
    assert text.endswith("CMD python3 src/server.py\n")


@BUILDERS
def test_a_command_not_in_path_becomes_the_copied_script(builder: str) -> None:
    _, text = fixed("cmd-not-in-path", builder)
    assert text.endswith('CMD ["entrypoint.sh"]\n')  # /usr/local/bin is on PATH: the bare name works


def test_a_relative_shell_form_path_stays_relative() -> None:
    _, text = fixed("cmd-shell-form")
    assert text.endswith("CMD ./bin/serve --port 8000\n")


def test_a_file_that_is_there_but_cannot_run_escalates_with_its_shebang() -> None:
    reason = escalated("entrypoint-bad-shebang").escalate_reason or ""
    assert "#!/bin/bash-missing" in reason and "interpreter" in reason


def test_an_interpreters_complaint_counts_only_when_the_step_runs_a_container() -> None:
    repo, _ = REPOS["cmd-script"]
    log = clean(LOGS["cmd-script", "legacy"])
    assert list(diagnose(RepoView(repo), log, "docker build -q -t x . && python3 app/server.py")) == []
    assert len(list(diagnose(RepoView(repo), log, "docker build -q -t x . && docker compose run --rm app"))) == 1
    # Go's os/exec words a missing program like runc does; only runc's own report counts then.
    repo, _ = REPOS["cmd-not-in-path"]
    assert list(diagnose(RepoView(repo), ['exec: "entrypoint": executable file not found in $PATH'], "go test ./...")) == []
    assert len(list(diagnose(RepoView(repo), clean(LOGS["cmd-not-in-path", "legacy"]), "make image-smoke-test"))) == 1


def test_image_files_follow_workdir_folders_and_stage_chains() -> None:
    files = {
        "Dockerfile": "FROM greenline-sandbox:bookworm AS base\nWORKDIR /srv\nCOPY lib/ lib/\n"
        "FROM base AS app\nCOPY main.py run.sh ./\nCOPY conf/app.ini /etc/app.ini\nCOPY tools /usr/local/bin\nENV PATH=/srv/bin:$PATH\n",
        "lib/util.py": "",
        "main.py": "",
        "run.sh": "",
        "conf/app.ini": "",
        "tools/fmt": "",
    }
    view = RepoView(files)
    case = _case(view, "docker build .")
    stage = case.final_stage()
    assert stage is not None and stage.name == "app"
    image = image_files(case, stage)
    assert image.files == {
        "/srv/lib/util.py": "lib/util.py",
        "/srv/main.py": "main.py",
        "/srv/run.sh": "run.sh",
        "/etc/app.ini": "conf/app.ini",
        "/usr/local/bin/fmt": "tools/fmt",
    }
    assert image.workdir == "/srv" and image.path_dirs[0] == "/srv/bin"


# --- which Dockerfile, which step -------------------------------------------------------------------


def test_other_logs_give_nothing() -> None:
    assert diagnoses("run-tests-fail") == []  # a RUN step whose own command fails: not a Dockerfile breakage
    pytest_log = ["FAILED tests/test_x.py::test_y - assert 1 == 2", "1 failed in 0.1s"]
    assert list(diagnose(RepoView(REPOS["copy-moved"][0]), pytest_log, "pytest")) == []


def test_only_the_dockerfile_whose_step_failed_is_patched() -> None:
    files = dict(REPOS["copy-moved"][0])
    files["docker/worker.Dockerfile"] = "FROM greenline-sandbox:bookworm\nCOPY app/main.py /worker.py\nCOPY requirements.txt .\n"
    log = clean(LOGS["copy-moved", "legacy"])
    found = list(diagnose(RepoView(files), log, "docker build -f docker/worker.Dockerfile . && docker build -q -t x ."))
    assert [d.patch.paths for d in found if d.patch] == [["Dockerfile"]]


def test_the_router_sends_a_docker_build_to_the_dockerfile_specialist() -> None:
    repo, cmd = REPOS["pep668"]
    diagnosis = router.diagnose(RepoView(repo), LOGS["pep668", "legacy"], cmd, resolve_import=lambda module: None)
    assert diagnosis.specialist == "dockerfile" and diagnosis.patch is not None


def test_failed_steps_of_both_builders() -> None:
    legacy = failed_steps(clean(LOGS["apt-renamed", "legacy"]))
    buildkit = failed_steps(clean(LOGS["apt-renamed", "buildkit"]))
    assert [s.instruction for s in legacy] == [s.instruction for s in buildkit]
    dockerfile = parse("Dockerfile", REPOS["apt-renamed"][0]["Dockerfile"])
    assert find_instruction(dockerfile, legacy[0]) is dockerfile.instructions[1]
    assert any("Unable to locate package libssl1.1" in line for line in buildkit[0].output)
    [image] = failed_steps(clean(LOGS["base-missing", "buildkit"]))
    assert image.image == "docker.io/library/greenline-recbase:12.2" and "no such host" in image.errors[0]


@pytest.mark.parametrize(
    ("cmd", "subdir", "expected"),
    [
        ("docker build -t app .", "", [("Dockerfile", "", None, {})]),
        ("cd services/api && docker build -q -t api .", "", [("services/api/Dockerfile", "services/api", None, {})]),
        (
            "DOCKER_BUILDKIT=1 docker buildx build --build-arg PY=3.12 --target test -f ci/Dockerfile.test --progress=plain .",
            "",
            [("ci/Dockerfile.test", "", "test", {"PY": "3.12"})],
        ),
        # -f is relative to where the command runs, the context to whatever it names.
        ("docker image build -f Dockerfile ../.. ", "services/api", [("services/api/Dockerfile", "", None, {})]),
        (
            "make image",
            "",
            [("Dockerfile", "", None, {}), ("ci/Dockerfile.test", "ci", None, {}), ("services/api/Dockerfile", "services/api", None, {})],
        ),
    ],
)
def test_build_commands(cmd: str, subdir: str, expected: list[tuple[str, str, str | None, dict[str, str]]]) -> None:
    view = RepoView({"Dockerfile": "", "ci/Dockerfile.test": "", "services/api/Dockerfile": "", "services/api/app.py": ""}, subdir)
    assert [(b.dockerfile, b.context, b.target, b.build_args) for b in build_commands(view, cmd)] == expected


# --- reading Dockerfiles and .dockerignore -----------------------------------------------------------


def test_parse_keeps_places_and_joins_continuations_as_the_builders_echo_them() -> None:
    text = '# syntax=docker/dockerfile:1\nARG BASE=img:1\nFROM $BASE AS build\nRUN a \\\n  # a comment inside\n\n    && b\nCMD ["run", "--fast"]\nRUN <<EOF\necho hi\nEOF\nFROM build\n'
    dockerfile = parse("Dockerfile", text)
    assert [i.keyword for i in dockerfile.instructions] == ["ARG", "FROM", "RUN", "CMD", "RUN", "FROM"]
    run = dockerfile.instructions[2]
    assert run.echo == "RUN a && b" and (run.first_line, run.end_line) == (3, 7)
    cmd = dockerfile.instructions[3]
    assert cmd.json_form and [t.value for t in cmd.tokens] == ["run", "--fast"]
    assert dockerfile.instructions[4].end_line == 11  # the heredoc's body is part of it
    stages = dockerfile.stages
    assert [(s.name, s.image) for s in stages] == [("build", "$BASE"), (None, "build")]
    assert dockerfile.base_image(stages[1]) == "img:1"
    assert dockerfile.base_image(stages[1], {"BASE": "img:2"}) == "img:2"


def test_the_escape_directive_changes_the_continuation_character() -> None:
    dockerfile = parse("Dockerfile", "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir c:\\ `\n    && echo done\n")
    assert dockerfile.instructions[1].echo == "RUN dir c:\\ && echo done"


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("app/cache.pyc", True),
        ("keep.pyc", False),
        ("docs/index.md", True),
        ("README.md", True),
        ("app/README.md", False),
        ("build/out.o", True),
        ("src/build/out.o", False),
        ("a.txt", True),
        ("c.txt", False),
        ("app/main.py", False),
    ],
)
def test_dockerignore_semantics(path: str, excluded: bool) -> None:
    rules = IgnoreRules("# comment\n**/*.pyc\n!keep.pyc\ndocs\n*.md\n/build\n[ab].txt\n")
    assert rules.excluded(path) is excluded


def test_the_dockerfiles_own_ignore_file_wins() -> None:
    view = RepoView(
        {
            "ci/app.Dockerfile": "",
            "ci/app.Dockerfile.dockerignore": "secret.txt\n",
            ".dockerignore": "src\n",
            "src/a.py": "",
            "secret.txt": "",
        }
    )
    context = BuildContext(view, "", "ci/app.Dockerfile")
    assert context.exists("src/a.py") and not context.exists("secret.txt") and context.excluded_by_ignore("secret.txt")


def _case(view: RepoView, cmd: str):  # type: ignore[no-untyped-def]
    from specialists.dockerfile.case import Case

    [build] = build_commands(view, cmd)
    dockerfile = parse(build.dockerfile, view.read(build.dockerfile) or "")
    return Case(view, build, dockerfile, BuildContext(view, build.context, build.dockerfile), [])
