#!/usr/bin/env python3
"""Mutation testing of components/ and policies/ with cosmic-ray: `make mutate [MODULES="a.py b.py"]`.

python scripts/mutate.py [MODULE ...] [--budget SECONDS] [--every N] [--keep DIR]

With no module named, all of components/ and policies/ are mutated, a sample of about one mutant in
DEFAULT_EVERY (`--every 1` tests them all, many hours here); a named file or folder is tested whole unless
`--every` says. Each file is its own cosmic-ray session, mutated in a copy of the project (never this tree:
cosmic-ray rewrites the file it mutates). The unit and policy lanes run once first under coverage
(scripts/mutation_coverage.py), recording which tests run each line; a mutant then runs only the tests that run
the line it changed, stopping at the first failure, and is killed when one fails. A line run only while modules
are imported (a module-level constant) runs the tests that own its module (`owners`) and those that ran any of
its lines, or all the lanes; a line no test runs in the lanes' process runs its module's owners (a script its
tests run as a command), or survives untested. Mutations inside annotations are skipped: with `from __future__
import annotations` (PEP 563) no annotation is evaluated, so such a mutant cannot change behaviour. A line
marked `# pragma: no mutate` is skipped too; the comment on it says why its mutants are equivalent.
`--every N` tests about one mutant in N, chosen by a hash of its file, its line's text and its place in the
line: the same mutants on every run, whichever modules are named (a sample, said so in the report). Past
`--budget` seconds no new module starts and the run says it is incomplete. The last line is the kill ratio over
every mutant tested, with the count skipped as equivalent and the seconds a mutant took.
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
# (a module-level constant) must fail. A path that does not exist is left out, so the map survives tests being
# moved; a module's own folder under the new layout (tests/unit/<module>/, tests/unit/config/ for
# components/config/) is added when it exists (owner_folder); a module with no owner on disk uses all the lanes.
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
    # The configuration reference and Pulumi.yaml's declarations are generated from the models' fields.
    "components/config": ("tests/unit/config", "tests/unit/project/test_docs.py",
                          "tests/unit/project/test_project_file.py"),
    # Its tests run it as a command too, where coverage does not follow it.
    "components/resource_api.py": ("tests/unit/resource_api",),
    # docs/policies.md's table is generated from the pack's descriptions.
    "policies": ("tests/policies", "tests/unit/project/test_docs.py"),
}  # fmt: skip
# What `make mutate` covers when no module is named: all of the program and the policy pack, each file its own
# session, about one mutant in DEFAULT_EVERY (of about 4,000 once annotations are left out; some 20 s a mutant
# here, so about 35 minutes on this shared 2-core machine, coverage included). `--every 1` tests them all.
DEFAULT_MODULES = ("components", "policies")
DEFAULT_EVERY = 40
PRAGMA = "pragma: no mutate"
EQUIVALENT = "a line marked equivalent"
# Coverage contexts that name no test.
NOT_TESTS = frozenset({IMPORT_CONTEXT, BETWEEN_CONTEXT, ""})
MUTATED = ("components", "policies")


@dataclass
class Tally:
    module: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    other: int = 0
    equivalent: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.module}: mutants={self.mutants} killed={self.killed} survived={self.survived} "
            f"incompetent_or_timeout={self.other} equivalent_skipped={self.equivalent} seconds={self.seconds:.0f}"
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
                    reasons.append(EQUIVALENT)
            if reasons:
                db.set_result(item.job_id, WorkResult(output=reasons[0], worker_outcome=WorkerOutcome.SKIPPED))


def sample_key(path: str, source: str, mutation) -> str:
    """What names a mutant across runs: its file, the text of its line (without a comment, so marking the line
    equivalent keeps it in the sample), its column, operator and occurrence; not its line number, which code
    added above it would change."""
    text = source.splitlines()[mutation.start_pos[0] - 1].split("#", 1)[0].strip()
    return "\0".join((path, text, str(mutation.start_pos[1]), mutation.operator_name, str(mutation.occurrence)))


def sample(session: Path, every: int, root: Path) -> None:
    """Keep about one mutant in `every`, chosen by a hash of what names it (sample_key), so the same mutants
    are chosen on every run, whichever modules are named; mark the rest skipped."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        sources: dict[str, str] = {}
        for item in list(db.pending_work_items):
            keys = []
            for mutation in item.mutations:
                path = str(mutation.module_path)
                source = sources.setdefault(path, (root / path).read_text())
                keys.append(sample_key(path, source, mutation))
            if int(hashlib.sha256("\n".join(keys).encode()).hexdigest(), 16) % every:
                db.set_result(item.job_id, WorkResult(output="not sampled", worker_outcome=WorkerOutcome.SKIPPED))


