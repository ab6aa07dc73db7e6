"""WSGI entry point, for gunicorn: `gunicorn leadrelay.wsgi`."""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
application = get_wsgi_application()

if settings.SECRET_KEY_SOURCE == "default" and not settings.DEBUG:
    raise ImproperlyConfigured(
        "leadrelay has no secret key: set LEADRELAY_SECRET_KEY, or run "
        f"`leadrelay init` to write {settings.WORKSPACE / 'secret.key'}"
    )
