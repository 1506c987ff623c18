"""How the stand-in reads Codenvy's image build request and places it against docker/swarm v1.2.8's own rules; expected
values come from swarm's source (cited per test), worked out by hand, never read back from the stand-in."""

from __future__ import annotations

import base64

import pytest

from tests.unit.swarm.standin import CODENVY_QUERY, GIB, node, swarm

# Codenvy's pullImage (codenvy HostedMachineProviderImpl.java:192-217) through eclipse/che 5.22.0's
# DockerConnector.buildImage (DockerConnector.java:836-876): query parameters appended unencoded, buildargs
# URL-encoded once, forcerm/pull as 1, memswap -1, cpuperiod/cpuquota 0, no rm; the tar as
# application/x-compressed-tar; X-Registry-Config in standard base64.
MAINTENANCE = {"constraint:com.codenvy.node-state!": "maintenance"}  # codenvy MaintenanceConstraintProvider.java


def build_form(query: str = CODENVY_QUERY, content_type: str = "application/x-compressed-tar", body: bytes = b""):
    return swarm.parse_form("POST", content_type, query, lambda limit: body[:limit])


def codenvy_build_config(**changes):
    options = {**swarm.build_options(build_form()[0], None), **changes}
    return swarm.build_config(options)


def labelled(name: str, **labels) -> swarm.Node:
    made = node(name)
    made.labels = labels
    return made


def test_codenvys_build_request_reads_into_build_options():
    # api/handlers.go:1399-1425: int64ValueOrZero, boolValue, t as the tags, buildargs as JSON
    options = swarm.build_options(build_form()[0], None)
    seen = {k: options[k] for k in ("Tags", "Memory", "MemorySwap", "ForceRemove", "Remove", "PullParent")}
    assert (seen, options["BuildArgs"]) == (
        {
            "Tags": ["eclipse-che/ws1_dev-machine"],
            "Memory": 2 * GIB,
            "MemorySwap": -1,
            "ForceRemove": True,
            "Remove": False,
            "PullParent": True,
        },
        MAINTENANCE,
    )


def test_a_build_number_that_does_not_parse_reads_as_zero():
    # api/utils.go:347-353: strconv.ParseInt(s, 10, 64), its error giving 0
    assert swarm.build_options(build_form("memory=2g")[0], None)["Memory"] == 0


def test_a_bad_escape_in_the_build_query_is_the_form_error():
    # api/handlers.go:1394-1397 answers ParseForm's error; net/url unescape (Go 1.7) names the escape
    assert build_form("t=a%zz")[1] == 'invalid URL escape "%zz"'


def test_a_form_encoded_build_body_is_read_as_the_form_first():
    # net/http ParseForm (Go 1.7): a x-www-form-urlencoded body is parsed, its values ahead of the query's
    form, error = build_form("t=query", "application/x-www-form-urlencoded", b"t=body")
    assert (form["t"], error) == (["body", "query"], "")


def test_registry_config_in_standard_base64_with_a_slash_is_dropped():
    # api/handlers.go:1442-1448 decodes with base64.URLEncoding; Che encodes with java.util.Base64.getEncoder()
    # (DockerRegistryAuthResolver.java); the engine then gets json.Marshal of a nil map
    standard = base64.b64encode(b'{"https://index.docker.io/v1/":{"username":"u","password":"s3cr3t?"}}').decode()
    assert "/" in standard
    options = swarm.build_options({}, standard)
    assert (options["AuthConfigs"], swarm.registry_config_header(options)) == (None, "bnVsbA==")


def test_the_maintenance_build_arg_becomes_a_constraint():
    # cluster/swarm/cluster.go:1047 (convertMapToKVStrings, utils.go:23-35) then cluster/config.go:97-127
    config, _ = codenvy_build_config()
    assert config.labels["com.docker.swarm.constraints"] == '["com.codenvy.node-state!=maintenance"]'


