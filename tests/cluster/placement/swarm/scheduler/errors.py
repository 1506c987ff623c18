"""The error a scheduling decision ends with (scheduler/scheduler.go, scheduler/filter/*.go)."""

from __future__ import annotations


class SchedulingError(Exception):
    pass
