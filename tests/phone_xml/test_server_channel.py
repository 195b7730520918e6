"""The phone service's connections are polled for writing only when the main loop can write.

With hundreds of CUCM and phone connections open, a connection reported writable while its worker
held it made waitress's main loop spin over every connection and starve the workers of the GIL
(CURRI fell to 30 answers/s with 400 connections; `make soak` has the figures). These tests pin the
rule down on real waitress objects over a socket pair.
"""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager

import pytest
import waitress

from phone_xml.server import WaitingChannel


@pytest.fixture
def channel():
    sockets: dict = {}
    server = waitress.create_server(lambda environ, start: [b""], map=sockets, host="127.0.0.1", port=0)
    ours, theirs = socket.socketpair()
    conn = WaitingChannel(server, ours, ("127.0.0.1", 1), server.adj, map=sockets)
    yield conn
    conn.close()
    theirs.close()
    server.close()


@contextmanager
def worker_holding(conn: WaitingChannel):
    """Another thread holds the connection's output lock (as a worker does while it sends)."""
    held, done = threading.Event(), threading.Event()

    def worker() -> None:
        with conn.outbuf_lock:
            held.set()
            done.wait(10)

    thread = threading.Thread(target=worker)
    thread.start()
    held.wait(10)
    try:
        yield
    finally:
        done.set()
        thread.join()


def _answer_waiting(conn: WaitingChannel) -> None:
    conn.outbufs[-1].append(b"HTTP/1.1 200 OK\r\n")
    conn.total_outbufs_len = len(b"HTTP/1.1 200 OK\r\n")


def test_a_connection_whose_worker_is_sending_is_not_polled_for_writing(channel):
    channel.requests = [object()]  # a worker is serving this connection
    _answer_waiting(channel)
    with worker_holding(channel):  # ... and is sending its answer (write_soon holds the lock)
        assert not channel.writable()
    # the worker left part of its answer unsent and let go: the main loop sends the rest
    assert channel.writable()


def test_a_served_connection_with_nothing_to_send_is_not_polled_for_writing(channel):
    channel.requests = [object()]
    assert not channel.writable()


def test_an_answer_left_after_its_worker_finished_is_sent_and_closing_connections_are_closed(channel):
    _answer_waiting(channel)
    assert channel.writable()  # no worker: the main loop sends it
    channel.requests = [object()]
    channel.close_when_flushed = True
    with worker_holding(channel):
        assert channel.writable()  # closing goes on whatever the worker does
