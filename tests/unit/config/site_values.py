"""The stack values of a small overlay site, which the config tests vary one key at a time."""

from __future__ import annotations


def overlay(master: dict | None = None, nodes: list[dict] | None = None, **values) -> dict:
    return {
        "network": {"mode": "overlay"},
        "master": {"name": "boss", "address": "10.9.0.1", **(master or {})},
        "nodes": nodes if nodes is not None else [{"name": "ws1", "address": "10.9.0.2", "ssh": {}}],
        **values,
    }
