"""Standard screening instruments, as published (public domain), scored with their interpretation bands (issue 33):
PHQ-9 (with the PHQ-2 screen, its first two items), GAD-7, the CDC STEADI fall-risk key questions, and the ten core
questions of CMS's Accountable Health Communities health-related social needs screen (AHC HRSN), which is scored
by domain — a need in living situation, food, transportation, utilities or interpersonal safety — not by a sum.
Each is also a FHIR Questionnaire (LOINC-coded items and answers) and each response a QuestionnaireResponse,
validated by `fhir.resources` (pure: no database)."""

from __future__ import annotations

from dataclasses import dataclass

from fhir.resources.R4B.questionnaire import Questionnaire

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
    answers: tuple[tuple[int, str, str], ...] = ()  # its own answer list, where it is not the instrument's
    multiple: bool = False  # "choose all that apply"
    domain: str = ""  # the need it screens for (a domain-scored instrument)
    flags: frozenset[int] = frozenset()  # the answers that show a need in its domain


@dataclass(frozen=True)
class Result:
    score: int  # the published total, or (a domain-scored instrument) the number of domains with a need
    band: str
    positive: bool
    needs: tuple[str, ...] = ()  # the domains with a need, in the instrument's order


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
    domain_sums: tuple[tuple[str, int, str], ...] = ()  # (domain, a need at or above this sum, its total's LOINC)

    def band(self, score: int) -> str:
        return [name for low, name in self.bands if score >= low][-1]

    def answers_of(self, item: Item) -> tuple[tuple[int, str, str], ...]:
        return item.answers or self.answers

    def result(self, given: dict[str, int | list[int]]) -> Result:
        """Score checked answers (`given`: link id -> the answer's value, a list of values for a multiple-choice
        item) as published."""
        if not any(item.domain for item in self.items):
            score = sum(int(v) for v in given.values())
            return Result(score, self.band(score), score >= self.positive_from)
        sums = {domain: (threshold, 0) for domain, threshold, _ in self.domain_sums}
        needs: list[str] = []
        for item in self.items:
            chosen = given[item.link_id]
            values = chosen if isinstance(chosen, list) else [chosen]
            if item.domain in sums:
                threshold, total = sums[item.domain]
                sums[item.domain] = (threshold, total + sum(values))
            elif item.flags.intersection(values) and item.domain not in needs:
                needs.append(item.domain)
        needs.extend(domain for domain, (threshold, total) in sums.items() if total >= threshold)
        order = list(dict.fromkeys(item.domain for item in self.items))
        needs.sort(key=order.index)
        band = ("needs: " + ", ".join(needs)) if needs else self.bands[0][1]
        return Result(len(needs), band, bool(needs), tuple(needs))

    def domain_totals(self, given: dict[str, int | list[int]]) -> list[tuple[str, int]]:
        """(LOINC, total) of each summed domain (the AHC HRSN's safety score)."""
        return [
            (loinc, sum(int(given[i.link_id]) for i in self.items if i.domain == domain))
            for domain, _, loinc in self.domain_sums
            if loinc
        ]


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
OFTEN = ((2, "LA28397-0", "Often true"), (1, "LA6729-3", "Sometimes true"), (0, "LA28398-8", "Never true"))
HOW_OFTEN = (
    (1, "LA6270-8", "Never"),
    (2, "LA10066-1", "Rarely"),
    (3, "LA10082-8", "Sometimes"),
    (4, "LA16644-9", "Fairly often"),
    (5, "LA6482-9", "Frequently"),
)
HRSN = Instrument(
    "hrsn",
    "Social needs: AHC HRSN core questions",
    "96777-8",
    "",
    (
        Item("71802-3", "What is your living situation today?", (
            (0, "LA31993-1", "I have a steady place to live"),
            (1, "LA31994-9", "I have a place to live today, but I am worried about losing it in the future"),
            (2, "LA31995-6", "I do not have a steady place to live (I am temporarily staying with others, in a hotel, "
                             "in a shelter, living outside on the street, on a beach, in a car, abandoned building, "
                             "bus or train station, or in a park)"),
        ), domain="housing", flags=frozenset({1, 2})),
        Item("96778-6", "Think about the place you live. Do you have problems with any of the following? "
                        "(Choose all that apply.)", (
            (1, "LA31996-4", "Pests such as bugs, ants, or mice"),
            (2, "LA28580-1", "Mold"),
            (3, "LA31997-2", "Lead paint or pipes"),
            (4, "LA31998-0", "Lack of heat"),
            (5, "LA31999-8", "Oven or stove not working"),
            (6, "LA32000-4", "Smoke detectors missing or not working"),
            (7, "LA32001-2", "Water leaks"),
            (0, "LA9-3", "None of the above"),
        ), multiple=True, domain="housing", flags=frozenset(range(1, 8))),
        Item("88122-7", "Within the past 12 months, you worried that your food would run out before you got money to "
                        "buy more.", OFTEN, domain="food", flags=frozenset({1, 2})),
        Item("88123-5", "Within the past 12 months, the food you bought just didn't last and you didn't have money to "
                        "get more.", OFTEN, domain="food", flags=frozenset({1, 2})),
        Item("93030-5", "In the past 12 months, has lack of reliable transportation kept you from medical "
                        "appointments, meetings, work or from getting things needed for daily living?",
             ((1, "LA33-6", "Yes"), (0, "LA32-8", "No")), domain="transportation", flags=frozenset({1})),
        Item("96779-4", "In the past 12 months has the electric, gas, oil, or water company threatened to shut off "
                        "services in your home?",
             ((1, "LA33-6", "Yes"), (0, "LA32-8", "No"), (2, "LA32002-0", "Already shut off")),
             domain="utilities", flags=frozenset({1, 2})),
        Item("95618-5", "How often does anyone, including family and friends, physically hurt you?", HOW_OFTEN,
             domain="safety"),
        Item("95617-7", "How often does anyone, including family and friends, insult or talk down to you?", HOW_OFTEN,
             domain="safety"),
        Item("95616-9", "How often does anyone, including family and friends, threaten you with harm?", HOW_OFTEN,
             domain="safety"),
        Item("95615-1", "How often does anyone, including family and friends, scream or curse at you?", HOW_OFTEN,
             domain="safety"),
    ),
    (),
    ((0, "no needs identified"),),
    1,
    "CMS Accountable Health Communities Health-Related Social Needs Screening Tool, core questions (public domain); "
    "a safety score of 11 or more (of 20) is a positive screen.",
    domain_sums=(("safety", 11, "95614-4"),),
)  # fmt: skip
INSTRUMENTS = {i.key: i for i in (PHQ2, PHQ9, GAD7, STEADI, HRSN)}
SELF_HARM_ITEM = "44260-8"  # PHQ-9 item 9: any answer above 0 needs a clinician today


def questionnaire(instrument: Instrument) -> dict:
    """The instrument as a FHIR R4B Questionnaire (validated)."""

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
                **({"repeats": True} if item.multiple else {}),
                "answerOption": [{"valueCoding": {"system": loinc, "code": c, "display": d}} for _, c, d in
                                 instrument.answers_of(item)],
            }
            for item in instrument.items
        ],
    }  # fmt: skip
    return Questionnaire.model_validate(resource).model_dump(mode="json", exclude_none=True)
