"""The pack as a package of small modules, and its entry point run as `pulumi policy` runs it: the language
host starts `python -m pulumi.policy` in the pack's directory (pulumi/pulumi
sdk/python/cmd/pulumi-language-python/main.go, RunPlugin), which runs that directory's __main__.py with runpy
(sdk/python/lib/pulumi/policy/__main__.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from codenvy_policies import POLICIES

from tests.harness import PROJECT_DIR

# A module a reviewer reads in one sitting.
MAX_MODULE_LINES = 250

# PolicyPack would serve the engine over gRPC and never return: the probe records what it is given instead.
PROBE = """
import json, runpy, pulumi_policy
given = {}
pulumi_policy.PolicyPack = lambda **pack: given.update(pack)
runpy.run_path(".", run_name="__main__")
policies = [[policy.name, policy.enforcement_level.value] for policy in given["policies"]]
print(json.dumps({"name": given["name"], "level": given["enforcement_level"].value, "policies": policies}))
"""


def declared_pack() -> dict:
    run = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=PROJECT_DIR / "policies", capture_output=True, text=True, check=True
    )
    return json.loads(run.stdout)


def test_the_entry_point_declares_the_pack_mandatory_by_default():
    pack = declared_pack()
    assert (pack["name"], pack["level"]) == ("codenvy-infra", "mandatory")


def test_the_entry_point_hands_the_engine_every_policy_at_its_level():
    assert declared_pack()["policies"] == [[policy.name, policy.enforcement_level.value] for policy in POLICIES]


def test_no_module_of_the_pack_is_over_250_lines():
    # Not rglob: docs/policies.md has people make a virtualenv in policies/.venv.
    modules = [*(PROJECT_DIR / "policies").glob("*.py"), *(PROJECT_DIR / "policies" / "codenvy_policies").glob("*.py")]
    lengths = {path.name: len(path.read_text().splitlines()) for path in modules}
    assert {name: lines for name, lines in lengths.items() if lines > MAX_MODULE_LINES} == {}
