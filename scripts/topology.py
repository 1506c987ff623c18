#!/usr/bin/env python3
"""A Mermaid flowchart of a stack's site, drawn from its validated configuration: hosts, their roles,
the workspace network, and the ports each service publishes.

python scripts/topology.py STACK_FILE           print it (e.g. Pulumi.sim.yaml)
python scripts/topology.py --write STACK_FILE   replace docs/architecture.md's diagram, between its markers
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.config import HostConfig, SiteConfig
from components.config_loader import load_stack_file
from components.master_layout import SERVER_PORT

ARCHITECTURE_PAGE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
START, END = "<!-- topology:start -->\n", "<!-- topology:end -->"
# The diagram in docs/architecture.md is the one for this stack file.
PAGE_STACK = "Pulumi.sim.yaml"


def _capacity(host: HostConfig) -> str:
    return f"{host.ram_gb:g} GiB, {host.cpus} CPU"


def _master(site: SiteConfig, m: str) -> list[str]:
    master = site.master
    role = "master, Swarm manager" if site.network.mode == "overlay" else "master"
    web = f":{master.http_port}" + (f" / :{master.https_port} TLS" if site.https else "")
    registry = f":{site.registry.port}" + (" TLS, site CA" if site.registry.tls else " plain HTTP")
    lines = [
        f'  subgraph {m}["{master.name} {master.address}: {role}"]',
        f'    {m}_haproxy["HAProxy {web}"] --> {m}_server["Codenvy server {site.version}, internal :{SERVER_PORT}"]',
        f'    {m}_server --> {m}_postgres[("PostgreSQL, not published")]',
        f'    {m}_registry["Registry {registry}"]',
    ]
    if master.host_workspaces:
        lines.append(f'    {m}_ws["workspaces, {_capacity(master)}"]')
    return [*lines, "  end"]


def _node(node: HostConfig, n: str) -> list[str]:
    subgraph = f'  subgraph {n}["{node.name} {node.address}: workspace node"]'
    return [subgraph, f'    {n}_ws["workspaces, {_capacity(node)}"]', "  end"]


def flowchart(site: SiteConfig) -> str:
    # Mermaid ids by position: a host may be named like a Mermaid keyword (`end`) or hold a '-'.
    m, nodes = "h0", [(node, f"h{index}") for index, node in enumerate(site.nodes, start=1)]
    network = f"{site.network.mode} {site.workspace_network_name}"
    lines = ["```mermaid", "flowchart LR", f"  browsers([Browsers]) --> {m}_haproxy", *_master(site, m)]
    for node, n in nodes:
        lines += _node(node, n)
    workspace_ids = ([m] if site.master.host_workspaces else []) + [n for _, n in nodes]
    lines += [f'  {m}_server == "{network}" ==> {w}_ws' for w in workspace_ids]
    for _, n in nodes:
        lines += [f'  {n} -- "swarm join 2377/tcp" --> {m}', f'  {n} -- "pulls :{site.registry.port}" --> {m}_registry']
    return "\n".join([*lines, "```"]) + "\n"


def with_topology(page: str, diagram: str) -> str:
    before, _, rest = page.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}{diagram}{END}{after}"


def main(argv: list[str]) -> int:
    write = "--write" in argv
    files = [arg for arg in argv if arg != "--write"]
    if len(files) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    diagram = flowchart(load_stack_file(Path(files[0])))
    if write:
        ARCHITECTURE_PAGE.write_text(with_topology(ARCHITECTURE_PAGE.read_text(), diagram))
    else:
        print(diagram, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
