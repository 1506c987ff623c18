"""Garbage-collector settings for evaluating a large site in one short-lived process."""

import gc

# A Pulumi program builds one large graph of resources and Outputs that lives until the process ends.
# With CPython's default thresholds (700, 10, 10) the collector re-scans that growing graph over and
# over: at 1,000 workspace nodes that was half the evaluation time, and what made it grow faster than
# the number of nodes (see docs/testing.md, Performance). Collections still run; just far less often.
YOUNG_THRESHOLD = 100_000
MIDDLE_THRESHOLD = 50
OLD_THRESHOLD = 1_000


def tune_garbage_collector() -> None:
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
