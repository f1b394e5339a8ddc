"""Borough's settings, all from the environment (12-factor).

| variable | meaning | default |
| --- | --- | --- |
| ``BOROUGH_DATA`` | data folder: SQLite database, secret key, generated files | ``./var`` |
| ``BOROUGH_PROFILE`` | the council profile (TOML) | the demo borough's profile |
| ``BOROUGH_ENV`` | ``production`` makes a missing secret key an error and cookies secure | ``development`` |
| ``BOROUGH_DEBUG`` | ``1`` shows Django's debug pages | off |
| ``BOROUGH_SECRET_KEY`` | the secret key; outside production one is generated in the data folder | |
| ``DATABASE_URL`` | e.g. ``postgres://user:pass@host:5432/borough`` | SQLite in the data folder |
| ``BOROUGH_ALLOWED_HOSTS`` | comma-separated host names | ``localhost,127.0.0.1,[::1]`` |
| ``BOROUGH_EMAIL_BACKEND`` | a Django email backend | console outside production, SMTP in production |
| ``BOROUGH_EMAIL_HOST``, ``BOROUGH_EMAIL_PORT``, ``BOROUGH_EMAIL_USER``, ``BOROUGH_EMAIL_PASSWORD``, ``BOROUGH_EMAIL_USE_TLS`` | the SMTP relay the SMTP backend sends through (required in production with it) | ``localhost``, ``587``, none, none, ``1`` |
| ``BOROUGH_VEHICLE_LOOKUP`` | ``local`` (the synthetic vehicles and DVLA's test registrations) or ``dvla`` | ``local`` |
| ``BOROUGH_DVLA_API_KEY``, ``BOROUGH_DVLA_BASE_URL`` | the DVLA Vehicle Enquiry Service key and address | live address |
| ``BOROUGH_VEHICLES_FILE`` | the local lookup's vehicles CSV | ``DATA_DIR/synth/vehicles.csv`` |
| ``BOROUGH_PAYMENT_PROVIDER`` | ``local`` (test card pages) or ``govuk_pay`` | ``local``, except in production (must be set) |
| ``BOROUGH_GOVUK_PAY_API_KEY`` | the GOV.UK Pay API key | |
| ``BOROUGH_SITE_URL`` | the site's address, for links in emails sent by background jobs | ``http://127.0.0.1:8000`` |
| ``BOROUGH_TASKS`` | background jobs: ``immediate`` (run in the request) or ``database`` (queued; run ``borough db_worker``) | ``immediate`` |
| ``BOROUGH_BANK_DETAILS_KEYS`` | Fernet keys for tenants' bank details, comma-separated, the first current; outside production one is generated in the data folder | |
| ``BOROUGH_PAYER_KEY`` | the key of the payer bank-account hash used by statement matching | derived from the secret key |
| ``BOROUGH_WAREHOUSE_KEY`` | the key of the warehouse's pseudonymised keys (``borough insights build``) | derived from the secret key |
| ``BOROUGH_BACS_SUN``, ``BOROUGH_BACS_SERVICE_USER_NAME`` | the council's Bacs Service User Number and name | ``418207`` (the demo's), the profile's ``[bank] service_user_name`` |
| ``BOROUGH_BACS_FIRST_COLLECTION_CODE`` | ``01`` or ``17`` for a mandate's first collection | ``01`` |
| ``BOROUGH_LETTERS`` | letters by post: ``local`` (written to ``BOROUGH_LETTERS_DIR``, default ``DATA_DIR/letters``) or ``notify`` (GOV.UK Notify: ``BOROUGH_NOTIFY_API_KEY``, ``BOROUGH_NOTIFY_LETTER_TEMPLATES`` as ``kind=template-id,…``) | ``local`` |
| ``OIDC_RP_CLIENT_ID`` … | OpenID Connect sign-in for residents, see ``docs/sign-in.md`` | off |
| ``BOROUGH_CACHE_URL`` | ``redis://host:6379/0``: Django's cache and the rate limits in Redis (``pip install 'borough[redis]'``) | none: rate limits in the database |
| ``BOROUGH_RATE_LIMITS`` | changed limits, e.g. ``magic-link-address=60/900,api-verify-client=300/60`` (``docs/rate-limits.md``) | the defaults |
| ``BOROUGH_ATTEMPT_LIMITS`` | changed limits on failed identity checks, e.g. ``rent-account=3/86400`` (``docs/verification.md``) | the defaults |
| ``BOROUGH_TRUSTED_PROXY_COUNT`` | how many proxies in front of Borough append to ``X-Forwarded-For`` (``docs/rate-limits.md``) | ``0``: the TCP peer is the client |
| ``BOROUGH_SSL_REDIRECT`` | production: ``0`` if the load balancer already redirects HTTP to HTTPS | ``1`` |
| ``BOROUGH_HSTS_INCLUDE_SUBDOMAINS``, ``BOROUGH_HSTS_PRELOAD`` | production: HSTS for subdomains; ask to be preloaded (docs/production.md) | ``1``, ``0`` |
| ``BOROUGH_CSP_FORM_ACTION`` | more origins forms may post or redirect to (comma-separated) | |
| ``BOROUGH_LOG_ORIGIN`` | the data-use log's origin line, which names its checkpoints (``docs/data-use-log.md``) | ``<council website host>/borough/data-use-log`` |
| ``BOROUGH_LOG_SIGNING_KEY`` | the data-use log's Ed25519 signing key, ``PRIVATE+KEY+…`` or the path of a file holding it (``borough transparency keygen`` makes one); outside production one is generated in the data folder | |
| ``BOROUGH_LOG_VERIFIER_KEY`` | the verifier key ``borough transparency verify`` checks checkpoints against | the signing key's public half |
"""

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from borough.core.config import (
    env_bool,
    env_limits,
    env_list,
    env_str,
    load_or_create_secret_key,
)
from borough.core.csp import content_security_policy
from borough.core.profile import load_profile

