"""The README stays true: its configuration reference is the one the models generate."""

from __future__ import annotations

import json
import re
import runpy

import pytest

from components.config_loader import load_site_config
from policies.codenvy_policies import POLICIES
from tests.harness import PROJECT_DIR, STACKS, site_config


def raw(**values) -> dict[str, str]:
    return {f"codenvy-infra:{key}": json.dumps(value) for key, value in values.items()}


def test_readme_configuration_reference_matches_the_models():
    generator = runpy.run_path(str(PROJECT_DIR / "scripts" / "config_reference.py"))
    readme = (PROJECT_DIR / "README.md").read_text()
    assert generator["reference"]() in readme
    assert generator["with_reference"](readme) == readme, "regenerate: python scripts/config_reference.py --write"


def test_readme_names_every_shipped_stack():
    readme = (PROJECT_DIR / "README.md").read_text()
    for stack_file in sorted(PROJECT_DIR.glob("Pulumi.*.yaml")):
        assert f"`{stack_file.name}`" in readme


def topology():
    return runpy.run_path(str(PROJECT_DIR / "scripts" / "topology.py"))


def test_readme_topology_is_the_one_drawn_from_its_stack_file():
    drawing = topology()
    readme = (PROJECT_DIR / "README.md").read_text()
    diagram = drawing["flowchart"](site_config(drawing["README_STACK"].removeprefix("Pulumi.").removesuffix(".yaml")))
    assert drawing["with_topology"](readme, diagram) == readme, (
        "redraw: python scripts/topology.py --write Pulumi.sim.yaml"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_topology_names_every_host_with_its_address(stack):
    site = site_config(stack)
    diagram = topology()["flowchart"](site)
    for host in (site.master, *site.nodes):
        assert f'["{host.name} {host.address}: ' in diagram, host.name


def test_topology_draws_a_host_named_like_a_mermaid_keyword_under_its_own_id():
    node = {"name": "end", "address": "10.9.0.2", "ssh": {}}
    site = load_site_config(raw(network={"mode": "overlay"}, master={"address": "10.9.0.1"}, nodes=[node]))
    lines = topology()["flowchart"](site).splitlines()
    assert 'subgraph h1["end 10.9.0.2: workspace node"]' in [line.strip() for line in lines]


def test_readme_lists_every_policy_of_the_pack_at_its_level():
    readme = (PROJECT_DIR / "README.md").read_text()
    listed = re.findall(r"^\| `([a-z-]+)` \| (mandatory|advisory) \|", readme, flags=re.MULTILINE)
    assert sorted(listed) == sorted((policy.name, policy.enforcement_level.value) for policy in POLICIES)
