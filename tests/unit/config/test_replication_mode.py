"""dr.replication resolved once into a ReplicationMode, and every component's settings carrying that value as
it is, never a flag derived from it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
from pydantic import BaseModel

import components
from components.config import ConfigError, ReplicationMode, Settings, SiteConfig
from components.config_loader import load_site_config
from tests.harness import pulumi_values, site_config


def standby(**dr: Any) -> SiteConfig:
    return load_site_config(
        pulumi_values(
            {
                "role": "standby",
                "siteName": "codenvy-dr",
                "adminPassword": "an-admin-password",  # ApiAccess.of needs one
                "master": {"address": "10.9.1.1"},
                "dr": {"primaryStack": "o/p/primary", **dr},
            }
        )
    )


@pytest.mark.parametrize(("kind", "mode"), [("hot", ReplicationMode.STREAMING), ("cold", ReplicationMode.ARCHIVE)])
def test_an_absent_mode_is_resolved_from_the_standby_kind(kind, mode):
    assert standby(standby=kind).dr.replication is mode


@pytest.mark.parametrize(("kind", "mode"), [("hot", ReplicationMode.STREAMING), ("cold", ReplicationMode.ARCHIVE)])
def test_a_null_mode_is_resolved_as_an_absent_one(kind, mode):
    assert standby(standby=kind, replication=None).dr.replication is mode


def test_a_written_mode_is_kept_over_the_standby_kinds_default():
    assert standby(standby="hot", replication="archive").dr.replication is ReplicationMode.ARCHIVE


def test_the_shipped_standby_stack_file_still_means_archive():
    """Users' stack files do not change: Pulumi.dr.yaml's `replication: archive` reads as it always did."""
    assert site_config("dr").replication_mode is ReplicationMode.ARCHIVE


def test_an_unknown_mode_is_refused_naming_the_key_and_the_modes():
    with pytest.raises(ConfigError) as caught:
        standby(replication="sync")
    ((key, message),) = caught.value.problems
    assert key == ("dr", "replication")
    assert "'streaming'" in message and "'archive'" in message


def test_a_refused_standby_kind_is_the_only_problem_reported():
    """The mode is resolved from dr.standby; when that is refused, the mode adds no second error of its own."""
    with pytest.raises(ConfigError) as caught:
        standby(standby="warm")
    assert [key for key, _ in caught.value.problems] == [("dr", "standby")]


def test_a_site_without_a_dr_section_follows_no_primary():
    assert SiteConfig().replication_mode is None


@pytest.mark.parametrize("promote", [False, True])
def test_the_site_reads_the_mode_of_its_dr_section_promoted_or_not(promote):
    assert standby(replication="streaming", promote=promote).replication_mode is ReplicationMode.STREAMING


def settings_models() -> list[type[Settings]]:
    """Every component's settings model that is made from the site config alone (`Name.of(site)`)."""
    found: dict[str, type[Settings]] = {}
    for module_info in pkgutil.iter_modules(components.__path__):
        module = importlib.import_module(f"components.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Settings) and cls is not Settings and hasattr(cls, "of"):
                found[cls.__qualname__] = cls
    return [found[name] for name in sorted(found)]


SETTINGS = settings_models()


def flags(value: object, path: str = "") -> dict[str, bool]:
    """Every boolean inside a settings model, by its path."""
    if isinstance(value, bool):
        return {path: value}
    if isinstance(value, BaseModel):
        return {
            k: v for name in type(value).model_fields for k, v in flags(getattr(value, name), f"{path}.{name}").items()
        }
    if isinstance(value, tuple | list):
        return {k: v for index, item in enumerate(value) for k, v in flags(item, f"{path}[{index}]").items()}
    return {}


def test_the_walk_finds_the_settings_that_read_the_mode():
    names = {cls.__name__ for cls in SETTINGS}
    assert {"MasterSettings", "ReplicationSettings", "DisasterRecoverySettings", "FirewallSettings"} <= names


@pytest.mark.parametrize("settings", SETTINGS, ids=[cls.__name__ for cls in SETTINGS])
def test_no_settings_carry_the_mode_as_a_flag(settings):
    """Two hot standbys that differ only in dr.replication: whatever a component reads of the mode is the
    mode itself, so no boolean of its settings differs between them."""
    streaming = flags(settings.of(standby(standby="hot", replication="streaming")))
    archive = flags(settings.of(standby(standby="hot", replication="archive")))
    derived = sorted(path for path in streaming.keys() & archive.keys() if streaming[path] != archive[path])
    assert derived == [], f"{settings.__name__} carries dr.replication as the flag(s) {derived}"