def expand(modules: list[str], root: Path) -> list[str]:
    """Each named file, and each file under a named folder, in order: one cosmic-ray session each, so each
    module's figures and survivors are printed as it finishes."""
    files: list[str] = []
    for module in modules:
        path = root / module
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        files += [str(f.relative_to(root)) for f in found if str(f.relative_to(root)) not in files]
    return files


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
    """Run the lanes once under the coverage plugin, and keep for each line of components/ and policies/ the
    tests that ran it (work/lines.json)."""
    import coverage

    data_file = work / "coverage.data"
    env = {**os.environ, "MUTATION_COVERAGE_FILE": str(data_file), "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *LANES]
    lanes = subprocess.run(["nice", "-n", "19", *command, "-p", "scripts.mutation_coverage"], cwd=root, env=env,
                           capture_output=True, text=True)  # fmt: skip
    if lanes.returncode:
        # A mutant is killed by a failing test: with a lane already failing, every kill would be a false one.
        sys.exit(f"the lanes fail before any mutant (exit {lanes.returncode}):\n{lanes.stdout[-4000:]}")
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


def owner_folder(path: str) -> str:
    """The folder a module's unit tests sit in under the layout by component: tests/unit/<module>/ for
    components/<module>.py and for a package's files (components/config/x.py: tests/unit/config/)."""
    parts = Path(path).parts
    return f"tests/unit/{Path(parts[1]).stem}" if parts[0] == "components" and len(parts) > 1 else ""


def owners(path: str, root: Path) -> list[str]:
    """The tests on disk that own a module or the folder it is in (OWNERS, then owner_folder)."""
    named = [owned for key, paths in OWNERS.items() if path == key or path.startswith(f"{key}/") for owned in paths]
    return [p for p in dict.fromkeys([*named, owner_folder(path)]) if p and (root / p).exists()]


def module_tests(by_line: dict[str, list[str]]) -> set[str]:
    """The tests that ran any line of a module: those that use what its module-level lines define there."""
    return {context for contexts in by_line.values() for context in contexts} - NOT_TESTS


def tests_for_mutant(work: Path, root: Path, module: str) -> list[str]:
    """What the mutant now on disk must fail: the tests that ran its lines; for a line run only at import, the
    module's owners and the tests that ran any of its lines (or all the lanes if there are none); for a line no
    test ran in the lanes' process, the module's owners (a script the tests run as a command), else none."""
    lines = json.loads((work / "lines.json").read_text())
    selected: set[str] = set()
    for path, numbers in changed_lines(work, root, module).items():
        for number in numbers:
            contexts = set(lines.get(path, {}).get(str(number), ())) or set(owners(path, root))
            if contexts and not contexts - NOT_TESTS:
                contexts = {*owners(path, root), *module_tests(lines.get(path, {}))} or set(LANES)
            selected |= contexts - NOT_TESTS
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


def mutated_line(diff: str | None) -> str:
    """The line as the mutant has it (from cosmic-ray's diff), for reading the survivors."""
    lines = (diff or "").splitlines()
    return " / ".join(line[1:].strip() for line in lines if line.startswith("+") and not line.startswith("+++"))


def tally(module: str, session: Path, seconds: float) -> tuple[Tally, list[str]]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome

    result, survivors = Tally(module, seconds=seconds), []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, outcome in db.completed_work_items:
            if outcome.worker_outcome == WorkerOutcome.SKIPPED:
                result.equivalent += outcome.output == EQUIVALENT
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
                    f"#{mutation.occurrence}: {mutated_line(outcome.diff)}"
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
            print(f"coverage of the lanes recorded in {time.monotonic() - started:.0f} s", flush=True)
        for module in expand(modules, root):
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
            if every > 1:
                sample(session, every, root)
            skip_unmutatable(session, root)
            cosmic_ray("exec", str(config), str(session), cwd=root)
            result, survivors = tally(module, session, time.monotonic() - module_start)
            tallies.append(result)
            print(result.line(), *survivors, sep="\n", flush=True)
    total = Counter()
    for result in tallies:
        total.update({"mutants": result.mutants, "killed": result.killed, "survived": result.survived,
                      "equivalent": result.equivalent, "seconds": result.seconds})  # fmt: skip
    ratio = total["killed"] / total["mutants"] if total["mutants"] else 0.0
    if skipped:
        print(f"incomplete: the budget ({budget:.0f} s) ran out before {', '.join(skipped)}")
    sampled = f" (a sample: about one mutant in {every}; --every 1 tests all)" if every > 1 else ""
    per_mutant = total["seconds"] / total["mutants"] if total["mutants"] else 0.0
    print(
        f"kill ratio {ratio:.1%}: {total['killed']} of {total['mutants']} mutants killed{sampled}, "
        f"{total['survived']} survived, {total['equivalent']} skipped as marked equivalent, {len(tallies)} modules, "
        f"{time.monotonic() - started:.0f} s ({per_mutant:.1f} s a mutant)"
    )
    return 0 if not skipped else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="files or folders under components/ and policies/")
    parser.add_argument("--budget", type=float, default=float(os.environ.get("MUTATE_BUDGET", "inf")))
    parser.add_argument("--every", type=int, help=f"default: {DEFAULT_EVERY} with no module named, else 1")
    parser.add_argument("--keep", type=Path, help="keep the copy, the coverage and the sessions in this directory")
    parser.add_argument("--run-mutant", metavar="MODULE", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_mutant:
        return run_mutant(args.run_mutant, args.work)
    modules = args.modules or list(DEFAULT_MODULES)
    every = args.every or (1 if args.modules else DEFAULT_EVERY)
    outside = [m for m in modules if not (PROJECT_DIR / m).exists() or Path(m).parts[0] not in MUTATED]
    if outside:
        parser.error(f"not a file or folder under {' or '.join(MUTATED)}: {', '.join(outside)}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    return run(modules, args.budget, every, args.keep.resolve() if args.keep else None)


if __name__ == "__main__":
    sys.exit(main())
