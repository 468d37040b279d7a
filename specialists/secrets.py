"""What looks like a secret: one definition for the sandboxes' environment scrubber and the
specialists that must never invent or copy one."""

from __future__ import annotations

import re

# Names of variables whose values must never reach a build, a log, a prompt or a patch.
# (CA bundle paths such as SSL_CERT_FILE and commit identities such as GIT_AUTHOR_NAME are not.)
SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|PWD|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|_KEY$|^KEY$|AUTH(?!OR)|COOKIE|SESSION|SIGNING|DSN",
    re.I,
)
# ``scheme://user:password@host``
URL_CREDENTIALS = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
