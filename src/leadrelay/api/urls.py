"""/api/v1/: the API's operations, its schema and docs, and JSON for every miss.

Django would answer a path the API does not have, or a method an operation
does not take, with a page or plain text; here both come in the error shape.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, re_path

from leadrelay.api.api import api
from leadrelay.api.errors import error

View = Callable[..., HttpResponse]


def _shaped(view: View) -> View:
    @wraps(view)
    def shaped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return _not_found(request)

        if response.status_code == 405 and "json" not in response["Content-Type"]:
            allowed = response["Allow"]
            refused = error(
                405, f"{request.method} is not allowed here; use {allowed}."
            )
            refused["Allow"] = allowed
            return refused

        return response

    return shaped


def _not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error(
        404,
        f"The API has no {request.path}; its operations are listed at "
        "/api/v1/openapi.json.",
    )


def _constant(request: HttpRequest) -> HttpResponse:
    """A bare Django view, for the benchmark's baseline."""
    return HttpResponse(b'{"ok": true}', content_type="application/json")


# Not `app_name`: at module level Django would take that as this urlconf's.
_patterns, _ninja_app, _namespace = api.urls
for _pattern in _patterns:
    if isinstance(_pattern, URLPattern):
        _pattern.callback = _shaped(_pattern.callback)

urlpatterns: list[URLPattern | URLResolver] = [
    path("", (_patterns, _ninja_app, _namespace)),
]
if settings.BENCH_VIEWS:
    urlpatterns.append(path("bench/constant", _constant))
urlpatterns.append(re_path(r"^.*$", _not_found))
