"""redshift_connector against the PostgreSQL server of the tests, through one bridge, named:

- **redshift-startup-parameters**: the client opens every connection with startup
  parameters that Redshift knows and PostgreSQL refuses (``client_protocol_version``,
  ``driver_version``, ``os_version``, ``driver_discovery_version``: FATAL 42704
  unrecognized configuration parameter). This proxy takes them out of the startup packet
  and relays every other byte unchanged both ways, so the rest of the conversation
  (authentication, queries, transactions, errors) is the client's and the server's own.
  While the session starts, the server's ``server_version`` (Debian's "15.18 (Debian
  15.18-0+deb12u1)", which the client cannot parse as a version) is passed on as its number
  ("15.18"), as Redshift and upstream PostgreSQL builds report it.
"""

from __future__ import annotations

import socket
import struct
import threading
from contextlib import suppress

REDSHIFT_ONLY = {b"client_protocol_version", b"driver_version", b"os_version", b"driver_discovery_version"}
SSL_REQUEST = 80877103


class StartupRewritingProxy:
    def __init__(self, host: str, port: int):
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            self._start(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        with suppress(OSError):
            packet = _read_packet(client)
            while struct.unpack("!I", packet[4:8])[0] == SSL_REQUEST:
                client.sendall(b"N")  # no TLS here: the client goes on in plain text
                packet = _read_packet(client)
            server = socket.create_connection(self.upstream)
            server.sendall(_without_redshift_parameters(packet))
            self._start(_relay, client, server)
            _relay_session_start(server, client)
            _relay(server, client)

    def close(self) -> None:
        self.listener.close()


def _read_packet(sock: socket.socket) -> bytes:
    head = _read_exactly(sock, 4)
    return head + _read_exactly(sock, struct.unpack("!I", head)[0] - 4)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def _without_redshift_parameters(packet: bytes) -> bytes:
    """A startup packet (length, protocol, then name NUL value NUL pairs, then NUL) without
    the parameters PostgreSQL does not know."""
    fields = packet[8:].split(b"\0")
    pairs = [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 2, 2) if fields[i]]
    body = packet[4:8] + b"".join(k + b"\0" + v + b"\0" for k, v in pairs if k not in REDSHIFT_ONLY) + b"\0"
    return struct.pack("!I", len(body) + 4) + body


def _relay_session_start(server: socket.socket, client: socket.socket) -> None:
    """The server's messages up to the first ReadyForQuery, ``server_version`` as a number."""
    while True:
        kind = _read_exactly(server, 1)
        head = _read_exactly(server, 4)
        body = _read_exactly(server, struct.unpack("!I", head)[0] - 4)
        if kind == b"S" and body.startswith(b"server_version\0"):
            version = body.split(b"\0")[1].split(b" ")[0]
            body = b"server_version\0" + version + b"\0"
            head = struct.pack("!I", len(body) + 4)
        client.sendall(kind + head + body)
        if kind in (b"Z", b"E"):  # ready, or refused
            return


def _relay(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    for sock in (source, sink):
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
