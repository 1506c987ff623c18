"""The README and docs/ stay true: what they quote, list and link is what the program, the Makefile and the
pages themselves hold."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from unittest import mock

import pytest
import yaml

from components.config_loader import as_pulumi_value, load_site_config
from components.deploy_gates import establish
from policies.codenvy_policies import POLICIES
from tests.harness import PROJECT_DIR, STACKS, evaluate, site_config

README = PROJECT_DIR / "README.md"
DOCS = PROJECT_DIR / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
# A newcomer reads the README in one sitting; the rest lives in docs/.
README_MAX_LINES = 200
FENCE = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)


def raw(**values) -> dict[str, str]:
    return {f"codenvy-infra:{key}": json.dumps(value) for key, value in values.items()}


def page(path: Path) -> str:
    return path.read_text()


def between(text: str, marker: str) -> str:
    start, end = f"<!-- {marker}:start -->\n", f"<!-- {marker}:end -->"
    assert start in text and end in text, f"the markers of {marker!r} are missing"
    return text.partition(start)[2].partition(end)[0]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the first Markdown table in `text`, as cells."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


# --- what the README holds -----------------------------------------------------------------------------------


def test_readme_is_at_most_200_lines():
    assert len(page(README).splitlines()) <= README_MAX_LINES


def test_readme_names_every_shipped_stack():
    readme = page(README)
    for stack_file in sorted(PROJECT_DIR.glob("Pulumi.*.yaml")):
        assert f"`{stack_file.name}`" in readme


def documented_outputs() -> dict[str, bool]:
    """The README's outputs table: each output and whether it is marked secret."""
    return {name.strip("`"): marked == "yes" for name, marked, _ in table_rows(between(page(README), "outputs"))}


def production_config() -> dict[str, object]:
    block = between(page(README), "production-stack")
    (document,) = re.findall(r"^```yaml\n(.*?)^```", block, flags=re.MULTILINE | re.DOTALL)
    return yaml.safe_load(document)["config"]


@pytest.fixture(scope="module")
def evaluations():
    """The program evaluated for every shipped stack file and for the README's production example."""
    shipped = {stack: evaluate(stack) for stack in STACKS}
    return {**shipped, "production example": evaluate("prod", stack_config=production_config())}


@pytest.mark.parametrize("stack", [*STACKS, "production example"])
def test_readme_outputs_table_lists_what_the_program_exports(evaluations, stack):
    assert sorted(documented_outputs()) == sorted(evaluations[stack].exports)


def test_readme_outputs_table_marks_the_secret_outputs(evaluations):
    secret = set().union(*(evaluation.secret_exports for evaluation in evaluations.values()))
    assert {name for name, marked in documented_outputs().items() if marked} == secret


def test_the_production_example_passes_the_config_seam_with_no_plain_text_secret():
    values = {key: as_pulumi_value(value) for key, value in production_config().items()}
    # No key held encrypted: a secret written into the example would be refused here.
    site = load_site_config(values, secret_keys=())
    assert site.environment != "dev"


PROMISES = {
    "three hosts": lambda site: len([site.master, *site.nodes]) == 3,
    "TLS for the site and the registry": lambda site: site.https and site.registry.tls,
    "the firewall": lambda site: site.firewall_enabled,
    "a standby streaming from it": lambda site: bool(site.replication.standby_addresses),
}


@pytest.mark.parametrize("promise", PROMISES)
def test_the_production_example_is_what_the_readme_promises(promise):
    values = {key: as_pulumi_value(value) for key, value in production_config().items()}
    assert PROMISES[promise](load_site_config(values, secret_keys=()))


def test_readme_points_the_cli_at_the_state_make_keeps():
    makefile = page(PROJECT_DIR / "Makefile")
    (state,) = re.findall(r"^STATE_DIR := \$\(CURDIR\)/(\S+)$", makefile, flags=re.MULTILINE)
    (passphrase,) = re.findall(
        r"PULUMI_CONFIG_PASSPHRASE_FILE \?= \$\(STATE_DIR\)/(\S+)$", makefile, flags=re.MULTILINE
    )
    exported = f"export PULUMI_BACKEND_URL=file://$PWD/{state} PULUMI_CONFIG_PASSPHRASE_FILE=$PWD/{state}/{passphrase}"
    assert exported in page(README).splitlines()


# --- troubleshooting quotes what the code says -----------------------------------------------------------------


def troubleshooting_symptoms() -> list[str]:
    section = page(README).partition("## Troubleshooting")[2].partition("\n## ")[0]
    return [symptom.rstrip("… ") for symptom in re.findall(r"^\*\*`([^`]+)`", section, flags=re.MULTILINE)]


def quoted_in_troubleshooting(message: str) -> bool:
    return any(symptom in message for symptom in troubleshooting_symptoms())


