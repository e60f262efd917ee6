"""``python -m reports {build,diff,baseline,power,check}``: report, regression check, power table.

build LEDGER -o report.html [--power POWER.json]    self-contained HTML report
diff BASELINE LEDGER [--match decisive|all]         exit 1 when a claim regressed (reports.diff)
baseline LEDGER [-o reports/baseline.json]          deliberately refresh the committed baseline
power [--seeds 20] [--claims PATTERN] [--budget quick] [--jobs 1] [-o reports/power.json]
check REPORT.html [--ledger LEDGER] [--screenshots DIR]   open in headless Chromium, exit 1 on problems
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from engine.budget import BUDGETS
from engine.ledger import read_ledger
from estimators.device import DEVICE_CHOICES
from estimators.ntk import SAMPLERS
from reports.evidence import wanted_verdict

DEFAULT_BASELINE = "reports/baseline.json"
DEFAULT_POWER = "reports/power.json"


def read_power(path: str) -> dict:
    with open(path) as stream:
        data = json.load(stream)
    if not isinstance(data, dict) or "claims" not in data or "run" not in data or "seeds" not in data["run"]:
        raise ValueError(f"{path} is not a power table (run `python -m reports power` to make one)")
    return data


def cmd_build(args: argparse.Namespace) -> int:
    from reports.html import write_report

    power = read_power(args.power) if args.power else None
    path = write_report(args.output, read_ledger(args.ledger), power)
    print(f"report: {path.resolve()}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from reports.diff import compare_ledgers, format_table, run_differences

    baseline, current = read_ledger(args.baseline), read_ledger(args.ledger)
    rows = compare_ledgers(baseline, current, args.match)
    print(format_table(rows))
    notes = run_differences(baseline, current)
    if notes:
        print("run settings differ from the baseline's: " + "; ".join(notes))
    failed = [r.claim_id for r in rows if r.failed]
    if failed:
        print(f"\n{len(failed)} claim(s) regressed against {args.baseline}: {', '.join(failed)}")
        print(f"(a deliberate change? refresh the baseline: python -m reports baseline {args.ledger})")
        return 1
    print(f"\nno regression against {args.baseline} ({len(rows)} claims)")
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    ledger = read_ledger(args.ledger)
    wrong = [f"{c['id']} ({c['verdict']})" for c in ledger["claims"] if c["verdict"] != wanted_verdict(c)]
    if wrong and not args.force:
        print(f"refusing to baseline a ledger with claims not as required: {', '.join(wrong)} (--force to insist)")
        return 1
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.ledger, args.output)
    print(f"baseline: {args.output} <- {args.ledger} ({len(ledger['claims'])} claims); commit it")
    return 0


def cmd_power(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from reports.power import format_table, power_study, select_claims

    claim_ids = select_claims(args.claims)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    with tqdm(total=len(claim_ids) * len(seeds), desc="power", unit="run") as bar:
        power = power_study(
            claim_ids,
            seeds,
            args.budget,
            args.device,
            args.sampler,
            args.jobs,
            args.threads,
            args.target,
            progress=bar.update,
        )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(power, indent=1) + "\n")
    print(format_table(power))
    print(f"power table: {args.output} ({power['run']['seconds']} s)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from reports.browser import check_page

    page = check_page(args.report, args.screenshots)
    expected = [c["id"] for c in read_ledger(args.ledger)["claims"]] if args.ledger else []
    missing = sorted(set(expected) - set(page.visible_claims))
    print(f"title: {page.title!r}; {len(page.visible_claims)} claims shown; screenshots: {page.screenshots}")
    problems = [*page.console_errors, *(f"external request: {u}" for u in page.external_requests)]
    problems += [f"claim not shown: {m}" for m in missing]
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


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
    power.add_argument("--seeds", type=int, default=20, help="number of master seeds")
    power.add_argument("--first-seed", type=int, default=1)
    power.add_argument("--claims", help="glob (with *?[) or substring of claim ids; default all")
    power.add_argument("--budget", choices=BUDGETS, default="quick")
    power.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    power.add_argument("--sampler", choices=SAMPLERS, default="auto")
    power.add_argument("--jobs", type=int, default=1, help="worker processes")
    power.add_argument("--threads", type=int, help="torch threads per job (default: cores / jobs)")
    power.add_argument("--target", type=float, default=0.95, help="power target")
    power.add_argument("-o", "--output", default=DEFAULT_POWER)
    power.set_defaults(run=cmd_power)
    check = sub.add_parser("check", help="open a report in headless Chromium")
    check.add_argument("report")
    check.add_argument("--ledger", help="require every claim of this ledger to be shown")
    check.add_argument("--screenshots", default="reports/artifacts")
    check.set_defaults(run=cmd_check)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "seeds", 1) < 1:
        parser().error(f"--seeds must be >= 1, got {args.seeds}")
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
