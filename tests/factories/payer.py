"""A clearinghouse for tests (issue 35): the 999, 277CA and 835 a payer would send back for one of ccmops's 837P
batches, written to the 5010 implementation guides (each checked with pyx12 by the tests that use them). Built
from the batch's own claims (CLM01) and lines (REF*6R), with the outcome of each line chosen by the test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ccmops.billing.models import ClaimBatch, ClaimLine

SENDER, RECEIVER = "NGSMEDICARE", "CCMOPS"
DAY = dt.date(2026, 11, 20)


def _envelope(control: int, gs01: str, version: str, body: list[str]) -> str:
    isa = (f"ISA*00*          *00*          *ZZ*{SENDER:<15}*ZZ*{RECEIVER:<15}*{DAY:%y%m%d}*1200*^*00501*"
           f"{control:09d}*0*P*:")  # fmt: skip
    segments = [isa, f"GS*{gs01}*{SENDER}*{RECEIVER}*{DAY:%Y%m%d}*1200*{control}*X*{version}", *body,
                f"GE*1*{control}", f"IEA*1*{control:09d}"]  # fmt: skip
    return "~\n".join(segments) + "~\n"


def _transaction(st: str, version: str | None, body: list[str]) -> list[str]:
    head = f"ST*{st}*0001" + (f"*{version}" if version else "")
    return [head, *body, f"SE*{len(body) + 2}*0001"]


def _sets(batch: ClaimBatch) -> list[str]:
    return [seg.split("*")[2] for seg in batch.content.replace("\n", "").split("~") if seg.startswith("ST*")]


def ack_999(batch: ClaimBatch, *, control: int, reject_set: str | None = None, reject_all: bool = False) -> str:
    """A 999 for the batch: every transaction set accepted, or one (`reject_set`, its ST02) or all rejected with
    a segment error."""
    body = [f"AK1*HC*{batch.control_number}*005010X222A1"]
    sets = _sets(batch)
    rejected = 0
    for st in sets:
        body.append(f"AK2*837*{st}*005010X222A1")
        if reject_all or st == reject_set:
            rejected += 1
            body += ["IK3*NM1*17*2010*8", "IK4*9*67*7*BADID", "IK5*R*5"]
        else:
            body.append("IK5*A")
    verdict = "R" if rejected == len(sets) else "P" if rejected else "A"
    body.append(f"AK9*{verdict}*{len(sets)}*{len(sets)}*{len(sets) - rejected}")
    return _envelope(control, "FA", "005010X231A1", _transaction("999", "005010X231A1", body))


def _claims(batch: ClaimBatch) -> dict[str, list[ClaimLine]]:
    ids = [seg.split("*")[1] for seg in batch.content.replace("\n", "").split("~") if seg.startswith("CLM*")]
    out: dict[str, list[ClaimLine]] = {}
    for claim_id in ids:
        pid, _, month = claim_id.partition("-")
        out[claim_id] = list(ClaimLine.objects.filter(practice=batch.practice, patient_id=int(pid), month=month)
                             .select_related("patient").order_by("id"))  # fmt: skip
    return out


def _charges(batch: ClaimBatch) -> dict[int, Decimal]:
    """Each line's charge as the 837P sent it (SV102), by its REF*6R."""
    out, charge = {}, Decimal(0)
    for seg in batch.content.replace("\n", "").split("~"):
        parts = seg.split("*")
        if parts[0] == "SV1":
            charge = Decimal(parts[2])
        elif parts[0] == "REF" and parts[1] == "6R":
            out[int(parts[2])] = charge
    return out


def ack_277ca(batch: ClaimBatch, *, control: int, reject: tuple[str, ...] = ()) -> str:
    """A 277CA: every claim accepted for adjudication (A2:20) but those in `reject` (A7:21, invalid information)."""
    claims, charges = _claims(batch), _charges(batch)
    total = sum(charges.values(), Decimal(0))
    body = [f"BHT*0085*08*{control}*{DAY:%Y%m%d}*1200*TH", "HL*1**20*1", "NM1*PR*2*NGS MEDICARE*****PI*06102",
            f"TRN*1*{control}", f"DTP*050*D8*{DAY:%Y%m%d}", f"DTP*009*D8*{DAY:%Y%m%d}", "HL*2*1*21*1",
            "NM1*41*2*CCMOPS*****46*CCMOPS", f"TRN*2*{batch.control_number}", f"STC*A1:19*{DAY:%Y%m%d}*WQ*{total}",
            "HL*3*2*19*1", f"NM1*85*2*{batch.practice.name.upper()[:60]}*****XX*{batch.practice.npi}", "TRN*1*0",
            f"STC*A1:19**WQ*{total}"]  # fmt: skip
    hl = 3
    for claim_id, lines in claims.items():
        hl += 1
        patient = lines[0].patient
        amount = sum((charges[line.id] for line in lines), Decimal(0))
        status = "A7:21" if claim_id in reject else "A2:20"
        text = "********INVALID PATIENT MEMBER ID" if claim_id in reject else ""  # STC12
        body += [f"HL*{hl}*3*PT", f"NM1*QC*1*{patient.family_name.upper()}*{patient.given_name.upper()}****MI*"
                 f"{patient.medicare_id or 'UNKNOWN'}", f"TRN*2*{claim_id}",
                 f"STC*{status}*{DAY:%Y%m%d}*{'U' if claim_id in reject else 'WQ'}*{amount}{text}",
                 f"REF*1K*{control}{hl:04d}",
                 f"DTP*472*RD8*{lines[0].date_of_service:%Y%m%d}-{lines[-1].date_of_service:%Y%m%d}"]  # fmt: skip
    return _envelope(control, "HN", "005010X214", _transaction("277", "005010X214", body))


