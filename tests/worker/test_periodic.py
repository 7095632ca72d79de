"""Periodic tasks under a FakeClock (worker/periodic.py): two workers sharing the lease rows run a
task once per interval between them, a run killed mid-way is redone once its lease expires, and a
failing run is recorded and retried at the next interval. Plus the worker registry's plugins."""

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from floorsync.bootstrap import Services, build_services
from floorsync.config import Settings
from floorsync.kit.clock import FakeClock
from floorsync.models.bookkeeping import PeriodicTask as TaskRow
from floorsync.worker import registry
from floorsync.worker.kinds import PeriodicTask
from floorsync.worker.periodic import PeriodicRunner
from floorsync.worker.registry import registry_for

EVERY = timedelta(seconds=60)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    built = build_services(settings, clock)
    yield built
    built.close()


class Counting:
    """A periodic task that counts its runs (and can be told to fail)."""

    def __init__(self, fail: bool = False) -> None:
        self.name = f"test.count-{uuid.uuid4().hex[:8]}"
        self.runs: list[str] = []
        self.fail = fail

    def task(self, who: str) -> PeriodicTask:
        def run(_services: Services) -> None:
            self.runs.append(who)
            if self.fail:
                raise RuntimeError("disk full")

        return PeriodicTask(self.name, run, every=lambda _settings: EVERY)


def row(sessions: sessionmaker[Session], name: str) -> TaskRow:
    with sessions() as s:
        found = s.get(TaskRow, name)
        assert found is not None
        return found


class TestOncePerInterval:
    def test_two_workers_run_a_task_once_per_interval_between_them(
        self, services: Services, clock: FakeClock
    ) -> None:
        counting = Counting()
        a = PeriodicRunner(services, [counting.task("a")], "worker-a")
        b = PeriodicRunner(services, [counting.task("b")], "worker-b")
        a.run_due()
        b.run_due()
        assert counting.runs == ["a"]
        clock.advance(59)
        assert b.run_due() == pytest.approx(1.0)  # seconds until the task is due again
        a.run_due()
        assert counting.runs == ["a"]
        clock.advance(1)
        b.run_due()
        a.run_due()
        assert counting.runs == ["a", "b"]
        done = row(services.sessions, counting.name)
        assert (done.run_count, done.last_run_by, done.lease_owner) == (2, "worker-b", None)
        assert done.next_run_at == clock.now() + EVERY

    def test_a_run_killed_mid_way_is_redone_once_its_lease_expires(
        self, services: Services, clock: FakeClock
    ) -> None:
        counting = Counting()
        a = PeriodicRunner(services, [counting.task("a")], "worker-a")
        b = PeriodicRunner(services, [counting.task("b")], "worker-b")
        a.add_missing_rows(set())
        started = a.claim(a.tasks[0])  # worker a is killed before the task finishes
        assert started is not None
        b.run_due()
        assert counting.runs == []
        clock.advance(a.tasks[0].lease.total_seconds() + 1)
        b.run_due()
        assert counting.runs == ["b"]
        a.finish(a.tasks[0], started, None)  # a late finish doesn't overwrite b's record
        done = row(services.sessions, counting.name)
        assert (done.run_count, done.last_run_by) == (1, "worker-b")

    def test_a_failing_run_is_recorded_and_the_task_runs_again_at_the_next_interval(
        self, services: Services, clock: FakeClock
    ) -> None:
        counting = Counting(fail=True)
        a = PeriodicRunner(services, [counting.task("a")], "worker-a")
        a.run_due()
        failed = row(services.sessions, counting.name)
        assert (failed.last_error, failed.run_count) == ("RuntimeError: disk full", 1)
        assert failed.next_run_at == clock.now() + EVERY
        clock.advance(60)
        a.run_due()
        assert counting.runs == ["a", "a"]


class TestTheRegistry:
    def test_the_upkeep_tasks_and_the_delivery_kind_are_built_in(self, settings: Settings) -> None:
        built = registry_for(settings)
        assert [k.name for k in built.kinds] == [
            "webhooks.delivery",
            "csv_import",
            "planning.pull",
            "planning.pull_now",
            "planning.dispatch",
            "planning.push",
        ]
        assert [t.name for t in built.periodic] == [
            "webhooks.expire",
            "webhooks.secrets",
            "retention.purge",
            "webhooks.logs",
            "webhooks.vacuum",
            "batches.monitor",
            "storage.purge",
            "csv_import.retention",
            "planning.recover_runs",
        ]

    def test_a_plugin_module_adds_its_job_kinds_and_periodic_tasks(
        self, settings: Settings
    ) -> None:
        built = registry_for(settings.model_copy(update={"worker_plugins": "tests.worker.plugin"}))
        assert [k.name for k in built.kinds] == [
            "webhooks.delivery",
            "csv_import",
            "planning.pull",
            "planning.pull_now",
            "planning.dispatch",
            "planning.push",
            "test.make_cell",
        ]
        assert [t.name for t in built.periodic][-1] == "test.tick"

    def test_a_plugin_without_work_or_with_a_name_taken_is_refused(
        self, settings: Settings
    ) -> None:
        with pytest.raises(ValueError, match="neither JOB_KINDS nor PERIODIC_TASKS"):
            registry_for(settings.model_copy(update={"worker_plugins": "tests.worker"}))
        twice = "tests.worker.plugin, tests.worker.plugin"
        with pytest.raises(
            ValueError, match=r"job kind names must be unique: \['test.make_cell'\]"
        ):
            registry_for(settings.model_copy(update={"worker_plugins": twice}))
        assert registry.plugin_modules(
            settings.model_copy(update={"worker_plugins": " a , b,"})
        ) == [
            "a",
            "b",
        ]
