"""Django settings for leadrelay. Every value comes from `leadrelay.env`."""

from __future__ import annotations

import sys

from leadrelay import env
from leadrelay.api.limits import RateError, parse_rate

try:
    WORKSPACE = env.workspace()
    DEBUG = env.flag("LEADRELAY_DEBUG")
    _database = env.database(WORKSPACE / "leadrelay.sqlite3")
except env.SettingError as exc:
    sys.exit(f"leadrelay: {exc}")

CONTRACT_PATH = WORKSPACE / "funnel.toml"

# The secret signs sessions: from the environment, else the workspace's own
# file (written by `leadrelay init`), else a fixed key that wsgi.py refuses
# to serve with, so that no server others reach runs on a known secret.
SECRET_KEY, SECRET_KEY_SOURCE = env.secret_key(WORKSPACE / "secret.key")
ALLOWED_HOSTS = env.items("LEADRELAY_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env.items("LEADRELAY_CSRF_TRUSTED_ORIGINS", "")
if env.flag("LEADRELAY_BEHIND_HTTPS_PROXY"):
    # Behind a proxy that ends TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "leadrelay.apps.LeadrelayConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise, right after security, serves /static/ before anything else runs.
    "leadrelay.web.static.StaticFiles",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "leadrelay.urls"
WSGI_APPLICATION = "leadrelay.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leadrelay.web.base.permissions",
            ],
            "builtins": ["leadrelay.web.filters"],
        },
    },
]

DATABASES = {"default": _database.django()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = WORKSPACE / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}

# -- the web app ----------------------------------------------------------------

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The app's own CSS and JS are served from the installed package, so that
# `leadrelay serve` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True

# -- intake and the API -----------------------------------------------------------

INSTALLED_APPS.append("ninja")  # the API docs page's own scripts, served locally

# Keep a web process's SQLite connection between requests, as PostgreSQL's
# is: closing the last connection to a WAL database checkpoints it and
# deletes the WAL file, some 10 ms of disk work on every request. Django's
# threaded server (`leadrelay serve`) still closes each thread's connection.
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)

try:
    # Posts one client address may make to the public forms (/f/<slug>).
    FORM_RATE_LIMIT = parse_rate(
        "LEADRELAY_FORM_RATE_LIMIT", env.text("LEADRELAY_FORM_RATE_LIMIT", "30/hour")
    )
    # A constant view at /api/v1/bench/constant, for bench/intake_bench.py only.
    BENCH_VIEWS = env.flag("LEADRELAY_BENCH_VIEWS")
except (env.SettingError, RateError) as exc:
    sys.exit(f"leadrelay: {exc}")

# -- notifications and the worker ---------------------------------------------------

try:
    _smtp_host = env.text("LEADRELAY_SMTP_HOST")
    EMAIL_USE_TLS, EMAIL_USE_SSL = env.smtp_tls("LEADRELAY_SMTP_TLS")
    EMAIL_PORT = env.integer(
        "LEADRELAY_SMTP_PORT", 465 if EMAIL_USE_SSL else 587, 1, 65535
    )
    EMAIL_HOST_USER = env.text("LEADRELAY_SMTP_USER")
    EMAIL_HOST_PASSWORD = env.text("LEADRELAY_SMTP_PASSWORD")
    DEFAULT_FROM_EMAIL = env.text("LEADRELAY_EMAIL_FROM", "leadrelay@localhost")
    # A chat webhook's incoming-webhook URL is a secret of its own: it lives
    # in the environment (or on the team), not in the signed contract.
    NOTIFY_CHAT_WEBHOOK_URL = env.http_url(
        "LEADRELAY_CHAT_WEBHOOK_URL", "https://hooks.slack.com/services/..."
    )
    NOTIFY_ALLOW_PRIVATE_WEBHOOKS = env.networks("LEADRELAY_ALLOW_PRIVATE_WEBHOOKS")
    NOTIFY_BASE_URL = env.http_url(
        "LEADRELAY_BASE_URL", "https://crm.example.com"
    ).rstrip("/")
except env.SettingError as exc:
    sys.exit(f"leadrelay: {exc}")

# Without an SMTP server, emails are printed where the worker runs, so that a
# trial on one machine shows what would have been sent.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if _smtp_host
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = _smtp_host or "127.0.0.1"
EMAIL_TIMEOUT = 10

#: Seconds to wait for a chat webhook, tries per delivery, and the first pause
#: between tries (doubled each time).
NOTIFY_CHAT_TIMEOUT = 5.0
NOTIFY_CHAT_ATTEMPTS = 3
NOTIFY_CHAT_BACKOFF = 0.5
#: Deliveries a failing message gets before it is marked failed, and the
#: wait before the second (multiplied by four each time).
NOTIFY_MAX_ROUNDS = 3
NOTIFY_RETRY_AFTER = 60
#: Seconds a worker holds a claimed row; another takes it over after that.
WORKER_LEASE = 120
