"""A decision rendered for a person (same content as the JSON)."""

from __future__ import annotations

from ccmops.rules.decision import Decision

_SEVERITY_MARK = {"info": "i", "warning": "!", "hold": "HOLD", "refusal": "NOT BILLED"}


def explain(decision: Decision) -> str:
    d = decision
    out = [
        f"Patient {d.patient_id} · {d.month} · billing practitioner {d.billing_practitioner_id}",
        f"Status: {d.status.value.replace('_', ' ').upper()}",
        "",
        f"Counted minutes: clinical staff {d.counted_minutes.clinical_staff}, "
        f"billing practitioner {d.counted_minutes.billing_practitioner}",
    ]
    if d.lines:
        out.append("")
        out.append("Bill:")
        for line in d.lines:
            out.append(
                f"  {line.code} × {line.units}  on {line.date_of_service}  allowed ${line.allowed_amount:.2f}  "
                f"patient ${line.patient_share:.2f}  dx {', '.join(line.diagnosis_codes) or '—'}"
            )
        out.append(f"  total allowed ${d.total:.2f}")
    else:
        out.append("")
        out.append("Nothing to bill this month.")
    if d.excluded_time:
        out.append("")
        out.append("Minutes not counted:")
        for e in d.excluded_time:
            out.append(f"  {e.entry_id}: {e.minutes} min {e.reason.value} ({', '.join(e.rules)})")
    if d.findings:
        out.append("")
        out.append("Findings:")
        for f in d.findings:
            out.append(f"  [{_SEVERITY_MARK[f.severity.value]}] {f.code}: {f.message} ({', '.join(f.rules)})")
    if d.alternatives:
        out.append("")
        out.append("Also considered:")
        for a in d.alternatives:
            codes = " + ".join(f"{x.code}×{x.units}" for x in a.lines)
            out.append(f"  {codes} = ${a.total:.2f}: {a.why_not}")
    return "\n".join(out) + "\n"