def remit_835(batch: ClaimBatch, *, control: int, outcomes: dict[int, tuple] | None = None) -> str:
    """An 835 for the batch's claims. Each line is paid its allowed amount less 20 % coinsurance (CO-45 for the
    rest of the charge, PR-2 for the coinsurance) unless `outcomes` gives it (by claim line id) as
    ("deny", group, reason[, remark]) or ("skip",) — left out of the file."""
    outcomes = outcomes or {}
    claims, charges = _claims(batch), _charges(batch)
    body_claims, total = [], Decimal(0)
    for n, (claim_id, lines) in enumerate(claims.items(), start=1):
        services, claim_charge, claim_paid, claim_pr = [], Decimal(0), Decimal(0), Decimal(0)
        for line in lines:
            outcome = outcomes.get(line.id, ("pay",))
            if outcome[0] == "skip":
                continue
            charge = charges[line.id]
            claim_charge += charge
            if outcome[0] == "deny":
                paid, cas, allowed = Decimal(0), [f"CAS*{outcome[1]}*{outcome[2]}*{charge}"], None
                remark = [f"LQ*HE*{outcome[3]}"] if len(outcome) > 3 else []
            else:
                allowed = min(line.allowed_amount, charge)
                coinsurance = (allowed * Decimal("0.2")).quantize(Decimal("0.01"))
                paid = allowed - coinsurance
                cas = [f"CAS*PR*2*{coinsurance}"] + ([f"CAS*CO*45*{charge - allowed}"] if charge > allowed else [])
                claim_pr += coinsurance
                remark = []
            claim_paid += paid
            services += [f"SVC*HC:{line.code}*{charge}*{paid}**{line.units}", f"DTM*472*{line.date_of_service:%Y%m%d}",
                         *cas, f"REF*6R*{line.id}", *([f"AMT*B6*{allowed}"] if allowed is not None else []),
                         *remark]  # fmt: skip
        if not services:
            continue
        patient = lines[0].patient
        status = "4" if claim_paid == 0 else "1"
        body_claims += [f"CLP*{claim_id}*{status}*{claim_charge}*{claim_paid}*{claim_pr or ''}*MB*{control}{n:04d}*11",
                        f"NM1*QC*1*{patient.family_name.upper()}*{patient.given_name.upper()}****MI*"
                        f"{patient.medicare_id or 'UNKNOWN'}", *services]  # fmt: skip
        total += claim_paid
    body = [f"BPR*I*{total}*C*CHK************{DAY:%Y%m%d}", f"TRN*1*{control}*1123456789", "N1*PR*NGS MEDICARE",
            "N3*PO BOX 7111", "N4*INDIANAPOLIS*IN*46207", "PER*BL*EDI HELP DESK*TE*8775671100",
            f"N1*PE*{batch.practice.name.upper()[:60]}*XX*{batch.practice.npi}", "LX*1", *body_claims]  # fmt: skip
    return _envelope(control, "HP", "005010X221A1", _transaction("835", None, body))


def eligibility_271(inquiry, *, control: int, answers: dict[int, list[str]] | None = None) -> str:
    """The 271 HETS would send back for a 270 (`EligibilityInquiry`): per subscriber of the inquiry, its trace number
    echoed, its name and MBI, and the answer's segments (`answers`: patient id -> segments of loops 2100C/2110C,
    EB/DTP/LS/NM1/LE/AAA); by default Part B active since 2015. Written to 005010X279A1 (checked with pyx12)."""
    answers = answers or {}
    subscribers, current = [], None
    for seg in inquiry.content.replace("\n", "").split("~"):
        parts = seg.split("*")
        if parts[0] == "TRN":
            current = {"trace": parts[2], "originator": parts[3]}
            subscribers.append(current)
        elif parts[0] == "NM1" and parts[1] == "IL":
            current.update(last=parts[3], first=parts[4], mbi=parts[9])
        elif parts[0] == "DMG":
            current["birth"] = parts[2]
    body = ["BHT*0022*11*" + f"{inquiry.control_number}*{DAY:%Y%m%d}*1200", "HL*1**20*1",
            "NM1*PR*2*CMS*****PI*CMS", "HL*2*1*21*1", f"NM1*1P*2*{inquiry.practice.name.upper()[:60]}*****XX*"
            f"{inquiry.practice.npi}"]  # fmt: skip
    for hl, s in enumerate(subscribers, start=3):
        pid = int(s["trace"].partition("-")[0])
        answer = answers.get(pid, ["EB*1**30*MB", "DTP*291*D8*20150101"])
        head = [s for s in answer if s.startswith(("AAA", "DTP*442"))]
        rest = [s for s in answer if s not in head]
        body += [f"HL*{hl}*2*22*0", f"TRN*2*{s['trace']}*{s['originator']}",
                 f"NM1*IL*1*{s['last']}*{s['first']}****MI*{s['mbi']}", *[h for h in head if h.startswith("AAA")],
                 f"DMG*D8*{s['birth']}", *[h for h in head if h.startswith("DTP")], *rest]  # fmt: skip
    return _envelope(control, "HB", "005010X279A1", _transaction("271", "005010X279A1", body))
