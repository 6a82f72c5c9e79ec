"""`ccmops rules evaluate FILE|-` and `ccmops rules explain FILE|-`: the patient-month contract from the
shell. Pure: no database, no Django settings needed. Exit 2 on invalid input, with JSON-path errors."""

from __future__ import annotations

import argparse
import json
import sys

from ccmops.rules.contract import ContractError, decision_to_json, parse_patient_month
from ccmops.rules.engine import evaluate
from ccmops.rules.explain import explain


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ccmops rules", description="Evaluate Medicare care-management rules.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("evaluate", "print the decision JSON (ccmops.patient-month-decision/1)"),
        ("explain", "print the same decision for a person"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("file", help="patient-month JSON file, or - for standard input")
    args = parser.parse_args(argv)
    try:
        text = _read(args.file)
    except OSError as exc:
        print(f"ccmops rules: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        decision = evaluate(parse_patient_month(text))
    except ContractError as exc:
        where = "standard input" if args.file == "-" else args.file
        print(f"ccmops rules: {where} is not a valid patient-month:", file=sys.stderr)
        for path, message in exc.problems:
            print(f"  {path}: {message}", file=sys.stderr)
        return 2
    if args.command == "evaluate":
        json.dump(decision_to_json(decision), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(explain(decision))
    return 0
