"""The stand-in's `swarm manage` command line against docker/swarm v1.2.8's own rules; expected values come from
swarm's source (cited per test), worked out by hand, never read back from the stand-in."""

from __future__ import annotations

import re

import pytest

from tests.unit.swarm.standin import manage, swarm


def fatal_message(command: str, environ: dict | None = None) -> str:
    with pytest.raises(swarm.FatalError) as refused:
        manage(command, environ)
    return str(refused.value)


def test_an_unknown_flag_is_refused():
    # vendor/github.com/urfave/cli/command.go:103-117 over Go's flag package
    with pytest.raises(
        swarm.UsageError, match="^" + re.escape("flag provided but not defined: -engine-overcommit") + "$"
    ):
        manage("manage --engine-overcommit=1 file:///x")


def test_both_names_of_one_flag_are_refused():
    # vendor/github.com/urfave/cli/context.go normalizeFlags, the later name first.
    with pytest.raises(swarm.UsageError) as refused:
        manage("manage -H tcp://0.0.0.0:2375 --host tcp://0.0.0.0:2376 file:///x")
    assert str(refused.value) == "Cannot use two forms of the same flag: H host"


def test_a_bad_number_is_refused_with_go_wording():
    # Go flag: invalid value %q for flag -%s: %v, the error of strconv.ParseInt
    expected = 'invalid value "x" for flag -engine-failure-retry: strconv.ParseInt: parsing "x": invalid syntax'
    with pytest.raises(swarm.UsageError) as refused:
        manage("manage --engine-failure-retry=x file:///x")
    assert str(refused.value) == expected


def test_no_failure_retries_is_refused():
    # cli/manage.go:259-262
    assert fatal_message("manage --engine-failure-retry=0 file:///x") == "invalid failure retry count"


def test_a_heartbeat_under_a_second_is_refused():
    # cli/manage.go:106-108
    assert fatal_message("manage --heartbeat=500ms file:///x") == "--heartbeat should be at least one second"


def test_a_max_refresh_below_the_min_is_refused():
    # cli/manage.go:251-253
    message = fatal_message("manage --engine-refresh-min-interval=10s --engine-refresh-max-interval=5s file:///x")
    assert message == "max refresh interval cannot be less than min refresh interval"


def test_a_negative_create_retry_is_refused():
    # cluster/swarm/cluster.go:104-107
    message = fatal_message("manage --cluster-opt=swarm.createretry=-1 file:///x")
    assert message == "swarm.createretry can not be negative, -1 is invalid"


def test_flags_on_both_sides_of_the_discovery_leave_no_discovery():
    # urfave/cli command.go:78-106 moves only arguments before the first flag; Go's flag package stops at the
    # discovery, so two arguments remain and swarm takes neither (cli/flags.go:22-27).
    message = fatal_message("manage --heartbeat=10s file:///x --strategy=spread")
    assert message == "discovery required to manage a cluster. See 'swarm manage --help'."


def test_a_flag_after_the_discovery_alone_still_counts():
    # urfave/cli command.go:90-103: the discovery, before the first flag, is moved behind the flags.
    assert manage("manage file:///x --strategy=binpack").strategy == "binpack"


def test_only_file_discovery_is_implemented():
    assert "only file:// is" in fatal_message("manage nodes://10.0.0.1:2375")


def test_given_filters_replace_the_defaults():
    # cli/manage.go:279-283
    assert manage("manage --filter health --filter=constraint file:///x").filters == ["health", "constraint"]


def test_tlsverify_needs_a_certificate_and_key():
    # cli/manage.go:224-226
    assert fatal_message("manage --tlsverify file:///x") == "--tlscert and --tlskey must be provided when using --tls"


def test_tlsverify_needs_a_ca():
    # cli/manage.go:227-229
    message = fatal_message("manage --tlsverify --tlscert=c.pem --tlskey=k.pem file:///x")
    assert message == "--tlscacert must be provided when using --tlsverify"


def test_certificates_without_tls_are_refused():
    # cli/manage.go:241-243
    message = fatal_message("manage --tlscacert=ca.pem file:///x")
    assert message == "--tlscert, --tlskey and --tlscacert require the use of either --tls or --tlsverify"
