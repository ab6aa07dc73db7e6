"""Django settings for leadrelay. Every value comes from `leadrelay.env`."""

from __future__ import annotations

import sys

from leadrelay import env

try:
    WORKSPACE = env.workspace()
    DEBUG = env.flag("LEADRELAY_DEBUG")
    _database = env.database(WORKSPACE / "leadrelay.sqlite3")
except env.SettingError as exc:
    sys.exit(f"leadrelay: {exc}")

CONTRACT_PATH = WORKSPACE / "funnel.toml"

SECRET_KEY = env.text("LEADRELAY_SECRET_KEY") or "leadrelay-local-only-not-a-secret"
ALLOWED_HOSTS = env.items("LEADRELAY_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

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
