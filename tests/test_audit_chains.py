"""One audit chain per practice: a practice's log verifies on its own, tampering is reported in the chain it
hit, an append never waits for another practice's open transaction, and the single chain of a database
written before per-practice chains keeps verifying as chain 0."""

import threading

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from tests.factories.session import demo_patient

from ccmops.compliance.audit import GENESIS, _digest, record_audit, verify_chain
from ccmops.compliance.models import AuditChainHead, AuditEvent
from ccmops.demo import world
from ccmops.organizations.models import Organization


def test_each_practice_has_its_own_chain_and_verifies_alone(login):
    maple = demo_patient("Kohler")
    login("nora.rn").get(f"/patients/{maple.id}/")
    practices = set(AuditEvent.objects.exclude(practice=None).values_list("practice_id", flat=True))
    assert len(practices) >= 2  # the demo's seed writes audited records in more than one practice
    for practice_id in practices:
        events = AuditEvent.objects.filter(practice_id=practice_id)
        assert set(events.values_list("chain", flat=True)) == {practice_id}
        report = verify_chain(practice_id)
        assert report.ok and report.checked == events.count()
        head = AuditChainHead.objects.get(id=practice_id)
        first, last = events.order_by("id").first(), events.order_by("id").last()
        assert first.prev_hash == GENESIS and (head.last_hash, head.count) == (last.hash, events.count())
    assert set(AuditEvent.objects.filter(practice=None).values_list("chain", flat=True)) == {0}  # sign-ins
    everything = verify_chain()
    assert everything.ok and everything.checked == AuditEvent.objects.count()
    assert everything.chains == len(practices) + 1


def test_tampering_is_reported_in_the_practice_chain_it_hit(login, capsys):
    login("nora.rn").get(f"/patients/{demo_patient('Kohler').id}/")
    hit, other = (
        Organization.objects.get(slug=world.MAPLE),
        Organization.objects.get(slug=world.RIVERBEND),
    )
    target = AuditEvent.objects.filter(chain=hit.id).order_by("id")[1]
    AuditEvent.objects.filter(id=target.id).update(detail={"rewritten": True})
    assert verify_chain(other.id).ok
    report = verify_chain(hit.id)
    assert report.problems == (f"event {target.id}: contents altered after it was written",)
    assert verify_chain().problems == report.problems

    call_command("audit", "verify", "--practice", other.slug)
    assert f"events in {other.slug}'s chain verified" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", "--practice", hit.slug)
    assert exit_info.value.code == 1
    assert f"event {target.id}: contents altered" in capsys.readouterr().out


def test_an_event_moved_to_another_chain_or_deleted_from_the_end_is_detected(login):
    login("nora.rn").get(f"/patients/{demo_patient('Kohler').id}/")
    maple, riverbend = Organization.objects.get(slug=world.MAPLE), Organization.objects.get(slug=world.RIVERBEND)
    moved = AuditEvent.objects.filter(chain=maple.id).order_by("id")[2]
    AuditEvent.objects.filter(id=moved.id).update(chain=riverbend.id)
    problems = "\n".join(verify_chain().problems)
    assert f"chain {maple.id} (practice {maple.id}) broken before" in problems  # the gap it left
    assert f"event {moved.id}: chain {riverbend.id} (practice {riverbend.id}) broken before it" in problems
    AuditEvent.objects.filter(id=moved.id).update(chain=maple.id)
    assert verify_chain().ok

    newest = AuditEvent.objects.filter(chain=riverbend.id).order_by("id").last()
    AuditEvent.objects.filter(id=newest.id)._raw_delete(using="default")
    report = verify_chain(riverbend.id)
    assert len(report.problems) == 1 and "events at the end were deleted" in report.problems[0]
    assert verify_chain(maple.id).ok


def test_a_chain_deleted_whole_with_its_head_is_detected(login):
    login("nora.rn").get(f"/patients/{demo_patient('Kohler').id}/")
    maple = Organization.objects.get(slug=world.MAPLE)
    assert verify_chain().ok
    AuditEvent.objects.filter(chain=maple.id)._raw_delete(using="default")
    AuditChainHead.objects.filter(id=maple.id).delete()
    (problem,) = verify_chain(maple.id).problems
    assert problem.startswith(f"chain {maple.id} (practice {maple.id}): the practice has patients but no audit")
    AuditEvent.objects.filter(chain=0)._raw_delete(using="default")
    AuditChainHead.objects.filter(id=0).delete()
    problems = verify_chain().problems
    assert any(p.startswith("chain 0 (no practice") and "users have signed in" in p for p in problems)


