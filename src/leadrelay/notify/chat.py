"""Post a message to a Slack-compatible incoming webhook.

Slack, Mattermost, Rocket.Chat and others accept a JSON body with `text`
(the plain fallback) and `blocks` (the formatted message):
https://api.slack.com/messaging/webhooks

A webhook URL is refused when its host resolves to a private, loopback or
link-local address, unless the operator allows that network
(LEADRELAY_ALLOW_PRIVATE_WEBHOOKS); otherwise anyone who may set a team's
webhook could make the worker call services inside the network. The
connection then goes to the very address that was checked, so that a
second DNS answer cannot swap it, and redirects are not followed.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: Statuses worth another try besides 5xx: the service asks us to slow down.
_RETRY_STATUSES = {429}


@dataclass(frozen=True)
class Outcome:
    """How a delivery went: sent, or why not and whether trying again may help."""

    ok: bool
    tries: int
    error: str = ""
    retryable: bool = False


class Refused(Exception):
    """A webhook that must not be called (bad URL, private address)."""


def url_problem(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "a webhook URL is an http(s) address with a host"

    return None


def vetted_address(url: str, allowed: Sequence[str]) -> str:
    """Return the address to connect to for `url`, checked against `allowed`.

    Every address the host resolves to must be public, or inside one of the
    `allowed` networks; otherwise Refused, naming the address and the fix.
    """
    problem = url_problem(url)
    if problem:
        raise Refused(problem)

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc.strerror}") from None

    networks = [ipaddress.ip_network(n) for n in allowed]
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        checked = mapped or address
        if checked.is_global or any(checked in n for n in networks):
            continue

        raise Refused(
            f"the webhook host {host} resolves to {checked}, a private address; "
            "set LEADRELAY_ALLOW_PRIVATE_WEBHOOKS to that address or network to "
            "allow it"
        )

    if not addresses:
        raise ConnectionError(f"{host} resolves to no address")

    return addresses[0]


def post(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float,
    attempts: int,
    backoff: float,
    allowed: Sequence[str] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """POST `payload` as JSON, trying again on 5xx, 429, timeouts and lost connections.

    At most `attempts` tries, `backoff` seconds apart at first and twice as
    long each time. A 4xx answer (410: the webhook was removed) is final.
    """
    body = json.dumps(payload).encode("utf-8")
    errors: list[str] = []
    for attempt in range(1, attempts + 1):
        try:
            address = vetted_address(url, allowed)
            _send(url, address, body, timeout)
            return Outcome(True, attempt)
        except Refused as exc:
            return Outcome(False, attempt, str(exc), retryable=False)
        except urllib.error.HTTPError as exc:
            errors.append(f"HTTP {exc.code}")
            worth_it = exc.code >= 500 or exc.code in _RETRY_STATUSES
            if not worth_it:
                return Outcome(False, attempt, _summary(errors), retryable=False)
        except TimeoutError:
            errors.append(f"no answer within {timeout:g} s")
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                errors.append(f"no answer within {timeout:g} s")
            else:
                errors.append(f"connection failed ({reason})")

        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))

    return Outcome(False, attempts, _summary(errors), retryable=True)


def _summary(errors: list[str]) -> str:
    tries = len(errors)
    noun = "try" if tries == 1 else "tries"
    return f"{tries} {noun}: " + "; ".join(errors)


def _send(url: str, address: str, body: bytes, timeout: float) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "leadrelay"},
    )
    with _opener(address).open(request, timeout=timeout) as response:
        response.read(65536)


@functools.lru_cache(maxsize=16)
def _opener(address: str) -> urllib.request.OpenerDirector:
    """Return an opener that connects only to `address`: no proxy, no redirects."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirects(),
        _PinnedHTTP(address),
        _PinnedHTTPS(address),
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead to an address that was never checked.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, address: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, address: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is still checked against the host name in the URL.
        context: ssl.SSLContext = self._context  # type: ignore[attr-defined]
        self.sock = context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(urllib.request.HTTPHandler):
    def __init__(self, address: str) -> None:
        super().__init__()
        self._address = address

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_PinnedHTTPConnection, address=self._address)
        return self.do_open(connection, req)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # Loading the system's certificates takes tens of milliseconds: once.
    return ssl.create_default_context()


class _PinnedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, address: str) -> None:
        super().__init__(context=_tls_context())
        self._address = address

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_PinnedHTTPSConnection, address=self._address)
        return self.do_open(connection, req, context=self._context)  # type: ignore[arg-type,attr-defined]
