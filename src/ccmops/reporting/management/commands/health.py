"""`ccmops health --practice SLUG [--months 6] [--json]`: program health month over month, by party, with drift."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.table import Table

from ccmops.errors import InvalidInput
from ccmops.organizations.services import practice_by_ref
from ccmops.reporting.figures import FIGURE_LABELS, PERCENT_FIGURES
from ccmops.reporting.metrics import program_health


def _fmt(name: str, value) -> str:
    if value is None:
        return "—"
    return f"{round(100 * value)} %" if name in PERCENT_FIGURES else str(value)


class Command(BaseCommand):
    help = "Program health of a practice: the success factors month over month, by responsible party, and drift."

    def add_arguments(self, parser):
        parser.add_argument("--practice", required=True, help="practice slug or id")
        parser.add_argument("--months", type=int, default=6, help="calendar months ending with this one (2–24)")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, practice, months: int, as_json: bool, **options):
        if not 2 <= months <= 24:
            raise InvalidInput(f"--months: expected 2 to 24, got {months}")
        health = program_health(practice_by_ref(practice), months=months)
        if as_json:
            self.stdout.write(json.dumps(health.as_dict(), indent=2))
            return
        console = Console(file=self.stdout, width=160)
        table = Table(title=f"Program health — {health.practice.name}")
        table.add_column("Figure")
        for m in health.months:
            table.add_column(m.month + (" (so far)" if m.in_progress else ""), justify="right")
        table.add_row("Model", *[m.model.split(":")[0] for m in health.months])
        table.add_row("Enrolled", *[str(m.enrolled) for m in health.months])
        for name, label in FIGURE_LABELS.items():
            table.add_row(label, *[_fmt(name, m.figure(name)) for m in health.months])
        table.add_row(
            "Revenue captured / potential",
            *[
                f"${m.revenue_captured:,.0f} / ${m.revenue_potential:,.0f}" if m.revenue_captured is not None else "—"
                for m in health.months
            ],
        )
        console.print(table)
        for party in health.parties:
            owned = sorted({f for fs in party.functions_by_month.values() for f in fs})
            console.print(
                f"[bold]{party.organization.name}[/bold] ({party.organization.kind}) owned: {', '.join(owned)}"
            )
            for d in party.drift:
                console.print(f"  [red]DRIFT[/red] {d.describe()}")
        for d in health.drift:
            console.print(f"[red]DRIFT[/red] program: {d.describe()}")
        if not health.drift and not any(p.drift for p in health.parties):
            console.print("No drift detected.")
        if health.change:
            c = health.change
            console.print(f"Model change {c.effective_from}: {c.before} → {c.after}")
            for k, before in c.before_figures.items():
                console.print(f"  {FIGURE_LABELS[k]}: {_fmt(k, before)} → {_fmt(k, c.after_figures[k])}")
