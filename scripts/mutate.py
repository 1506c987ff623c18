#!/usr/bin/env python3
"""Mutation testing of components/ and policies/ with cosmic-ray: `make mutate [MODULES="a.py b.py"]`.

python scripts/mutate.py [MODULE ...] [--budget SECONDS] [--every N] [--keep DIR]

Each module is mutated in a copy of the project (never this tree: cosmic-ray rewrites the file it mutates).
The unit and policy lanes run once first under coverage (scripts/mutation_coverage.py), recording which tests
run each line; a mutant then runs only the tests that run the line it changed, stopping at the first failure,
and is killed when one fails. A line no test runs survives untested; a line run only while modules are
imported (a module-level constant) runs the tests that own its module (OWNERS), or both lanes. Mutations
inside annotations are skipped: with `from __future__ import annotations` (PEP 563) no
annotation is evaluated, so such a mutant cannot change behaviour. A line marked `# pragma: no mutate` is
skipped too; the comment on it says why its mutants are equivalent. `--every N` tests every Nth mutant of each
module (a sample, said so in the report). Past `--budget` seconds no new module starts and the run says it is
incomplete. The last line is the kill ratio over every mutant tested.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.mutation_coverage import BETWEEN_CONTEXT, IMPORT_CONTEXT

PROJECT_DIR = Path(__file__).resolve().parents[1]
LANES = ("tests/unit", "tests/scripts", "tests/policies")
# The tests that own a module (files or folders under tests/): what a mutant of a line that runs only at import
# (a module-level constant) must fail. A module not listed uses both lanes.
OWNERS: dict[str, tuple[str, ...]] = {
    "components/docker_daemon.py": ("tests/unit/docker_daemon", "tests/unit/docker_host", "tests/unit/golden"),
    "components/host_firewall.py": ("tests/unit/host_firewall", "tests/unit/config", "tests/unit/golden"),
    "components/load_balancer.py": ("tests/unit/load_balancer", "tests/unit/golden"),
    "components/registry.py": ("tests/unit/registry", "tests/unit/program"),
    "components/backups.py": ("tests/scripts/backup", "tests/unit/backups", "tests/unit/config"),
    "components/certificate_authority.py": ("tests/unit/certificate_authority", "tests/unit/placement"),
    "components/containers.py": ("tests/unit/real_engine/containers", "tests/unit/registry", "tests/unit/load_balancer",
                                 "tests/unit/workspace_network", "tests/unit/docker_host"),
    "components/server_config.py": ("tests/unit/server_config", "tests/unit/account_limits", "tests/unit/golden"),
    "components/config/site_rules.py": ("tests/unit/config",),
    "policies": ("tests/policies",),
}  # fmt: skip
# What `make mutate` covers when no module is named: modules four of the ten surviving mutants of the
# structure review sat in, smallest first (about 45 minutes on this 2-core machine, coverage included).
DEFAULT_MODULES = (
    "components/docker_daemon.py",
    "components/backups.py",
    "components/load_balancer.py",
    "components/host_firewall.py",
)
PRAGMA = "pragma: no mutate"
MUTATED = ("components", "policies")


@dataclass
class Tally:
    module: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    other: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.module}: mutants={self.mutants} killed={self.killed} survived={self.survived} "
            f"incompetent_or_timeout={self.other} seconds={self.seconds:.0f}"
        )


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the module's annotations are, as ((line, column), (end line, end column)) spans."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            annotations.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            annotations.append(node.returns)
        spans += [((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0)) for a in annotations]
    return spans


def skip_unmutatable(session: Path, root: Path) -> None:
    """Mark as skipped each mutant inside an annotation or on a `# pragma: no mutate` line."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        sources: dict[str, tuple[str, list]] = {}
        for item in list(db.pending_work_items):
            reasons = []
            for mutation in item.mutations:
                path = str(mutation.module_path)
                if path not in sources:
                    text = (root / path).read_text()
                    sources[path] = (text, annotation_spans(text))
                source, spans = sources[path]
                start = tuple(mutation.start_pos)
                if any(begin <= start < end for begin, end in spans):
                    reasons.append("an annotation (PEP 563: never evaluated)")
                elif PRAGMA in source.splitlines()[start[0] - 1]:
                    reasons.append("a line marked equivalent")
            if reasons:
                db.set_result(item.job_id, WorkResult(output=reasons[0], worker_outcome=WorkerOutcome.SKIPPED))


