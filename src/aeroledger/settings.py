"""Settings, read from the environment (see README "Configuration").

Without any environment the project runs as a local demo: SQLite under var/, a secret key and a
Fernet key generated once into var/, and the bexio sandbox on 127.0.0.1:8765 as "bexio".
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("AEROLEDGER_VAR_DIR", PROJECT_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def _local_secret(filename: str, make) -> str:
    """A secret generated once and kept in var/, for the local demo only."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = _env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret(
    "secret_key", lambda: __import__("secrets").token_urlsafe(50)
)

# Tokens at rest: MultiFernet over these keys, newest first (see `aeroledger rotate_fernet_key`).
AEROLEDGER_FERNET_KEYS = [
    k.strip()
    for k in (
        os.environ.get("AEROLEDGER_FERNET_KEYS")
        or _local_secret(
            "fernet_keys", lambda: __import__("cryptography.fernet").fernet.Fernet.generate_key().decode()
        )
    ).split(",")
    if k.strip()
]

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "aeroledger.tenancy",
    "aeroledger.members",
    "aeroledger.flights",
    "aeroledger.billing",
    "aeroledger.dashboard",
    "aeroledger.bexio_link.connection",
    "aeroledger.bexio_link.masterdata",
    "aeroledger.bexio_link.transfer",
    "aeroledger.bexio_link.books",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "aeroledger.tenancy.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, + bexio's login
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "aeroledger.tenancy.middleware.NoStoreMiddleware",
    "aeroledger.tenancy.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "aeroledger.tenancy.middleware.BadParameterMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out login with the lockout page
]

ROOT_URLCONF = "aeroledger.urls"
WSGI_APPLICATION = "aeroledger.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aeroledger.tenancy.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'aeroledger.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the file: wait for locks, take the write lock up front.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # SQLite cannot create the bexio charge mapping's NULLS NOT DISTINCT constraint (W047 on every
    # start of the demo); the mapping page replaces a key's row as a whole, which keeps it unique.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("AEROLEDGER_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "bexio"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username, or from
# one address, logging in is refused for AXES_COOLOFF_TIME, even with the right password.
AUTHENTICATION_BACKENDS = [
    "aeroledger.tenancy.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "aeroledger.tenancy.auth.client_ip"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German")), ("fr", _("French")), ("it", _("Italian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Zurich"
# Swiss formats for every language: see aeroledger/formats/.
FORMAT_MODULE_PATH = ["aeroledger.formats"]
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the project stylesheet (aeroledger is not an app itself)
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# The overview's figures and the unfiltered lists' totals are kept this many seconds per
# organisation (tenancy/figures.py); a person's own changes show at once. 0 turns it off.
AEROLEDGER_FIGURES_TTL = float(os.environ.get("AEROLEDGER_FIGURES_TTL", "30"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "aeroledger@localhost")

# CSV imports (members, flights; web page and commands): the largest file and the most data rows
# one import takes. 10,000 member rows (about 1 MB) preview in ~11 s and import in ~11 s on the
# 2-core dev machine (bench/csv_limits.py), inside gunicorn's 30 s timeout; see tenancy/csvfiles.py.
AEROLEDGER_CSV_MAX_BYTES = int(os.environ.get("AEROLEDGER_CSV_MAX_BYTES", str(5 * 1024 * 1024)))
AEROLEDGER_CSV_MAX_ROWS = int(os.environ.get("AEROLEDGER_CSV_MAX_ROWS", "10000"))
# Flights: each saves its landings and charges (3,000 import in ~14 s, 5,000 in ~23 s).
AEROLEDGER_CSV_MAX_FLIGHT_ROWS = int(os.environ.get("AEROLEDGER_CSV_MAX_FLIGHT_ROWS", "3000"))
# The first handler stops keeping an upload once it passes AEROLEDGER_CSV_MAX_BYTES.
FILE_UPLOAD_HANDLERS = [
    "aeroledger.tenancy.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Served over https (AEROLEDGER_BASE_URL https://...): secure cookies, redirect to https and HSTS
# for a year by default, so README's production example passes `aeroledger check --deploy`.
_HTTPS = urlsplit(os.environ.get("AEROLEDGER_BASE_URL", "")).scheme == "https"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", _HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", _HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if _HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto header (and only then).
BEHIND_TLS_PROXY = _env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- bexio -------------------------------------------------------------------------------------
# The sandbox (bexio-sandbox, started by `make run`) is the default "bexio". For real bexio set
# BEXIO_AUTH_ISSUER=https://auth.bexio.com/realms/bexio, BEXIO_API_BASE=https://api.bexio.com and
# the app's BEXIO_CLIENT_ID / BEXIO_CLIENT_SECRET from developer.bexio.com.
BEXIO_SANDBOX_URL = os.environ.get("BEXIO_SANDBOX_URL", "http://127.0.0.1:8765")
BEXIO_AUTH_ISSUER = os.environ.get("BEXIO_AUTH_ISSUER", f"{BEXIO_SANDBOX_URL}/realms/bexio")
BEXIO_API_BASE = os.environ.get("BEXIO_API_BASE", BEXIO_SANDBOX_URL)
BEXIO_CLIENT_ID = os.environ.get("BEXIO_CLIENT_ID", "aeroledger-demo")
BEXIO_CLIENT_SECRET = os.environ.get("BEXIO_CLIENT_SECRET", "aeroledger-demo-secret")
# Where bexio sends the browser back to; must be registered at bexio exactly.
AEROLEDGER_BASE_URL = os.environ.get("AEROLEDGER_BASE_URL", "http://127.0.0.1:8000")
BEXIO_TIMEOUT_S = float(os.environ.get("BEXIO_TIMEOUT_S", "30"))

# Content-Security-Policy (django-csp): scripts (htmx) and styles only from this site, no inline
# script or style anywhere. Forms may post here; the middleware adds bexio's login (BEXIO_AUTH_ISSUER),
# where "Connect" redirects.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # + the one <style> htmx 2.0.10 adds itself (its indicator classes), by its hash.
        "style-src": ["'self'", "'sha256-faU7yAF8NxuMTNEwVmBz+VcYeIoBQ2EMHW3WaVxCvnk='"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # The OAuth code and state of /bexio/callback never reach a log line (aeroledger/logs.py).
    "filters": {"redact_oauth": {"()": "aeroledger.logs.RedactOAuthParams"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_oauth"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # a line per login otherwise; lockouts are warnings
        # runserver's request lines: through the console handler (and its filter), not Django's own.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
