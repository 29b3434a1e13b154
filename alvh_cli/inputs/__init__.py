"""Readers of the input files: positions, books, market snapshots, macro events, broker exports."""