def test_the_engine_gets_the_build_args_without_the_constraint():
    # cluster.go:1050 convertKVStringsToMap(config.Env): what is left of Env; a nil value went through "k="
    _, forwarded = codenvy_build_config(BuildArgs={**MAINTENANCE, "HTTP_PROXY": "http://p:3128", "EMPTY": None})
    assert forwarded == {"HTTP_PROXY": "http://p:3128", "EMPTY": ""}


def test_codenvys_build_reaches_the_engine_with_rm_0_and_go_encoded_options():
    # vendor/github.com/docker/docker/client/image_build.go:46-129: rm always sent, nil slices and maps as null
    options = swarm.build_options(build_form()[0], None)
    options["BuildArgs"] = codenvy_build_config()[1]
    assert swarm.urlencode(swarm.image_build_query(options, "1.30")) == (
        "buildargs=%7B%7D&cachefrom=null&cgroupparent=&cpuperiod=0&cpuquota=0&cpusetcpus=&cpusetmems=&cpushares=0"
        "&dockerfile=&forcerm=1&labels=null&memory=2147483648&memswap=-1&networkmode=&pull=1&rm=0&shmsize=0"
        "&t=eclipse-che%2Fws1_dev-machine&target=&ulimits=null"
    )


def test_a_build_goes_to_the_node_not_in_maintenance():
    # scheduler/filter/constraint.go:41-45 matches node.Labels[key] (engine.go:579-614: the daemon's labels)
    nodes = [labelled("n1", **{"com.codenvy.node-state": "maintenance"}), labelled("n2")]
    chosen = swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container(nodes, codenvy_build_config()[0])
    assert [n.name for n in chosen] == ["n2"]


def test_a_node_without_the_label_satisfies_the_not_equal_constraint():
    # constraint.go:42: a missing label reads as "", and expr.go:102-107 negates ^maintenance$ not matching it
    (constraint,) = swarm.parse_exprs(["com.codenvy.node-state!=maintenance"])
    assert swarm.filter_constraint(codenvy_build_config()[0], [labelled("n1")], True)[0].name == "n1"
    assert constraint.match("") is True


def test_a_build_with_every_node_in_maintenance_is_refused():
    # filter.go:76,83-100 with constraint.go:48
    nodes = [labelled("n1", **{"com.codenvy.node-state": "maintenance"})]
    with pytest.raises(swarm.SchedulingError) as refused:
        swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container(nodes, codenvy_build_config()[0])
    assert str(refused.value) == (
        "Unable to find a node that satisfies the following conditions "
        "\n[available container slots]\n[com.codenvy.node-state!=maintenance]"
    )


def test_a_build_asking_more_memory_than_any_node_has_is_refused():
    # weighted_node.go:46-49,68-70: the build's memory is the config's HostConfig.Memory (cluster.go:1048)
    config, _ = codenvy_build_config(Memory=8 * GIB)
    with pytest.raises(swarm.SchedulingError, match=r"^no resources available to schedule container$"):
        swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container([node("n1"), node("n2")], config)


def test_build_cpushares_count_as_cpus():
    # cluster.go:1048 puts cpushares in HostConfig.CPUShares, which swarm reads as CPUs (weighted_node.go:46)
    config, _ = codenvy_build_config(CPUShares=1024)
    with pytest.raises(swarm.SchedulingError, match=r"^no resources available to schedule container$"):
        swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container([node("n1")], config)


def test_no_healthy_node_refuses_a_build():
    # scheduler/filter/health.go:12: the same filters as a container's
    with pytest.raises(swarm.SchedulingError, match=r"^No healthy node available in the cluster$"):
        swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container(
            [node("n1", health=0)], codenvy_build_config()[0]
        )


def test_a_progress_message_keeps_go_fields_only():
    # cluster/jsonmessage.go:13-36: progressDetail holds current/total/start; unknown keys are dropped
    message = swarm.decode_json_message(b'{"status":"Downloading","progressDetail":{"current":1,"units":"B"},"x":1}')
    assert swarm.json_message(message) == {"status": "Downloading", "progressDetail": {"current": 1}}
