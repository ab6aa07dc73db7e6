"""leadrelay keeps marketing and sales on one funnel contract."""

__version__ = "0.1.0"
