"""Scheduling expressions: key==value, key!=value, ~ for soft (scheduler/filter/expr.go)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...golang import GoPanicError
from ...logrus import log


class ExprError(Exception):
    pass


OPERATORS = ("==", "!=")  # scheduler/filter/expr.go:19
KEY_RE = re.compile(r"[a-z_][a-z0-9\-_.]+", re.IGNORECASE | re.ASCII)  # expr.go:39
VALUE_RE = re.compile(r"[=!/]?(~)?[a-z0-9:\-_\t\n\f\r \.\*/\(\)\?\+\[\]\\\^\$\|]+", re.IGNORECASE | re.ASCII)  # :53


@dataclass(frozen=True)
class Expr:
    key: str
    operator: int  # 0 is ==, 1 is !=
    value: str
    soft: bool

    def __str__(self) -> str:
        return f"{self.key}{OPERATORS[self.operator]}{self.value}"

    def match(self, *whats: str) -> bool:
        """expr.go:76-110: /regexp/ or a glob with * anchored at both ends; != negates."""
        if self.value[0] == "/" and self.value[-1] == "/":
            if len(self.value) < 2:
                raise GoPanicError("runtime error: slice bounds out of range")
            pattern = self.value[1:-1]
        else:
            pattern = "^" + self.value.replace("*", ".*") + r"\Z"
        try:
            regex = re.compile(pattern)
            matched = any(regex.search(what) for what in whats)
        except re.error as error:
            log("error", str(error))
            matched = False
        return matched if self.operator == 0 else not matched


def parse_exprs(entries: list[str]) -> list[Expr]:
    """expr.go:28-74: the first operator found splits key and value; a leading ~ makes the expression soft."""
    exprs = []
    for entry in entries:
        for index, operator in enumerate(OPERATORS):
            if operator in entry:
                key, value = entry.split(operator, 1)
                if not KEY_RE.fullmatch(key):
                    raise ExprError(f"Key '{key}' is invalid")
                if not VALUE_RE.fullmatch(value):
                    raise ExprError(f"Value '{value}' is invalid")
                exprs.append(Expr(key, index, value.lstrip("~"), value.startswith("~")))
                break
        else:
            raise ExprError("One of operator ==, != is expected")
    return exprs
