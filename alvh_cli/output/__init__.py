"""Output: tables, JSON and CSV for each command."""