def sample(session: Path, every: int) -> None:
    """Keep every `every`th pending mutant, in the session's order; mark the rest skipped."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        ordered = sorted(
            db.pending_work_items,
            key=lambda i: [(str(m.module_path), m.start_pos, m.operator_name, m.occurrence) for m in i.mutations],
        )
        for index, item in enumerate(ordered):
            if index % every:
                db.set_result(item.job_id, WorkResult(output="not sampled", worker_outcome=WorkerOutcome.SKIPPED))


def copy_project(into: Path) -> Path:
    """The project's files as they are now (uncommitted changes included), with this tree's virtualenv; and
    beside it a pristine copy of components/ and policies/ that a mutant's file is compared with."""
    root = into / "project"
    ignore = shutil.ignore_patterns(".venv", ".git", ".sim", "__pycache__", "*.sqlite", ".pulumi-state")
    shutil.copytree(PROJECT_DIR, root, ignore=ignore)
    (root / ".venv").symlink_to(PROJECT_DIR / ".venv")
    for part in MUTATED:
        shutil.copytree(root / part, into / "pristine" / part, ignore=ignore)
    return root


def record_coverage(root: Path, work: Path) -> None:
    """Run both lanes once under the coverage plugin, and keep for each line of components/ and policies/ the
    tests that ran it (work/lines.json)."""
    import coverage

    data_file = work / "coverage.data"
    env = {**os.environ, "MUTATION_COVERAGE_FILE": str(data_file), "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *LANES]
    subprocess.run(["nice", "-n", "19", *command, "-p", "scripts.mutation_coverage"], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    lines = {}
    for measured in data.measured_files():
        if Path(measured).is_relative_to(root):
            by_line = data.contexts_by_lineno(measured)
            lines[str(Path(measured).relative_to(root))] = {str(n): sorted(set(c)) for n, c in by_line.items()}
    (work / "lines.json").write_text(json.dumps(lines))


def sources_fingerprint(root: Path) -> str:
    """What the recorded coverage holds for: every file of the code and the tests (a kept map of other
    sources would send mutants to the wrong tests, or to none)."""
    digest = hashlib.sha256()
    for path in sorted(p for part in (*MUTATED, "tests") for p in (root / part).rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def changed_lines(work: Path, root: Path, module: str) -> dict[str, set[int]]:
    """The lines of the pristine copy that differ in the project (the mutant being tested), by file."""
    changed: dict[str, set[int]] = {}
    originals = [work / "pristine" / module] if module.endswith(".py") else (work / "pristine" / module).rglob("*.py")
    for original in originals:
        path = str(original.relative_to(work / "pristine"))
        before, after = original.read_text().splitlines(), (root / path).read_text().splitlines()
        for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
            if tag != "equal":
                changed.setdefault(path, set()).update(range(i1 + 1, max(i2, i1 + 1) + 1))
    return changed


def tests_for_mutant(work: Path, root: Path, module: str) -> list[str]:
    """What the mutant now on disk must fail: the tests that ran its lines; for a line run only at import, the
    module's owners; none for a line no test ran."""
    lines = json.loads((work / "lines.json").read_text())
    selected: set[str] = set()
    for path, numbers in changed_lines(work, root, module).items():
        for number in numbers:
            contexts = set(lines.get(path, {}).get(str(number), ()))
            tests = contexts - {IMPORT_CONTEXT, BETWEEN_CONTEXT, ""}
            selected |= tests or (set(OWNERS.get(module, LANES)) if contexts else set())
    return sorted(selected)


def run_mutant(module: str, work: Path) -> int:
    """cosmic-ray's test command: the tests that ran the mutant's lines, stopping at the first failure; if they
    pass, the whole files they are in (a test module's cached evaluation is recorded under the first test that
    made it, so a test that only reads it is found by its file)."""
    root = Path.cwd()
    tests = tests_for_mutant(work, root, module)
    if not tests:
        return 0
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts="]
    files = sorted({test.split("::", 1)[0] for test in tests})
    for selection in [tests] if files == tests else [tests, files]:
        status = subprocess.run([*command, *selection], cwd=root, capture_output=True).returncode
        # Usage error or nothing collected: a node id pytest cannot find again (a parameter id spelled
        # another way), which its file covers.
        if status not in (pytest.ExitCode.OK, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
            return status
    return 0


def config_for(module: str, work: Path, timeout: float) -> str:
    command = [sys.executable, "scripts/mutate.py", "--run-mutant", module, "--work", str(work)]
    return "\n".join([
        "[cosmic-ray]",
        f"module-path = {json.dumps(module)}",
        f"timeout = {timeout}",
        "excluded-modules = []",
        f"test-command = {json.dumps(' '.join(command))}",
        "",
        "[cosmic-ray.distributor]",
        'name = "local"',
        "",
    ])  # fmt: skip


def cosmic_ray(*args: str, cwd: Path) -> None:
    tool = Path(sys.executable).parent / "cosmic-ray"
    subprocess.run(["nice", "-n", "19", str(tool), *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def tally(module: str, session: Path, seconds: float) -> tuple[Tally, list[str]]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome

    result, survivors = Tally(module, seconds=seconds), []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, outcome in db.completed_work_items:
            if outcome.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            result.mutants += 1
            kind = outcome.test_outcome.value if outcome.test_outcome else outcome.worker_outcome.value
            if kind == "killed":
                result.killed += 1
            elif kind == "survived":
                result.survived += 1
                (mutation,) = item.mutations
                survivors.append(
                    f"  survived: {mutation.module_path}:{mutation.start_pos[0]} {mutation.operator_name} "
                    f"#{mutation.occurrence}"
                )
            else:
                result.other += 1
    return result, survivors


def run(modules: list[str], budget: float, every: int, keep: Path | None) -> int:
    started, tallies, skipped = time.monotonic(), [], []
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        work = keep or Path(scratch)
        shutil.rmtree(work / "project", ignore_errors=True)
        shutil.rmtree(work / "pristine", ignore_errors=True)
        root = copy_project(work)
        fingerprint = sources_fingerprint(root)
        recorded = work / "fingerprint"
        if not (work / "lines.json").exists() or not recorded.exists() or recorded.read_text() != fingerprint:
            record_coverage(root, work)
            recorded.write_text(fingerprint)
            print(f"coverage of both lanes recorded in {time.monotonic() - started:.0f} s", flush=True)
        for module in modules:
            if time.monotonic() - started > budget:
                skipped.append(module)
                continue
            module_start = time.monotonic()
            slug = module.replace("/", "_")
            config, session = work / f"{slug}.toml", work / f"{slug}.sqlite"
            # cosmic-ray counts a timeout as a kill: the bound is far above any lane run.
            config.write_text(config_for(module, work, timeout=1800.0))
            session.unlink(missing_ok=True)
            cosmic_ray("init", str(config), str(session), cwd=root)
            skip_unmutatable(session, root)
            if every > 1:
                sample(session, every)
            cosmic_ray("exec", str(config), str(session), cwd=root)
            result, survivors = tally(module, session, time.monotonic() - module_start)
            tallies.append(result)
            print(result.line(), *survivors, sep="\n", flush=True)
    total = Counter()
    for result in tallies:
        total.update({"mutants": result.mutants, "killed": result.killed, "survived": result.survived})
    ratio = total["killed"] / total["mutants"] if total["mutants"] else 0.0
    if skipped:
        print(f"incomplete: the budget ({budget:.0f} s) ran out before {', '.join(skipped)}")
    sampled = f" (every {every}th mutant)" if every > 1 else ""
    print(
        f"kill ratio {ratio:.1%}: {total['killed']} of {total['mutants']} mutants killed{sampled}, "
        f"{total['survived']} survived, {len(tallies)} modules, {time.monotonic() - started:.0f} s"
    )
    return 0 if not skipped else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="files or folders under components/ and policies/")
    parser.add_argument("--budget", type=float, default=float(os.environ.get("MUTATE_BUDGET", 3600)))
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the copy, the coverage and the sessions in this directory")
    parser.add_argument("--run-mutant", metavar="MODULE", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_mutant:
        return run_mutant(args.run_mutant, args.work)
    modules = args.modules or list(DEFAULT_MODULES)
    outside = [m for m in modules if not (PROJECT_DIR / m).exists() or Path(m).parts[0] not in MUTATED]
    if outside:
        parser.error(f"not a file or folder under {' or '.join(MUTATED)}: {', '.join(outside)}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    return run(modules, args.budget, args.every, args.keep.resolve() if args.keep else None)


if __name__ == "__main__":
    sys.exit(main())
