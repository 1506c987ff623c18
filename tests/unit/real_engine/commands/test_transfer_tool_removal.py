"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: the standby's
transfer tool is removed at promotion, and its delete leaves what it did not install."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from tests.harness import Registration, stack_file_config
from tests.unit.real_engine.commands.fake_host import run


def transfer_tool(tmp_path: Path, **dr) -> Registration:
    overrides = {
        "codenvy-infra:backup": {**stack_file_config("dr")["codenvy-infra:backup"], "toolsDirectory": str(tmp_path)},
        "codenvy-infra:dr": {**stack_file_config("dr")["codenvy-infra:dr"], **dr},
    }
    return run("dr", overrides).named("codenvy-dr-dr-transfer-tool")


def test_promotion_removes_the_transfer_tool(tmp_path):
    tool = transfer_tool(tmp_path)
    installed = subprocess.run(shlex.split(tool.inputs["create"]), capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr
    path = tmp_path / "codenvy-transfer-codenvy-dr"
    assert path.exists()
    promoted = run("dr", {"codenvy-infra:dr": {**stack_file_config("dr")["codenvy-infra:dr"], "promote": True}})
    assert not [r for r in promoted.resources if "transfer" in r.name], "so the engine deletes it"
    removed = subprocess.run(shlex.split(tool.inputs["delete"]), capture_output=True, text=True, check=False)
    assert removed.returncode == 0, removed.stderr
    assert not path.exists()


def test_a_tool_delete_leaves_a_file_it_did_not_install(tmp_path):
    tool = transfer_tool(tmp_path)
    path = tmp_path / "codenvy-transfer-codenvy-dr"
    path.write_text("#!/bin/sh\necho someone else's\n")
    subprocess.run(shlex.split(tool.inputs["delete"]), capture_output=True, text=True, check=True)
    assert path.exists()
