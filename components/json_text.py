"""JSON text measured before it is decoded: the standard decoder recurses once a level and raises
RecursionError past about a thousand, so text from outside (a stack value, an API's answer) is checked
first. Standard library only: the Resource API client imports it when run on its own."""

from __future__ import annotations


def nesting(text: str) -> int:
    """How deep the text's lists and objects go, counted without recursion (brackets inside strings are text)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
