"""Settings for the test suite: production settings with test-only secrets.

The suite runs with DEBUG off, as production does; only what a test client cannot
provide (a secret, plain-HTTP requests) is relaxed here.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-" + "k3y" * 20)
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "0")

from autopack_site.settings import *  # noqa: F403

# Static files from the apps' folders, as in development: tests run no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Hashing passwords fast keeps admin-login fixtures cheap; never used outside tests.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, as in production, not Django's shared in-memory database: threads
    # (a live server, replay dispatch) then get their own connections with WAL and
    # the busy timeout instead of shared-cache table locks.
    # One file per test process, so two suites at once never share (or delete) it.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"autopack_test_{os.getpid()}.sqlite3")
    }