@pytest.mark.django_db(transaction=True)
def test_an_open_transaction_of_one_practice_does_not_hold_up_another_practices_audited_writes():
    if connection.vendor != "postgresql":
        pytest.skip("row locks: SQLite has one writer at a time whatever the chain")
    a = Organization.objects.create(slug="chain-a", kind="practice", name="A")
    b = Organization.objects.create(slug="chain-b", kind="practice", name="B")
    holding, release, failures = threading.Event(), threading.Event(), []

    def long_transaction_in_a() -> None:
        try:
            with transaction.atomic():
                record_audit(action="update", practice_id=a.id, object_type="slow", object_id="1")
                holding.set()
                release.wait(30)
        except Exception as exc:  # reported to the test thread  # noqa: BLE001
            failures.append(exc)
            holding.set()
        finally:
            connection.close()

    worker = threading.Thread(target=long_transaction_in_a)
    worker.start()
    try:
        assert holding.wait(30) and not failures
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            record_audit(action="update", practice_id=b.id, object_type="quick", object_id="1")  # does not wait
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            record_audit(action="update", practice_id=a.id, object_type="quick", object_id="2")  # same chain: waits
    finally:
        release.set()
        worker.join(30)
    assert not failures
    record_audit(action="update", practice_id=a.id, object_type="after", object_id="3")
    assert list(AuditEvent.objects.filter(chain=a.id).order_by("id").values_list("object_type", flat=True)) == [
        "slow",
        "after",
    ]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_a_database_with_the_single_chain_keeps_verifying_as_chain_0():
    practice = Organization.objects.create(slug="old", kind="practice", name="Old")
    executor = MigrationExecutor(connection)
    executor.migrate([("compliance", "0003_audit_unlock_action")])
    old = executor.loader.project_state([("compliance", "0003_audit_unlock_action")]).apps
    event_model, head_model = old.get_model("compliance", "AuditEvent"), old.get_model("compliance", "AuditChainHead")
    prev = GENESIS
    for n, practice_id in enumerate([None, practice.id, practice.id]):
        event = event_model(
            at="2026-10-01T12:00:00+00:00",
            username="before",
            practice_id=practice_id,
            action="update",
            object_type="old",
            object_id=str(n),
            detail={},
            prev_hash=prev,
        )
        fields = {
            "at": "2026-10-01T12:00:00+00:00",
            "user_id": None,
            "username": "before",
            "practice_id": practice_id,
            "patient_id": None,
            "action": "update",
            "object_type": "old",
            "object_id": str(n),
            "outcome": "success",
            "detail": {},
        }
        event.hash = prev = _digest(prev, fields)
        event.save()
    head_model.objects.create(id=1, last_hash=prev, count=3)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert list(AuditChainHead.objects.values_list("id", "count")) == [(0, 3)]
    assert set(AuditEvent.objects.values_list("chain", flat=True)) == {0}
    record_audit(action="update", practice_id=practice.id, object_type="new", object_id="1")
    report = verify_chain()
    assert report.ok and report.checked == 4 and report.chains == 2


def test_the_chain_is_keyed_outside_the_database_and_anchored_by_checkpoints(login, monkeypatch, tmp_path, capsys):
    """Security review item 3: editing an event and recomputing the chain with plain SHA-256, or deleting the
    newest events and rolling the head back, verified "intact" before. Now the links are HMACs under a key kept
    outside the database, and signed checkpoints written outside it catch a truncation."""
    import hashlib
    import json

    from django.core.management import call_command

    from ccmops.compliance.audit import checkpoint

    monkeypatch.setenv("CCMOPS_AUDIT_CHECKPOINTS", str(tmp_path / "checkpoints.jsonl"))
    client = login("nora.rn")
    for _ in range(3):
        client.get("/worklist/")
    assert all(e.key_id for e in AuditEvent.objects.order_by("-id")[:3])
    checkpoint()
    # an edited event, the chain recomputed as plain SHA-256 from it on (no key needed): caught — the links after
    # signed ones are unsigned, and the checkpoint's head is not the chain's any more
    chain = max(AuditChainHead.objects.all(), key=lambda h: h.count).id
    victim = AuditEvent.objects.filter(chain=chain).order_by("id")[1]
    AuditEvent.objects.filter(pk=victim.pk).update(detail={"edited": True})
    prev = victim.prev_hash
    for e in AuditEvent.objects.filter(chain=victim.chain, id__gte=victim.id).order_by("id"):
        fields = json.dumps(
            {
                **{
                    k: getattr(e, k)
                    for k in (
                        "username",
                        "practice_id",
                        "patient_id",
                        "action",
                        "object_type",
                        "object_id",
                        "outcome",
                        "detail",
                    )
                },
                "at": e.at.isoformat(),
                "user_id": e.user_id,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        digest = hashlib.sha256((prev + fields).encode()).hexdigest()
        AuditEvent.objects.filter(pk=e.pk).update(prev_hash=prev, hash=digest, key_id="")
        prev = digest
    AuditChainHead.objects.filter(id=victim.chain).update(last_hash=prev)
    report = verify_chain()
    assert any("unsigned by the audit key" in p for p in report.problems), report.problems
    assert any("the chain was rewritten and recomputed" in p for p in report.problems), report.problems
    call_command("audit", "checkpoint")
    assert "written to" in capsys.readouterr().out


def test_a_truncated_chain_is_caught_by_the_checkpoint(login, monkeypatch, tmp_path):
    from ccmops.compliance.audit import checkpoint

    monkeypatch.setenv("CCMOPS_AUDIT_CHECKPOINTS", str(tmp_path / "checkpoints.jsonl"))
    client = login("nora.rn")
    for _ in range(3):
        client.get("/worklist/")
    record = checkpoint()
    assert (tmp_path / "checkpoints.jsonl").stat().st_mode & 0o777 == 0o600
    assert verify_chain().ok
    chain = max(AuditChainHead.objects.all(), key=lambda h: h.count)
    newest = AuditEvent.objects.filter(chain=chain.id).order_by("-id")
    keep = next(iter(newest[2:3]))
    AuditEvent.objects.filter(chain=chain.id, id__gt=keep.id).delete()  # delete the newest two
    AuditChainHead.objects.filter(id=chain.id).update(last_hash=keep.hash, count=chain.count - 2)  # roll back
    report = verify_chain()
    assert not report.ok
    assert any("events were deleted and the head rolled back" in p for p in report.problems), report.problems
    assert str(chain.id) in record["chains"]
    # a checkpoint edited by hand does not verify
    path = tmp_path / "checkpoints.jsonl"
    path.write_text(path.read_text().replace('"mac": "', '"mac": "0'))
    assert any("signature does not verify" in p for p in verify_chain().problems)
