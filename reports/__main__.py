"""``python -m reports {build,diff,baseline,power,check}``: report, regression check, power table.

build LEDGER -o report.html [--power POWER.json]    self-contained HTML report
diff BASELINE LEDGER [--match decisive|all]         exit 1 when a claim regressed (reports.diff)
baseline LEDGER [-o reports/baseline.json]          deliberately refresh the committed baseline
power [--seeds 20 | --seed-list 1,5-9] [--claims PATTERNS] [--budget quick] [--scheduler tcp://HOST:PORT | --jobs N]
      [--threads N] [--store PATH] [-o reports/power.json]   verdict rates over master seeds, on Dask
check REPORT.html [--ledger LEDGER] [--screenshots DIR]   open in headless Chromium, exit 1 on problems

Exit codes: 0 fine, 1 a finding (regression, refused baseline, page problems), 2 bad input (unknown
command or option, missing or malformed file, unreachable scheduler, a cell store of other settings)
with a one-line message and no traceback; ``power`` exits 1 when a cell cannot be computed on the
cluster and 130 on Ctrl-C (finished cells stay in the store: rerun the command to resume).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from engine.budget import BUDGETS
from engine.options import DEVICE_CHOICES, SAMPLERS
from reports.evidence import load_ledger, wanted_verdict

DEFAULT_BASELINE = "reports/baseline.json"
DEFAULT_POWER = "reports/power.json"
DEFAULT_REGISTRY = "engine.registry:all_claims"
# The settings of CI's run (`pytest -n auto` on a CPU machine): a baseline made otherwise would not match.
CI_RUN = {"budget": "quick", "seed": 0, "sampler": "auto", "device": "cpu"}
REFRESH_COMMAND = "pytest -n auto && python -m reports baseline reports/ledger.json"


def read_power(path: str) -> dict:
    try:
        with open(path) as stream:
            data = json.load(stream)
    except FileNotFoundError:
        raise ValueError(f"no such power table file: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read power table {path}: {error}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("claims"), list)
        or not isinstance(data.get("run"), dict)
        or "seeds" not in data["run"]
    ):
        raise ValueError(f"{path} is not a power table (run `python -m reports power` to make one)")
    return data


def cmd_build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from reports.html import write_report

    ledger = load_ledger(args.ledger)
    power = read_power(args.power) if args.power else None

    def progress(records: list) -> tqdm:
        return tqdm(records, desc="report", unit="claim", leave=False, disable=None)  # no bar without a terminal

    path = write_report(args.output, ledger, power, progress=progress)
    print(f"report: {path.resolve()} ({len(ledger['claims'])} claims)")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from reports.diff import NOT_COMPARABLE, compare_ledgers, format_table, run_differences

    baseline, current = load_ledger(args.baseline), load_ledger(args.ledger)
    rows = compare_ledgers(baseline, current, args.match)
    print(format_table(rows))
    notes = run_differences(baseline, current)
    if notes:
        print("\nrun settings differ from the baseline's: " + "; ".join(notes))
    new = [r.claim_id for r in rows if r.status.startswith("new")]
    apart = [r.claim_id for r in rows if r.check.startswith(NOT_COMPARABLE)]
    failed = [r.claim_id for r in rows if r.failed]
    print(
        f"\n{len(rows)} claims: {len(failed)} regressed, {len(new)} new (not in the baseline), "
        f"{len(apart)} with estimates not comparable to the baseline's"
    )
    if new or apart:
        print(f"(new claims or other draws: refresh the baseline deliberately: {REFRESH_COMMAND})")
    if failed:
        print(f"{len(failed)} claim(s) regressed against {args.baseline}: {', '.join(failed)}")
        print(f"(a deliberate change? refresh the baseline: {REFRESH_COMMAND})")
        return 1
    print(f"no regression against {args.baseline}")
    return 0


def baseline_problems(ledger: dict) -> list[str]:
    """Why ``ledger`` should not become the baseline: claims not as required, claims missing from it or
    not registered (a partial or stale run), run settings other than CI's. Empty when it is fine."""
    from engine.registry import all_claims

    problems = [
        f"{c['id']} is {c['verdict']}, required {wanted_verdict(c)}"
        for c in ledger["claims"]
        if c["verdict"] != wanted_verdict(c)
    ]
    registered, present = {c.id for c in all_claims()}, {c["id"] for c in ledger["claims"]}
    if registered - present:
        problems.append(f"registered claims missing (a partial run?): {', '.join(sorted(registered - present))}")
    if present - registered:
        problems.append(f"claims not registered any more (a stale ledger?): {', '.join(sorted(present - registered))}")
    run = ledger["run"]
    problems += [
        f"run {key} is {run.get(key)!r}, CI's is {value!r}" for key, value in CI_RUN.items() if run.get(key) != value
    ]
    return problems