def test_troubleshooting_quotes_the_makefiles_missing_cli_message():
    (message,) = re.findall(r'command -v pulumi .*?echo "([^"]+)"', page(PROJECT_DIR / "Makefile"))
    assert quoted_in_troubleshooting(message)


def test_troubleshooting_quotes_the_plain_text_secret_refusal():
    with pytest.raises(Exception) as refused:
        load_site_config(raw(environment="prod", adminPassword="not-a-secret"), secret_keys=())
    assert quoted_in_troubleshooting(str(refused.value))


def test_troubleshooting_quotes_the_unreadable_primary_refusal():
    standby = site_config("dr")

    def outputs(stack):
        if stack == standby.dr.primary_stack:
            raise RuntimeError(f'unknown stack "{stack}"')
        return {}

    with pytest.raises(Exception) as refused:
        establish(standby, outputs)
    assert quoted_in_troubleshooting(str(refused.value))


def test_troubleshooting_quotes_the_cluster_lanes_skip_without_root():
    conftest = runpy.run_path(str(PROJECT_DIR / "tests" / "cluster" / "conftest.py"))
    with mock.patch("os.geteuid", return_value=1000):
        reason = conftest["missing_prerequisite"]()
    assert quoted_in_troubleshooting(reason)


# --- generated sections ----------------------------------------------------------------------------------------


def test_configuration_reference_matches_the_models():
    generator = runpy.run_path(str(PROJECT_DIR / "scripts" / "config_reference.py"))
    reference = page(DOCS / "configuration.md")
    assert generator["reference"]() in reference
    assert generator["with_reference"](reference) == reference, "regenerate: python scripts/config_reference.py --write"


def test_policies_table_is_the_one_generated_from_the_pack():
    generator = runpy.run_path(str(PROJECT_DIR / "scripts" / "policies_reference.py"))
    policies_page = page(DOCS / "policies.md")
    assert generator["with_table"](policies_page) == policies_page, (
        "regenerate: python scripts/policies_reference.py --write"
    )


def topology():
    return runpy.run_path(str(PROJECT_DIR / "scripts" / "topology.py"))


def test_architecture_topology_is_the_one_drawn_from_its_stack_file():
    drawing = topology()
    architecture = page(DOCS / "architecture.md")
    diagram = drawing["flowchart"](site_config(drawing["PAGE_STACK"].removeprefix("Pulumi.").removesuffix(".yaml")))
    assert drawing["with_topology"](architecture, diagram) == architecture, (
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


def test_policies_page_lists_every_policy_of_the_pack_at_its_level():
    listed = re.findall(r"^\| `([a-z-]+)` \| (mandatory|advisory) \|", page(DOCS / "policies.md"), flags=re.MULTILINE)
    assert sorted(listed) == sorted((policy.name, policy.enforcement_level.value) for policy in POLICIES)


# --- links and commands between the pages ----------------------------------------------------------------------


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, a
    repeated heading suffixed -1, -2, …"""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", text), flags=re.MULTILINE):
        anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        suffix = 0
        while (candidate := anchor if suffix == 0 else f"{anchor}-{suffix}") in anchors:
            suffix += 1
        anchors.add(candidate)
    return anchors


def relative_links(path: Path) -> list[str]:
    targets = re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", page(path)))
    return [target for target in targets if not re.match(r"[a-z]+:", target)]


LINKS = sorted({(path, target) for path in PAGES for target in relative_links(path)})


def test_the_pages_link_one_another():
    linked = {(path.parent / target.partition("#")[0]).resolve() for path, target in LINKS}
    assert {path.resolve() for path in PAGES} - {README.resolve()} <= linked, "a page no other page links to"


@pytest.mark.parametrize(("source", "target"), LINKS, ids=[f"{path.name}->{target}" for path, target in LINKS])
def test_every_relative_link_resolves(source, target):
    file_part, _, anchor = target.partition("#")
    destination = (source.parent / file_part).resolve() if file_part else source
    assert destination.exists(), f"{source.name} links to a missing {file_part}"
    if anchor:
        assert anchor in heading_anchors(page(destination)), f"{destination.name} has no heading #{anchor}"


def make_targets() -> set[str]:
    rules = re.findall(r"^([A-Za-z][\w. -]*?):(?!=)", page(PROJECT_DIR / "Makefile"), flags=re.MULTILINE)
    return {target for rule in rules for target in rule.split()}


def quoted_make_commands(text: str) -> set[str]:
    """`make <target>` wherever a page quotes a command: inline code and fenced blocks."""
    code = [*re.findall(r"`([^`\n]+)`", FENCE.sub("", text)), *FENCE.findall(text)]
    return {target for snippet in code for target in re.findall(r"(?:^|[\s;&|(=])make ([a-z][\w-]*)", snippet)}


@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_every_make_command_quoted_is_a_makefile_target(path):
    assert quoted_make_commands(page(path)) <= make_targets()
