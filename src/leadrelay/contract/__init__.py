"""The funnel contract: load, validate, render, and judge a lead against it."""

from leadrelay.contract.load import ContractError, default_text, load_file, parse
from leadrelay.contract.model import Contract

__all__ = ["Contract", "ContractError", "default_text", "load_file", "parse"]
