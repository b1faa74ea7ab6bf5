# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Websocket framing (RFC 6455) over a local socket pair: what exec streams rely on."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import WebSocket, _mask


def server_frame(opcode, payload, fin=True):
    """An unmasked frame as a server sends it."""
    header = bytearray([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        header.append(len(payload))
    elif len(payload) < 1 << 16:
        header.append(126)
        header += struct.pack("!H", len(payload))
    else:
        header.append(127)
        header += struct.pack("!Q", len(payload))
    return bytes(header) + payload


def read_client_frame(sock):
    """Decode one masked client frame."""
    def exact(count):
        data = b""
        while len(data) < count:
            data += sock.recv(count - len(data))
        return data
    first, second = exact(2)
    assert second & 0x80, "client frames must be masked"
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", exact(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exact(8))[0]
    mask = exact(4)
    return first & 0x0F, _mask(exact(length), mask)


@pytest.fixture
def pair():
    client, server = socket.socketpair()
    yield WebSocket(client), server
    client.close()
    server.close()


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 300000])
def test_client_frames_round_trip(pair, size):
    ws, server = pair
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    # Sent from a thread: a large frame does not fit the socket buffer until it is read.
    sender = threading.Thread(target=ws.send, args=(payload,))
    sender.start()
    assert read_client_frame(server) == (0x2, payload)
    sender.join()


def test_messages_fragments_ping_and_end(pair):
    ws, server = pair
    server.sendall(server_frame(0x2, b"one") + server_frame(0x2, b"tw", fin=False) + server_frame(0x0, b"o")
                   + server_frame(0x9, b"ping?") + server_frame(0x2, b"three"))
    assert ws.recv() == b"one"
    assert ws.recv() == b"two"
    assert ws.recv() == b"three"
    assert read_client_frame(server) == (0xA, b"ping?")
    server.sendall(server_frame(0x1, b""))
    assert ws.recv() is None


def test_close_frame_and_eof_end_the_stream(pair):
    ws, server = pair
    server.sendall(server_frame(0x8, struct.pack("!H", 1000)))
    assert ws.recv() is None
    chunks = []
    server.sendall(server_frame(0x2, b"tail"))
    server.shutdown(socket.SHUT_WR)
    ws.drain_into(chunks)
    assert chunks == [b"tail"]


def test_close_sends_a_close_frame_once(pair):
    ws, server = pair
    ws.close()
    ws.close()
    opcode, payload = read_client_frame(server)
    assert opcode == 0x8 and payload == struct.pack("!H", 1000)


def test_ping_after_the_peer_closed_still_yields_what_it_sent(pair):
    # LXD can ping and close at once: the pong cannot be written, the data sent before must still be read.
    ws, server = pair
    server.sendall(server_frame(0x9, b"ping?") + server_frame(0x2, b"output") + server_frame(0x1, b""))
    ws._sock.shutdown(socket.SHUT_WR)
    chunks = []
    ws.drain_into(chunks)
    assert chunks == [b"output"]


def test_abort_wakes_a_reader_blocked_in_another_thread(pair):
    ws, _server = pair
    chunks = []
    reader = threading.Thread(target=ws.drain_into, args=(chunks,))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive()
    ws.abort()
    reader.join(2)
    assert not reader.is_alive() and chunks == []


def test_a_frame_cut_short_ends_the_stream(pair):
    ws, server = pair
    server.sendall(server_frame(0x2, b"whole") + server_frame(0x2, b"cut short")[:5])
    server.shutdown(socket.SHUT_WR)
    chunks = []
    ws.drain_into(chunks)
    assert chunks == [b"whole"]


def test_tcp_streams_keep_alive():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    peer, _addr = listener.accept()
    try:
        WebSocket(client)
        assert client.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
    finally:
        for sock in (client, peer, listener):
            sock.close()
