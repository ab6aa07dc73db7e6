"""Getting leads in: CSV exports with their mappings, and (later) forms and JSON."""
