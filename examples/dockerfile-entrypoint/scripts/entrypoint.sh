#!/bin/sh
set -e
exec python3 /srv/app.py "$@"
