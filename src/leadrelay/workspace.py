"""The workspace a command runs in: its contract and its database."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from leadrelay.contract import Contract, ContractError, load_file, parse
from leadrelay.contract.load import default_text

#: Exit code for a contract, mapping or input that is refused.
BAD_INPUT = 2


def contract_path() -> Path:
    return Path(settings.CONTRACT_PATH)


def load_contract(path: str | Path | None = None) -> Contract:
    """Load the contract in force, or stop the command with every problem listed."""
    target = Path(path) if path else contract_path()
    try:
        return load_file(target)
    except ContractError as exc:
        raise CommandError(str(exc), returncode=BAD_INPUT) from None


def load_contract_or_default(path: str | Path | None) -> Contract:
    if path:
        return load_contract(path)

    return parse(default_text(), source="the default contract")


def ensure_database() -> None:
    """Apply any migrations the database lacks, quietly."""
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0, interactive=False)
