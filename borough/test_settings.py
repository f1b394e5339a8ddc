"""Settings for the test suite: a throwaway data folder, fast hashing, in-memory email."""

import os
import tempfile

os.environ.setdefault("BOROUGH_DATA", tempfile.mkdtemp(prefix="borough-test-"))
os.environ.setdefault("BOROUGH_ENV", "test")

from borough.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The Service User Number of the Bacs report samples the tests read (borough/housing/tests/bacs).
BOROUGH_BACS_SUN = "123456"
# Background jobs run at once, inside the test.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
