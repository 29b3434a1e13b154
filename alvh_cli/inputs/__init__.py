"""Readers of the input files: positions, books, market snapshots and macro events."""
