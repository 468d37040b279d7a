# Greenline sandbox image, for machines that can pull from a registry.
# Equivalent to what infra/build-sandbox-image.sh builds offline with debootstrap.
#   docker build -f infra/sandbox.Dockerfile -t greenline-sandbox:bookworm infra
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv python3-virtualenv python3-pip git ca-certificates bash \
 && rm -rf /var/lib/apt/lists/*
ENV LANG=C.UTF-8
