import pytest
from django.core.management import call_command

from ccmops.enrollment.bulk import import_statuses
from ccmops.enrollment.models import Enrollment
from ccmops.errors import InvalidInput


def test_bulk_status_import_is_all_or_nothing(twyla, orgs):
    maple = twyla.practice
    text = (
        f"mrn,program,status,date,reason\n{twyla.mrn},ccm,declined,2026-10-02,Not interested\n"
        "nobody,ccm,declined,2026-10-02,\n"
        f"{twyla.mrn},ccm,active,2026-10-03,EHR says active\n"
    )
    with pytest.raises(InvalidInput) as info:
        import_statuses(practice=maple, text=text, file_label="ehr.csv", by=None)
    message = str(info.value)
    assert "ehr.csv, line 3: mrn: no patient 'nobody'" in message
    assert "ehr.csv, line 4: status: 'active' cannot be imported" in message
    assert not Enrollment.objects.exists()
    good = f"mrn,program,status,date,reason\n{twyla.mrn},ccm,declined,2026-10-02,Not interested\n"
    assert import_statuses(practice=maple, text=good, file_label="ehr.csv", by=None) == 1
    e = Enrollment.objects.get()
    assert e.status == "declined" and e.events.get().reason == "Imported from ehr.csv: Not interested"


def test_cli(twyla, tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text(f"mrn,program,status,date,reason\n{twyla.mrn},pcm,enrolled_elsewhere,2026-09-01,Cardiology PCM\n")
    call_command("enrollment", "import", str(path), "--practice", twyla.practice.slug)
    assert "1 enrollment statuses imported" in capsys.readouterr().out
    assert Enrollment.objects.get(program="pcm").status == "enrolled_elsewhere"
