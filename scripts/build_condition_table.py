"""Build src/ccmops/rules/data/conditions/icd10cm_conditions.csv from the CCW lists in ../shared/data/ccw/.

Run from the project root: python3 scripts/build_condition_table.py ../shared/data/ccw
Rows: condition key, condition name, list (ccw30 or ccw_other), include/exclude, ICD-10-CM code or category
prefix without the dot. The CCW 30 come from PHSKC-APDE's ccw_lookup (ccw_icd10cm_codes.csv); the 45 "other
chronic or potentially disabling conditions" from Tuva's copy of the CMS hierarchy (ICD-10-CM rows only).
"""

import csv
import re
import sys
from pathlib import Path

src = Path(sys.argv[1])
out = Path(__file__).resolve().parent.parent / "src/ccmops/rules/data/conditions/icd10cm_conditions.csv"

names = {}
with (src / "ccw_definitions.csv").open(newline="") as fh:
    for row in csv.DictReader(fh):
        names[row["ccw_abbrev"]] = row["ccw_desc"]

rows = set()
with (src / "ccw_icd10cm_codes.csv").open(newline="") as fh:
    for row in csv.DictReader(fh):
        abbrev = row["ccw_abbrev"]
        if abbrev.endswith("_exclude") or re.search(r"_exclude\d*$", abbrev):
            base = re.sub(r"_exclude\d*$", "", abbrev)
            rows.add((base, names.get(base, base), "ccw30", "exclude", row["icd10cm_code"]))
        else:
            rows.add((abbrev, names.get(abbrev, abbrev), "ccw30", "include", row["icd10cm_code"]))

with (src / "cms_chronic_conditions_tuva.csv").open(newline="", encoding="utf-8") as fh:
    for row in csv.DictReader(fh):
        if row["chronic_condition_type"] != "Other chronic or potentially disabling conditions":
            continue
        if row["code_system"] != "ICD-10-CM":
            continue
        key = row["condition_column_name"]
        rows.add((key, row["condition"], "ccw_other", row["inclusion_type"].lower(), row["code"]))

# ccmops additions: chronic conditions that meet CMS's definition (expected to last 12 months or more, risk of
# exacerbation or functional decline) but are on neither list. Each is documented in docs/rules-engine.md.
ADDITIONS = {
    ("gout", "Gout (chronic, recurrent)"): ["M10", "M1A"],
    # R-DX-2: later care of a stroke is coded as its sequelae when deficits remain; those qualify, the acute
    # codes (I60–I63, G45, G46) do not (conditions.ACUTE_EPISODE_PREFIXES).
    ("stroke_sequelae", "Sequelae of stroke (residual deficits)"): ["I69"],
}
for (key, name), codes in ADDITIONS.items():
    for code in codes:
        rows.add((key, name, "ccmops", "include", code))

with out.open("w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["condition", "name", "list", "inclusion", "code"])
    w.writerows(sorted(rows))
print(f"{len(rows)} rows -> {out}")