BASE_DIR = Path(__file__).resolve().parent

ENVIRONMENT = env_str("BOROUGH_ENV", "development")
if ENVIRONMENT not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"BOROUGH_ENV is {ENVIRONMENT!r}; set it to 'development' or 'production'."
    )
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("BOROUGH_DEBUG", False)

DATA_DIR = Path(env_str("BOROUGH_DATA", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("BOROUGH_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "BOROUGH_SECRET_KEY is not set. In production Borough needs a secret key from "
            "the environment: set BOROUGH_SECRET_KEY to a long random string "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    SECRET_KEY = load_or_create_secret_key(DATA_DIR / "secret_key")

COUNCIL = load_profile(env_str("BOROUGH_PROFILE", str(BASE_DIR / "profiles" / "northmere.toml")))

ALLOWED_HOSTS = env_list("BOROUGH_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("BOROUGH_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "borough.core",
    "borough.places",
    "borough.residents",
    "borough.transparency",
    "borough.parking",
    "borough.housing",
    "borough.payments",
    "borough.insights",
    "borough.synth",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "mozilla_django_oidc",
    # django-ninja's own Swagger UI files, served from our static files (no CDN).
    "ninja",
    "csp",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, so static files (public, hashed, cached for a year) skip both.
    "csp.middleware.CSPMiddleware",
    "borough.core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "borough.core.access.StaffAreaMiddleware",
]

ROOT_URLCONF = "borough.urls"
WSGI_APPLICATION = "borough.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "borough.core.jinja.environment",
            "context_processors": [
                "borough.core.context.borough",
                # GOV.UK Frontend's page template takes cspNonce for its one inline script.
                "borough.core.context.csp_nonce",
            ],
        },
    },
    {
        # The Django admin keeps Django's own templates.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'borough.sqlite3'}",
        conn_max_age=int(env_str("BOROUGH_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database: write-ahead logging so readers never wait for a writer, and a
    # sync at checkpoints rather than at every commit (safe against a crash of Borough; a power
    # cut may lose the last commits, not corrupt the file). Writers queue for 20 s, not fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
# A few statements run very often (the enforcement check's look-up and event) are prepared by
# PostgreSQL once per connection instead of parsed and planned every time (borough/core/
# prepared.py). 0 turns that off, for a connection pooler that cannot keep prepared statements
# (PgBouncer before 1.21 in transaction mode).
BOROUGH_DB_PREPARED_STATEMENTS = env_bool("BOROUGH_DB_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:resident-sign-in"
STAFF_LOGIN_URL = "core:staff-sign-in"
LOGIN_REDIRECT_URL = "core:account"
LOGOUT_REDIRECT_URL = "core:start"

# Magic links for residents (borough/core/magic_links.py): signed, single use, this many seconds.
BOROUGH_MAGIC_LINK_MAX_AGE = 20 * 60

# Staff second factor (django-otp, TOTP; docs/sign-in.md). The issuer names the council in the
# authenticator app; the admin never shows a device's secret.
OTP_TOTP_ISSUER = COUNCIL.name
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# OpenID Connect sign-in for residents (GOV.UK One Login or the council's own provider).
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_AUTHENTICATION_CALLBACK_URL = "core:oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "core:resident-sign-in"
if OIDC_ENABLED:
    OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
    OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
    OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
    OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
    OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
    OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
    OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "GOV.UK One Login")
    missing = [
        name
        for name in (
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
        )
        if not globals()[name]
    ]
    if missing:
        raise ImproperlyConfigured(
            "OIDC_RP_CLIENT_ID is set, so OpenID Connect sign-in is on, but "
            + ", ".join(missing)
            + " is not set."
        )
    AUTHENTICATION_BACKENDS.append("borough.core.oidc.ResidentOIDCBackend")

# Pages are in English until translations are written; the profile's other languages are offered
# only once a catalogue exists for them, so a page never declares a language it is not in.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# GOV.UK Frontend's CSS expects its fonts and images under /assets/.
STATIC_URL = "/assets/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
if PRODUCTION:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
else:
    # Served straight from the apps' static folders: no collectstatic step for the demo.
    STATIC_ROOT.mkdir(exist_ok=True)
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = DEBUG
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

EMAIL_BACKEND = env_str(
    "BOROUGH_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = COUNCIL.contact.email
# The SMTP server for the SMTP backend (production's default): a relay such as GOV.UK Notify's
# SMTP, Amazon SES or the council's own. ``borough check --deploy`` says when it is not set.
EMAIL_HOST = env_str("BOROUGH_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("BOROUGH_EMAIL_PORT", "587") or 587)
EMAIL_HOST_USER = env_str("BOROUGH_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("BOROUGH_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("BOROUGH_EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 20
BOROUGH_EMAIL_HOST_SET = bool(env_str("BOROUGH_EMAIL_HOST", ""))
EMAIL_FILE_PATH = env_str("BOROUGH_EMAIL_FILE_PATH", str(DATA_DIR / "mail"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
# Security headers; docs/production.md says what each does and why it is set so.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    # Borough runs behind a load balancer that ends TLS and says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("BOROUGH_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("BOROUGH_HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading is a promise about the whole domain that is slow to undo: the council opts in.
    SECURE_HSTS_PRELOAD = env_bool("BOROUGH_HSTS_PRELOAD", False)

# Content-Security-Policy (django-csp): see borough/core/csp.py and docs/production.md.
CONTENT_SECURITY_POLICY = content_security_policy(
    production=PRODUCTION,
    payment_provider=env_str("BOROUGH_PAYMENT_PROVIDER", ""),
    sign_in_endpoint=OIDC_OP_AUTHORIZATION_ENDPOINT if OIDC_ENABLED else "",
    form_action=env_list("BOROUGH_CSP_FORM_ACTION", []),
)

# The cache and the rate limits (docs/rate-limits.md). Without BOROUGH_CACHE_URL the rate limits
# are counted in the database, which every web process shares, and Django's cache is each
# process's own memory: keep nothing in it that must be shared. With it, both are in Redis.
BOROUGH_CACHE_URL = env_str("BOROUGH_CACHE_URL", "")
if BOROUGH_CACHE_URL:
    if not BOROUGH_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "BOROUGH_CACHE_URL must be a Redis address, like redis://127.0.0.1:6379/0"
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": BOROUGH_CACHE_URL,
            "KEY_PREFIX": env_str("BOROUGH_CACHE_PREFIX", "borough"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
BOROUGH_RATE_LIMITS = env_limits("BOROUGH_RATE_LIMITS")
BOROUGH_TRUSTED_PROXY_COUNT = int(env_str("BOROUGH_TRUSTED_PROXY_COUNT", "0") or 0)
# Failed identity checks allowed per target before it is locked (docs/verification.md).
BOROUGH_ATTEMPT_LIMITS = env_limits("BOROUGH_ATTEMPT_LIMITS")

# Logs carry no personal data: request bodies, query strings and form values are never logged.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_query_strings": {"()": "borough.core.logfilters.StripQueryStrings"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_query_strings"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("BOROUGH_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Parking: the vehicle look-up (docs/parking-vehicles.md) and payments (docs/payments.md).
BOROUGH_VEHICLE_LOOKUP = env_str("BOROUGH_VEHICLE_LOOKUP", "local")
BOROUGH_DVLA_API_KEY = env_str("BOROUGH_DVLA_API_KEY", "")
BOROUGH_DVLA_BASE_URL = env_str(
    "BOROUGH_DVLA_BASE_URL", "https://driver-vehicle-licensing.api.gov.uk/vehicle-enquiry"
)
BOROUGH_VEHICLES_FILE = env_str("BOROUGH_VEHICLES_FILE", "")  # empty: DATA_DIR/synth/vehicles.csv
BOROUGH_PAYMENT_PROVIDER = env_str(
    "BOROUGH_PAYMENT_PROVIDER", ""
)  # empty: local, except in production
BOROUGH_GOVUK_PAY_API_KEY = env_str("BOROUGH_GOVUK_PAY_API_KEY", "")
BOROUGH_GOVUK_PAY_BASE_URL = env_str(
    "BOROUGH_GOVUK_PAY_BASE_URL", "https://publicapi.payments.service.gov.uk"
)

# Background jobs (Django's task API, through the django-tasks backport on Django 5.2). The
# demo runs them in the request; a council's deployment queues them in the database and runs
# ``borough db_worker`` beside the web processes (docs/background-jobs.md).
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
_tasks = env_str("BOROUGH_TASKS", "immediate")
if _tasks not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"BOROUGH_TASKS must be one of {', '.join(_TASK_BACKENDS)}, not {_tasks!r}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_tasks]}}
BOROUGH_SITE_URL = env_str("BOROUGH_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The data-use log's Merkle tree and signed checkpoints (borough/transparency/checkpoint.py).
TRANSPARENCY_LOG_ORIGIN = env_str(
    "BOROUGH_LOG_ORIGIN", f"{urlsplit(COUNCIL.website).hostname}/borough/data-use-log"
)
TRANSPARENCY_LOG_SIGNING_KEY = env_str("BOROUGH_LOG_SIGNING_KEY", "")
TRANSPARENCY_LOG_VERIFIER_KEY = env_str("BOROUGH_LOG_VERIFIER_KEY", "")
# An event written on its own (a look-up that changed nothing, such as an enforcement check) is
# committed on PostgreSQL without waiting for the disk (synchronous_commit off for that one
# transaction): a database crash can lose the last fraction of a second of such events, never
# corrupt the log. 1 makes every event wait for the disk (docs/data-use-log.md).
TRANSPARENCY_SYNCHRONOUS_EVENTS = env_bool("BOROUGH_DATA_USE_SYNCHRONOUS_COMMIT", False)

# Direct Debit (docs/direct-debit.md). Bank details are encrypted with Fernet keys: the first
# encrypts, every one decrypts, so a new key goes first and ``borough housing rotate-bank-key``
# re-encrypts. Outside production a key is generated once in the data folder.
BOROUGH_BANK_DETAILS_KEYS = env_list("BOROUGH_BANK_DETAILS_KEYS", [])
if PRODUCTION and not BOROUGH_BANK_DETAILS_KEYS:
    raise ImproperlyConfigured(
        "BOROUGH_BANK_DETAILS_KEYS is not set. In production Borough needs the key that encrypts "
        "tenants' bank details: set it to one or more comma-separated Fernet keys "
        '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
    )
# The key of the hash that recognises a payer's bank account on a statement without keeping it;
# empty: derived from SECRET_KEY (set it if the secret key may ever change).
BOROUGH_PAYER_KEY = env_str("BOROUGH_PAYER_KEY", "")
# The key of the Insight warehouse's pseudonymised keys; empty: derived from SECRET_KEY.
BOROUGH_WAREHOUSE_KEY = env_str("BOROUGH_WAREHOUSE_KEY", "")
# The council as a Bacs service user: its Service User Number and the name on the files (demo
# values, as a sponsoring bank would issue them: set your own council's, from your bank or bureau).
BOROUGH_BACS_SUN = env_str("BOROUGH_BACS_SUN", "418207")
BOROUGH_BACS_SERVICE_USER_NAME = env_str(
    "BOROUGH_BACS_SERVICE_USER_NAME", COUNCIL.bank.service_user_name or COUNCIL.name
)
# The code of a mandate's first collection: "01" (first) or "17" where the bureau wants 17 for all.
BOROUGH_BACS_FIRST_COLLECTION_CODE = env_str("BOROUGH_BACS_FIRST_COLLECTION_CODE", "01")
if BOROUGH_BACS_FIRST_COLLECTION_CODE not in {"01", "17"}:
    raise ImproperlyConfigured("BOROUGH_BACS_FIRST_COLLECTION_CODE must be 01 or 17")

# Letters by post (borough/core/letters.py): ``local`` writes them to BOROUGH_LETTERS_DIR (default
# DATA_DIR/letters) for the council's own print room; ``notify`` sends them through GOV.UK Notify
# with a letter template per kind (``rent_link_code=<template id>``).
BOROUGH_LETTERS = env_str("BOROUGH_LETTERS", "local")
if BOROUGH_LETTERS not in {"local", "notify"}:
    raise ImproperlyConfigured("BOROUGH_LETTERS must be local or notify")
BOROUGH_LETTERS_DIR = env_str("BOROUGH_LETTERS_DIR", "")
BOROUGH_NOTIFY_API_KEY = env_str("BOROUGH_NOTIFY_API_KEY", "")
BOROUGH_NOTIFY_LETTER_TEMPLATES = env_list("BOROUGH_NOTIFY_LETTER_TEMPLATES", [])
if BOROUGH_LETTERS == "notify" and not (BOROUGH_NOTIFY_API_KEY and BOROUGH_NOTIFY_LETTER_TEMPLATES):
    raise ImproperlyConfigured(
        "BOROUGH_LETTERS is notify: set BOROUGH_NOTIFY_API_KEY and BOROUGH_NOTIFY_LETTER_TEMPLATES "
        "(e.g. rent_link_code=<your Notify letter template's ID>)."
    )