def cmd_baseline(args: argparse.Namespace) -> int:
    ledger = load_ledger(args.ledger)
    source, target = Path(args.ledger).resolve(), Path(args.output).resolve()
    if source == target:
        raise ValueError(f"{args.ledger} is already the baseline file; give the ledger of a fresh run")
    problems = baseline_problems(ledger)
    if problems and not args.force:
        print(f"refusing to make {args.ledger} the baseline ({len(problems)} problem(s); --force to insist):")
        for problem in problems:
            print(f"  {problem}")
        return 1
    for problem in problems:
        print(f"warning (forced): {problem}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    print(f"baseline: {args.output} <- {args.ledger} ({len(ledger['claims'])} claims); review and commit it")
    return 0


def parse_seed_list(text: str) -> list[int]:
    """``"1,2,5-8"`` -> [1, 2, 5, 6, 7, 8]: comma-separated seeds and inclusive ranges, each once."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        try:
            span = range(int(low), int(high) + 1) if dash else [int(part)]
        except ValueError:
            raise ValueError(f"--seed-list {text!r}: {part!r} is not a seed or a range such as 5-9") from None
        if dash and not span:
            raise ValueError(f"--seed-list {text!r}: range {part!r} is empty")
        seeds += span
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"--seed-list {text!r} repeats seed(s) {repeated}")
    return seeds


def cmd_power(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engine.cluster import available_cores
    from reports.cells import store_path
    from reports.power import StudyFailed, format_table, power_study, select_claims

    claim_ids = select_claims(args.claims, args.registry)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if args.seed_list:
        seeds = parse_seed_list(args.seed_list)
    output = Path(args.output)
    if output.is_dir():
        raise ValueError(f"-o {output} is a directory; give a file name such as {output / 'power.json'}")
    store = Path(args.store) if args.store else store_path(output)
    if store.resolve() == output.resolve():
        raise ValueError(f"--store {store} is the power table itself; give another file")
    where = f"scheduler {args.scheduler}"
    if not args.scheduler:
        where = f"LocalCluster of {args.jobs or available_cores()} worker(s)"
    print(f"power: {len(claim_ids)} claims x {len(seeds)} seeds on {where}, budget {args.budget}; cells: {store}")
    bars: list[tqdm] = []

    def progress(cells: int) -> None:  # the bar starts once the arguments are checked and the cluster is up
        if not bars:
            bars.append(tqdm(total=len(claim_ids) * len(seeds), desc="power", unit="cell", dynamic_ncols=True))
        bars[0].update(cells)

    def close_bar() -> None:  # before an error line, so that the line is the last one on the terminal
        for bar in bars:
            bar.close()

    try:
        power = power_study(
            claim_ids, seeds, args.budget, args.device, args.sampler, args.jobs, args.threads, args.target,
            progress=progress, registry=args.registry, scheduler=args.scheduler, store=store,
            connect_timeout=args.connect_timeout,
        )  # fmt: skip
    except StudyFailed as error:
        close_bar()
        print(f"python -m reports power: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        close_bar()
        print(f"python -m reports power: interrupted; the finished cells are in {store}", file=sys.stderr)
        return 130
    finally:
        close_bar()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(power, indent=1) + "\n")
    print(format_table(power))
    run = power["run"]
    print(f"power table: {args.output} ({run['seconds']} s; {run['cells'] - run['cells_from_store']} cells computed, "
          f"{run['cells_from_store']} from {store})")  # fmt: skip
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from reports.browser import check_page

    expected = [c["id"] for c in load_ledger(args.ledger)["claims"]] if args.ledger else []
    page = check_page(args.report, args.screenshots)
    missing = sorted(set(expected) - set(page.visible_claims))
    print(f"title: {page.title!r}; {len(page.visible_claims)} claims shown")
    for shot in page.screenshots:
        print(f"screenshot: {shot.resolve()}")
    problems = [*page.console_errors, *(f"external request: {u}" for u in page.external_requests)]
    problems += [f"claim not shown: {m}" for m in missing]
    for problem in problems:
        print(f"  {problem}")
    if problems:
        print(f"{len(problems)} problem(s) in {args.report}")
        return 1
    print(
        f"{args.report}: loads without console errors or network requests"
        + (", every ledger claim shown" if expected else "")
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m reports", description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="HTML report from a ledger")
    build.add_argument("ledger")
    build.add_argument("-o", "--output", default="reports/report.html")
    build.add_argument("--power", help="power table JSON from `python -m reports power`")
    build.set_defaults(run=cmd_build)
    diff = sub.add_parser("diff", help="regression check against a baseline ledger")
    diff.add_argument("baseline")
    diff.add_argument("ledger")
    diff.add_argument("--match", choices=("decisive", "all"), default="decisive")
    diff.set_defaults(run=cmd_diff)
    baseline = sub.add_parser("baseline", help="make LEDGER the committed baseline")
    baseline.add_argument("ledger")
    baseline.add_argument("-o", "--output", default=DEFAULT_BASELINE)
    baseline.add_argument("--force", action="store_true", help="baseline even claims not as required")
    baseline.set_defaults(run=cmd_baseline)
    power = sub.add_parser("power", help="verdict rates over many master seeds")
    seeds = power.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int, metavar="N", default=20, help="number of master seeds (from --first-seed)")
    seeds.add_argument("--seed-list", metavar="LIST", help="master seeds and ranges, e.g. 1,2,5-9 (instead of --seeds)")
    power.add_argument("--first-seed", type=int, default=1, metavar="S")
    power.add_argument(
        "--claims", help="comma-separated globs (with *?[) or substrings of claim ids; default all registered claims"
    )
    power.add_argument("--budget", choices=BUDGETS, default="quick")
    power.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    power.add_argument("--sampler", choices=SAMPLERS, default="auto")
    where = power.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="a running Dask scheduler, tcp://HOST:PORT (default: a LocalCluster)",
    )
    where.add_argument("--jobs", type=int, metavar="N", help="LocalCluster worker processes (default: every core)")
    power.add_argument(
        "--threads", type=int, metavar="N", help="torch threads per cell (default: cores / jobs; 1 on --scheduler)"
    )
    power.add_argument(
        "--connect-timeout", type=float, default=30.0, metavar="SECONDS", help="seconds to reach --scheduler"
    )
    power.add_argument(
        "--store", metavar="PATH", help="finished cells, JSONL, resumed from (default: beside -o, *.cells.jsonl)"
    )
    power.add_argument("--target", type=float, default=0.95, help="power target")
    power.add_argument("--registry", default=DEFAULT_REGISTRY, help="module:function returning the claims")
    power.add_argument("-o", "--output", default=DEFAULT_POWER)
    power.set_defaults(run=cmd_power)
    check = sub.add_parser("check", help="open a report in headless Chromium")
    check.add_argument("report")
    check.add_argument("--ledger", help="require every claim of this ledger to be shown")
    check.add_argument("--screenshots", default="reports/artifacts")
    check.set_defaults(run=cmd_check)
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)  # unknown command or option: usage and exit code 2 (argparse)
    if getattr(args, "seeds", 1) < 1:
        top.error(f"--seeds must be >= 1, got {args.seeds}")
    for option in ("jobs", "threads"):
        if getattr(args, option, None) is not None and getattr(args, option) < 1:
            top.error(f"--{option} must be >= 1, got {getattr(args, option)}")
    if getattr(args, "connect_timeout", 1) <= 0:
        top.error(f"--connect-timeout must be > 0, got {args.connect_timeout}")
    if getattr(args, "first_seed", 0) < 0:
        top.error(f"--first-seed must be >= 0, got {args.first_seed}")
    try:
        return args.run(args)
    except (ValueError, OSError) as error:
        print(f"python -m reports {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
