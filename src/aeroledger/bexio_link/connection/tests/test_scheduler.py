"""The periodic-task scheduler: due jobs are enqueued once, even with several schedulers."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from aeroledger.bexio_link.connection import scheduler, tasks
from aeroledger.bexio_link.connection.models import ScheduledJob
from aeroledger.bexio_link.connection.schedule import SCHEDULE, Periodic

pytestmark = pytest.mark.django_db

JOB = Periodic("test job", tasks.keep_alive, timedelta(hours=6))


def test_each_app_registered_its_jobs():
    every = {j.name: j.every for j in SCHEDULE}
    assert every["bexio keep-alive refresh"] == timedelta(hours=6)
    assert every["bexio master data refresh"] == timedelta(hours=24)
    assert every["bexio status sync"] == timedelta(minutes=15)
    assert every["bexio transfer resume"] == timedelta(minutes=5)
    for j in SCHEDULE:
        assert hasattr(j.task, "enqueue")


def test_claim_once_per_interval():
    now = timezone.now()
    assert scheduler.claim(JOB, now) is True
    assert scheduler.claim(JOB, now) is False  # a second scheduler in the same round
    assert scheduler.claim(JOB, now + timedelta(hours=5)) is False
    assert scheduler.claim(JOB, now + timedelta(hours=6, seconds=1)) is True
    assert ScheduledJob.objects.get(name=JOB.name).last_run_at == now + timedelta(hours=6, seconds=1)


def test_run_due_enqueues_each_due_task_once():
    from django_tasks_db.models import DBTaskResult

    first = scheduler.run_due(schedule=(JOB,))
    second = scheduler.run_due(schedule=(JOB,))
    assert first == [JOB.name] and second == []
    assert DBTaskResult.objects.filter(task_path=JOB.task.module_path).count() == 1


def test_run_scheduler_once(settings, capsys):
    call_command("run_scheduler", "--once")
    out = capsys.readouterr().out
    assert "bexio keep-alive refresh" in out
    assert ScheduledJob.objects.filter(name="bexio keep-alive refresh", last_run_at__isnull=False).exists()
