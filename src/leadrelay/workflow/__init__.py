"""The one place where a lead is created or changed."""
