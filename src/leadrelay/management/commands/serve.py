from __future__ import annotations

import re
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.core.servers.basehttp import WSGIServer, get_internal_wsgi_application, run

from leadrelay import env
from leadrelay.management.base import Command as BaseCommand
from leadrelay.sla.worker import start_background
from leadrelay.workflow.bulk import contract_version
from leadrelay.workspace import BAD_INPUT, ensure_database, load_contract

_ADDRESS = re.compile(r"^(?:(?P<host>\[[0-9a-fA-F:]+\]|[^:]+):)?(?P<port>\d{1,5})$")


def _ensure_secret_key() -> None:
    """Give a workspace that has no secret key one of its own, before serving."""
    if settings.SECRET_KEY_SOURCE != "default":
        return

    path = settings.WORKSPACE / "secret.key"
    env.write_secret_key(path)
    settings.SECRET_KEY, settings.SECRET_KEY_SOURCE = env.secret_key(path)


class Command(BaseCommand):
    help = (
        "Run the web app on the workspace's database (default 127.0.0.1:8000). "
        "For several users or processes, run it under gunicorn instead: "
        "gunicorn leadrelay.wsgi."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "address",
            nargs="?",
            default="127.0.0.1:8000",
            help="PORT or HOST:PORT to listen on (default: 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="run no SLA worker in this process (run `leadrelay worker` instead)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = parse_address(options["address"])
        contract = load_contract()
        ensure_database()
        version = contract_version(contract)
        _ensure_secret_key()

        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(
            f"leadrelay: contract {contract.name} version {version.sha256[:12]}\n"
            f"serving on http://{shown}:{port}/ (Ctrl-C stops it)\n"
            "no account yet? leadrelay createuser NAME --role marketing|sales|admin"
        )
        worker = None
        if not options["no_worker"]:
            # One worker in a daemon thread watches the SLA clocks; at scale,
            # run `leadrelay worker` processes and serve with --no-worker.
            worker = start_background(lambda line: self.stdout.write(f"worker: {line}"))
            self.stdout.write("the SLA worker runs in this process (--no-worker: not)")
        try:
            run(
                host.strip("[]"),
                port,
                get_internal_wsgi_application(),
                ipv6=":" in host,
                threading=True,
                server_cls=WSGIServer,
            )
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {shown}:{port}: {exc.strerror}; "
                "pick another port, e.g. leadrelay serve 8001",
                returncode=BAD_INPUT,
            ) from None
        except KeyboardInterrupt:
            sys.stdout.write("\nstopped\n")
        finally:
            if worker is not None:
                worker.stop.set()


def parse_address(text: str) -> tuple[str, int]:
    match = _ADDRESS.match(text.strip())
    if not match:
        raise CommandError(
            f'"{text}" is not an address: give a port (8000) or host and port '
            "(127.0.0.1:8000)",
            returncode=BAD_INPUT,
        )

    port = int(match["port"])
    if not 0 < port < 65536:
        raise CommandError(f"port {port} is out of range 1-65535", returncode=BAD_INPUT)

    return match["host"] or "127.0.0.1", port
