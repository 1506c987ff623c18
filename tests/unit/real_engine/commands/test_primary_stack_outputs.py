"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: a standby reads
its primary's outputs as the engine's readStackOutputs answers."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from components.deploy_gates import READ_STACK_OUTPUTS
from tests.harness import FabricatingMocks, evaluate, full_stack_name

DEV = full_stack_name("dev")


class EngineOutputs(FabricatingMocks):
    """readStackOutputs as the engine answers it: a stack with no checkpoint fails the invoke, and exports
    that were None are absent."""

    def call(self, args):
        if args.token == READ_STACK_OUTPUTS:
            name = args.args["name"]
            if name not in self.stack_outputs:
                return {}, [("name", f'unknown stack "{name}"')]
            outputs = {key: value for key, value in self.stack_outputs[name].items() if value is not None}
            return {"name": name, "outputs": outputs, "secretOutputNames": []}
        return super().call(args)


def test_a_missing_primary_stack_is_named_by_its_key():
    own = full_stack_name("dr")
    with pytest.raises(ConfigError) as caught:
        evaluate("dr", mocks=EngineOutputs({own: {}}))
    message = str(caught.value)
    assert message.startswith("codenvy-infra:dr.primaryStack: cannot read the outputs of " + DEV)
    assert "unknown stack" in message


def test_a_standby_reads_a_primary_whose_none_exports_are_absent():
    primary = evaluate("dev").exports
    assert None in primary.values(), "the dev stack exports some None values"
    standby = evaluate("dr", mocks=EngineOutputs({DEV: primary, full_stack_name("dr"): {}}))
    assert standby.exports["version"] == primary["version"]
