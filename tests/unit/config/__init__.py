"""Tests of the config models (components/config/)."""
