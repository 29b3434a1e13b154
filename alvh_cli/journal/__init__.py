"""The decision journal: every ``alvh review`` and what it recommended, in SQLite.

:mod:`~alvh_cli.journal.store` opens the file and writes and reads reviews,
:mod:`~alvh_cli.journal.records` holds the typed records it stores, and
:mod:`~alvh_cli.journal.changes` compares two reviews. Their public names are here.
"""

from alvh_cli.journal.changes import CHANGE_KINDS, Change, diff_decisions
from alvh_cli.journal.records import (
    Decision,
    Execution,
    RecordedFill,
    RecordedOrder,
    RecordedOrderLeg,
    RecordedRecommendation,
    jsonable,
    recommendation_from_dict,
    to_dict,
)
from alvh_cli.journal.store import (
    FILE_NAME,
    ReviewRecord,
    decisions,
    default_path,
    executions,
    latest_decision,
    open_journal,
    previous_decisions,
    previous_review,
    record_execution,
    record_review,
    reviews,
    transaction,
)

__all__ = [
    "CHANGE_KINDS", "FILE_NAME", "Change", "Decision", "Execution", "RecordedFill",
    "RecordedOrder", "RecordedOrderLeg", "executions", "latest_decision", "record_execution",
    "RecordedRecommendation", "ReviewRecord", "decisions", "default_path", "diff_decisions",
    "jsonable", "open_journal", "previous_decisions", "previous_review", "record_review",
    "recommendation_from_dict", "reviews", "to_dict", "transaction",
]  # fmt: skip
