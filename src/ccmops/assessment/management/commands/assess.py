"""`ccmops assess FILE [--practice SLUG]`: the model-fit assessment, questionnaire JSON in, recommendation JSON out.

With --practice the practice's measured program-health figures calibrate the questionnaire (unless it already has
a `measured` block) and the run is kept in the practice's assessment history.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from ccmops.assessment import services
from ccmops.assessment.fit import assess
from ccmops.assessment.questionnaire import QuestionnaireError, parse_questionnaire
from ccmops.errors import InvalidInput
from ccmops.organizations.services import practice_by_ref


class Command(BaseCommand):
    help = "Assess in-house, managed and hybrid models for a practice from a questionnaire (JSON)."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="questionnaire JSON (docs/operating-models.md, Model-fit assessment); - for standard input"
        )
        parser.add_argument("--practice", help="calibrate with this practice's measured figures and keep the run")

    def handle(self, *args, file: str, practice: str | None, **options):

        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"{file}: cannot read ({exc.strerror})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{file}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        if practice:
            org = practice_by_ref(practice)
            if isinstance(data, dict) and "measured" not in data:
                measured = services.measured_figures(org).get("measured")
                if measured:
                    data["measured"] = measured
            record = services.run(
                practice=org, questionnaire=data, by=None, source="measured" if "measured" in data else "questionnaire"
            )
            result = {"assessment_id": record.id, **record.result}
        else:
            try:
                result = assess(parse_questionnaire(data)).as_dict()
            except QuestionnaireError as exc:
                raise InvalidInput(f"{file}: " + "; ".join(exc.problems)) from None
        self.stdout.write(json.dumps(result, indent=2))
