"""The `leadrelay` command: Django's management commands with leadrelay's settings."""

from __future__ import annotations

import os
import sys
import tempfile

#: Commands that run on a throwaway database and leave no file behind.
_THROWAWAY = ("audit", "demo")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
    command = argv[1] if len(argv) > 1 else "help"

    if command == "init":
        # `leadrelay init DIR` makes DIR the workspace before settings load.
        target = next((a for a in argv[2:] if not a.startswith("-")), None)
        if target:
            if os.path.exists(target) and not os.path.isdir(target):
                sys.stderr.write(f"leadrelay init: {target} is a file; name a folder\n")
                sys.exit(2)

            os.makedirs(target, exist_ok=True)
            os.environ["LEADRELAY_WORKSPACE"] = target

    if command in _THROWAWAY and "LEADRELAY_DATABASE_URL" not in os.environ:
        os.environ["LEADRELAY_DATABASE_URL"] = "sqlite://:memory:"
        os.environ.setdefault("LEADRELAY_WORKSPACE", tempfile.gettempdir())

    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
