"""`civil-orders migrate seal`: the services' stores, and the database they are in."""

import importlib
from pathlib import Path

from civil_orders.stack.embedded import attached_stack, folder_busy, start_postgres
from plumbing.migration import MigrationStopped, Store
from plumbing.settings import EVENT_STORES


class StackRunning(MigrationStopped):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(
            f"the stack is running from {data_dir}: stop `civil-orders up` first (the services "
            "must not write while their stores are sealed)"
        )


def service_stores() -> list[Store]:
    """Each service's store, with the read models it keeps of its own events."""
    modules = [importlib.import_module(f"services.{name}.main") for name in EVENT_STORES]
    return [
        Store(module.definition.application, module.definition.local_projections)
        for module in modules
        if module.definition.application is not None
    ]


def stopped_database(database_url: str | None, data_dir: Path) -> str:
    """The database given, or the embedded one of `data_dir`, started on its own (it stops
    when this process ends); refused while the stack runs from there."""
    if database_url:
        return database_url
    if attached_stack(data_dir) is not None or folder_busy(data_dir):
        raise StackRunning(data_dir)
    return start_postgres(data_dir).get_uri("civil_orders")
