"""Which processes used the cores while an area of the bench ran.

Each process's CPU time, its own and its reaped children's (so PostgreSQL's backends that
ended meanwhile count to PostgreSQL), summed by role over the area's wall time: a service
by its name, `postgres`, the `broker`, the `supervisor` (`civil-orders up`) and the bench's
own process, which drives the cases and waits for them (`bench`). Only the processes of the
stack the bench runs on are seen: an external database or broker is not.
"""

import os
import time
from types import TracebackType

import psutil

Snapshot = dict[tuple[int, float], tuple[str, float]]  # (pid, started) -> (role, CPU seconds)


class CoreMeter:
    """Cores used by role between entering and leaving: `cores`, most first."""

    def __init__(self, *roots: int, own_role: str = "bench") -> None:
        """`roots`: the processes the stack's processes descend from: first the one that
        started it (the bench's own, or `civil-orders up`'s), then any it left running on
        their own (the embedded PostgreSQL's postmaster)."""
        self.roots = roots
        self.own_role = own_role
        self.cores: dict[str, float] = {}

    def __enter__(self) -> "CoreMeter":
        self._began, self._before = time.perf_counter(), self._snapshot()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        seconds = time.perf_counter() - self._began
        used: dict[str, float] = {}
        for key, (role, cpu) in self._snapshot().items():
            used[role] = used.get(role, 0.0) + cpu - self._before.get(key, (role, 0.0))[1]
        ranked = sorted(used.items(), key=lambda item: -item[1])
        self.cores = {role: cpu / seconds for role, cpu in ranked if cpu > 0}

    def _snapshot(self) -> Snapshot:
        own = os.getpid()
        processes = [psutil.Process(own)]
        for pid in self.roots:
            try:
                root = psutil.Process(pid)
                processes += [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
        processes = list({process.pid: process for process in processes}.values())
        taken: Snapshot = {}
        for process in processes:
            try:
                with process.oneshot():
                    role = self._role(process, own)
                    times = process.cpu_times()
                    started = process.create_time()
            except psutil.Error:
                continue  # ended meanwhile: its parent counts it once it has reaped it
            cpu = times.user + times.system + times.children_user + times.children_system
            taken[(process.pid, started)] = (role, cpu)
        return taken

    def _role(self, process: psutil.Process, own: int) -> str:
        if process.pid == own:
            return self.own_role
        if process.pid == self.roots[0]:
            return "supervisor"
        command = process.cmdline()
        if "serve" in command[:-1]:  # python -m civil_orders serve NAME
            return command[command.index("serve") + 1]
        name = process.name()
        if name.startswith("postgres"):
            return "postgres"
        if "tansu" in name:
            return "broker"
        return name


def described(cores: dict[str, float]) -> str:
    """One line: each role's share of the cores, most first."""
    return " · ".join(f"{role} {share:.2f}" for role, share in cores.items() if share >= 0.005)
