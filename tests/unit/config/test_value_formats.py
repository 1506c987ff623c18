"""Values that Docker, cron and the server parse in ASCII are validated in ASCII, and proxy settings are the
URLs and host lists those parsers take."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from components.config_loader import load_site_config
from tests.harness import pulumi_values

ARABIC_INDIC_ONE = "\u0661"  # ١, a digit to Python's \d and int(), not to Docker's or cron's parsers


def refused_key(values: dict) -> tuple:
    with pytest.raises(ConfigError) as caught:
        load_site_config(pulumi_values(values))
    ((key, _),) = caught.value.problems
    return key


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"version": f"5.2{ARABIC_INDIC_ONE}.0"}, ("version",)),
        ({"logs": {"maxSize": f"1{ARABIC_INDIC_ONE}m"}}, ("logs", "maxSize")),
        ({"backup": {"schedule": f"{ARABIC_INDIC_ONE} 2 * * *"}}, ("backup", "schedule")),
        ({"dr": {"primaryStack": "o/p/s", "fileSyncSchedule": f"*/{ARABIC_INDIC_ONE} * * * *"}, "role": "standby"},
         ("dr", "fileSyncSchedule")),
        ({"images": {"postgres": f"postgres:{ARABIC_INDIC_ONE}5"}}, ("images", "postgres")),
        ({"images": {"haproxy": "haproxy:\u00e92"}}, ("images", "haproxy")),
    ],
)  # fmt: skip
def test_a_digit_of_another_script_is_refused(values, key):
    assert refused_key(values) == key


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("httpProxy", "proxy.corp:3128\nCODENVY_EVIL=1"),
        ("httpProxy", "http://proxy corp:3128"),
        ("httpProxy", "http://proxy.corp:99999"),
        ("httpProxy", "ftp://proxy.corp:21"),
        ("httpsProxy", "http://proxy.corp:3128 -Dx=y"),
        ("httpsProxy", "http://us'er@proxy.corp:3128"),
        ("noProxy", "localhost,,10.0.0.0/8"),
        ("noProxy", "local host"),
        ("noProxy", "a;b"),
    ],
)
def test_a_proxy_setting_that_is_not_a_proxy_url_or_host_list_is_refused(key, value):
    assert refused_key({"proxy": {key: value}}) == ("proxy", key)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("httpProxy", "http://proxy.corp:3128"),
        ("httpsProxy", "https://user:p%40ss@10.0.0.9:8443/"),
        ("noProxy", "localhost,127.0.0.1,.corp.example.com,10.0.0.0/8,registry.corp:5000"),
    ],
)
def test_a_proxy_setting_of_the_usual_form_is_accepted(key, value):
    site = load_site_config(pulumi_values({"proxy": {key: value}}))
    assert site.proxy.model_dump(by_alias=True)[key] == value
