"""Broker exports → alvh position files (``alvh import``).

One module per export format turns a file into plain :class:`ImportedLeg`
records (``tastytrade``, ``thinkorswim``, ``ibkr``, ``generic``); ``detect``
recognises the format from its headers; ``group`` puts SPX/SPXW legs together
into iron condors and VIX call spreads onto them as the hedge layers alvh
recommended (``recommendations`` reads those from the decision journal);
``write`` renders the TOML; ``importer`` runs the whole thing for the CLI.
"""

from alvh_cli.inputs.brokers.common import ImportedLeg, ParsedExport, Skipped

__all__ = ["ImportedLeg", "ParsedExport", "Skipped"]
