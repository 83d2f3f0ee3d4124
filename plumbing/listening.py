"""Hearing what other processes tell PostgreSQL's channels (LISTEN/NOTIFY), for as long as a
process runs: on a connection of its own, in a thread of its own, listening again after the
connection fails."""

import threading
from collections.abc import Callable

import psycopg
from psycopg import sql


def listen(
    database_url: str,
    channel: str,
    heard: Callable[[str | None], None],
    stopped: threading.Event,
    lost: Callable[[], None] = lambda: None,
) -> None:
    """Call `heard(payload)` for each notice on `channel` until `stopped`, and `heard(None)`
    each time listening begins: what was said while nobody listened is not known. `lost` is
    called when the connection fails (listening begins again a second later)."""
    while not stopped.is_set():
        try:
            with psycopg.connect(database_url, autocommit=True) as connection:
                connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                heard(None)
                while not stopped.is_set():
                    for notice in connection.notifies(timeout=5):
                        heard(notice.payload)
        except psycopg.Error:
            lost()
            stopped.wait(1)


def listening(name: str, *args: object, **kwargs: object) -> threading.Thread:
    """`listen(*args, **kwargs)` started on a daemon thread called `name`."""
    thread = threading.Thread(target=listen, args=args, kwargs=kwargs, name=name, daemon=True)
    thread.start()
    return thread
