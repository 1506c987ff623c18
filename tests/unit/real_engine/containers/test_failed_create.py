"""What the real engine and the docker provider (pulumi-docker 5.2, bridging kreuzwerker/terraform-provider-docker
v4.5.0) make of the containers the program registers: a server whose create fails leaves the stack's outputs as the
engine records them."""

from __future__ import annotations

import pytest

from components import app_server
from tests import harness
from tests.engine.rules import CONTAINER
from tests.harness import FabricatingMocks, evaluate
from tests.unit.real_engine.containers.read_back import DEV


class ServerFails(FabricatingMocks):
    """The server's create fails, as a new version's server that cannot be created or started."""

    def new_resource(self, args):
        if args.typ == CONTAINER and args.name.endswith("-master-server"):
            raise RuntimeError("Unable to start container: the new server exits at once")
        return super().new_resource(args)


def test_a_failed_server_create_records_no_new_version():
    """The SDK registers the stack's outputs once all of them resolve; when one never does, the engine
    keeps the previous outputs (deployment_executor.go, "Finalize the stack outputs"), so `version` still
    names the server that runs and going back to it is not refused as a downgrade."""
    attempt = harness.Evaluation()
    with pytest.raises(Exception, match="new server exits"):
        evaluate(
            "dev",
            {"codenvy-infra:version": "5.23.0"},
            mocks=ServerFails({DEV: {"version": "5.22.0"}}),
            into=attempt,
        )
    assert attempt.named("codenvy-master-pre-upgrade-backup"), "the upgrade got as far as the server"
    assert "version" not in attempt.exports


def test_the_exported_version_is_the_one_the_server_declares():
    evaluation = evaluate("dev", {"codenvy-infra:version": "5.23.0"}, stack_outputs={DEV: {"version": "5.22.0"}})
    server = evaluation.named("codenvy-master-server").inputs
    labels = {item["label"]: item["value"] for item in server["labels"]}
    assert evaluation.exports["version"] == labels[app_server.VERSION_LABEL] == "5.23.0"
