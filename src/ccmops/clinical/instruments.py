"""Standard screening instruments, as published (public domain), scored with their interpretation bands (issue 33):
PHQ-9 (with the PHQ-2 screen, its first two items), GAD-7, and the CDC STEADI fall-risk key questions. Each is
also a FHIR Questionnaire (LOINC-coded items) and each response a QuestionnaireResponse, validated by
`fhir.resources` (pure: no database)."""

from __future__ import annotations

from dataclasses import dataclass

FREQUENCY = (  # the answer scale of PHQ-9 and GAD-7 ("over the last 2 weeks, how often …"), LOINC answer codes
    (0, "LA6568-5", "Not at all"),
    (1, "LA6569-3", "Several days"),
    (2, "LA6570-1", "More than half the days"),
    (3, "LA6571-9", "Nearly every day"),
)
YES_NO = ((1, "LA33-6", "Yes"), (0, "LA32-8", "No"))


@dataclass(frozen=True)
class Item:
    link_id: str  # the item's LOINC code
    text: str


@dataclass(frozen=True)
class Instrument:
    key: str
    title: str
    loinc: str  # the panel
    total_loinc: str
    items: tuple[Item, ...]
    answers: tuple[tuple[int, str, str], ...]
    bands: tuple[tuple[int, str], ...]  # (lowest score of the band, its name), ascending
    positive_from: int  # a score at or above it is a positive screen
    citation: str
    preamble: str = ""

    def band(self, score: int) -> str:
        return [name for low, name in self.bands if score >= low][-1]


PHQ9 = Instrument(
    "phq9",
    "PHQ-9 (depression)",
    "44249-1",
    "44261-6",
    (
        Item("44250-9", "Little interest or pleasure in doing things"),
        Item("44255-8", "Feeling down, depressed, or hopeless"),
        Item("44259-0", "Trouble falling or staying asleep, or sleeping too much"),
        Item("44254-1", "Feeling tired or having little energy"),
        Item("44251-7", "Poor appetite or overeating"),
        Item("44258-2", "Feeling bad about yourself — or that you are a failure or have let yourself or your family "
                        "down"),
        Item("44252-5", "Trouble concentrating on things, such as reading the newspaper or watching television"),
        Item("44253-3", "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so "
                        "fidgety or restless that you have been moving around a lot more than usual"),
        Item("44260-8", "Thoughts that you would be better off dead or of hurting yourself in some way"),
    ),
    FREQUENCY,
    ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")),
    10,
    "Kroenke K, Spitzer RL, Williams JB. The PHQ-9. J Gen Intern Med 2001;16:606-13 (public domain).",
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
)  # fmt: skip
PHQ2 = Instrument(
    "phq2", "PHQ-2 (depression screen)", "55757-9", "55758-7", PHQ9.items[:2], FREQUENCY,
    ((0, "negative"), (3, "positive: give the PHQ-9")), 3,
    "Kroenke K, Spitzer RL, Williams JB. The PHQ-2. Med Care 2003;41:1284-92 (public domain).", PHQ9.preamble,
)  # fmt: skip
GAD7 = Instrument(
    "gad7",
    "GAD-7 (anxiety)",
    "69737-5",
    "70274-6",
    (
        Item("69725-0", "Feeling nervous, anxious, or on edge"),
        Item("68509-9", "Not being able to stop or control worrying"),
        Item("69733-4", "Worrying too much about different things"),
        Item("69734-2", "Trouble relaxing"),
        Item("69735-9", "Being so restless that it is hard to sit still"),
        Item("69689-8", "Becoming easily annoyed or irritable"),
        Item("69736-7", "Feeling afraid, as if something awful might happen"),
    ),
    FREQUENCY,
    ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")),
    10,
    "Spitzer RL, Kroenke K, Williams JB, Löwe B. The GAD-7. Arch Intern Med 2006;166:1092-7 (public domain).",
    PHQ9.preamble,
)
STEADI = Instrument(
    "steadi",
    "Falls: STEADI key questions",
    "STEADI",  # CDC's STEADI screen has no LOINC panel; its questions carry ccmops link ids
    "",
    (
        Item("steadi-fell", "Have you fallen in the past year?"),
        Item("steadi-unsteady", "Do you feel unsteady when standing or walking?"),
        Item("steadi-worry", "Do you worry about falling?"),
    ),
    YES_NO,
    ((0, "not at risk on the key questions"), (1, "at risk: assess gait, strength and balance")),
    1,
    "CDC STEADI (Stopping Elderly Accidents, Deaths & Injuries): three key questions (public domain).",
)
INSTRUMENTS = {i.key: i for i in (PHQ2, PHQ9, GAD7, STEADI)}
SELF_HARM_ITEM = "44260-8"  # PHQ-9 item 9: any answer above 0 needs a clinician today


def questionnaire(instrument: Instrument) -> dict:
    """The instrument as a FHIR R4B Questionnaire (validated)."""
    from fhir.resources.R4B.questionnaire import Questionnaire

    loinc = "http://loinc.org"
    resource = {
        "resourceType": "Questionnaire",
        "id": f"ccmops-{instrument.key}",
        "status": "active",
        "title": instrument.title,
        "code": [{"system": loinc, "code": instrument.loinc}] if instrument.loinc[0].isdigit() else [],
        "item": [
            {
                "linkId": item.link_id,
                "text": item.text,
                "type": "choice",
                "required": True,
                "answerOption": [{"valueCoding": {"system": loinc, "code": c, "display": d}} for _, c, d in
                                 instrument.answers],
            }
            for item in instrument.items
        ],
    }  # fmt: skip
    return Questionnaire.model_validate(resource).model_dump(mode="json", exclude_none=True)
