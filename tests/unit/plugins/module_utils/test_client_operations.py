# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How the client awaits an operation, over the answers LXD 5.0 and Incus 6.0 were seen to give. No daemon."""

from __future__ import annotations

import json

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDClient,
    LXDConflict,
    LXDError,
    LXDNotFound,
    _Raw,
)

OP = "/1.0/operations/6168c52c"
NETWORK_ERROR = 'Invalid devices: Failed to load network "no-such-net" for project "default": Network not found'


def sync(metadata):
    return 200, {"type": "sync", "status": "Success", "status_code": 200, "error_code": 0, "error": "",
                 "metadata": metadata}


def error(code, message, http_status=200):
    return http_status, {"type": "error", "status": "", "status_code": 0, "error_code": code, "error": message,
                         "metadata": None}


def operation(status, err=""):
    return {"id": "6168c52c", "status": status, "status_code": {"Success": 200, "Running": 103}.get(status, 400),
            "err": err, "metadata": None}


class _Scripted(LXDClient):
    """A client whose HTTP exchanges are answered from a script: {path: [answers in order]}."""

    def __init__(self, script):
        super(_Scripted, self).__init__(url="unix:/nonexistent/unix.socket", environ={})
        self.script = dict((path, list(answers)) for path, answers in script.items())
        self.sent = []

    def _send(self, method, path, params, data, headers, timeout, sink=None):
        self.sent.append((method, path))
        status, envelope = self.script[path].pop(0)
        return _Raw(status, "OK" if status < 400 else "Error", {}, json.dumps(envelope).encode("utf-8"))


def test_success_returns_the_operation():
    client = _Scripted({OP + "/wait": [sync(operation("Success"))]})
    assert client.wait_operation(OP)["status"] == "Success"


def test_lxd_failure_in_the_wait_answer():
    client = _Scripted({OP + "/wait": [sync(operation("Failure", NETWORK_ERROR))]})
    with pytest.raises(LXDError, match="no-such-net") as caught:
        client.wait_operation(OP, what="PUT /1.0/instances/c1")
    assert "PUT /1.0/instances/c1 failed" in caught.value.message


def test_incus_failure_is_read_from_the_operation_itself():
    # Incus answers the wait of a failed operation with its error, HTTP 200 and the error's code (404 here).
    client = _Scripted({OP + "/wait": [error(404, NETWORK_ERROR)],
                        OP: [sync(operation("Failure", NETWORK_ERROR))]})
    with pytest.raises(LXDError, match="no-such-net") as caught:
        client.wait_operation(OP, what="PUT /1.0/instances/c1")
    # A failed change is not "not found": callers take LXDNotFound to mean the object is absent.
    assert not isinstance(caught.value, LXDNotFound)
    assert client.sent == [("GET", OP + "/wait"), ("GET", OP)]


def test_incus_conflict_keeps_its_kind():
    client = _Scripted({OP + "/wait": [error(409, "Instance already exists")],
                        OP: [sync(operation("Failure", "Instance already exists"))]})
    with pytest.raises(LXDConflict):
        client.wait_operation(OP)


@pytest.mark.parametrize("wait_answer", [
    error(404, "Operation not found"),
    error(404, "Operation not found", http_status=404),
    error(503, "Missing event connection with target cluster member"),
])
def test_an_operation_that_cannot_be_read_is_never_success(wait_answer):
    client = _Scripted({OP + "/wait": [wait_answer], OP: [error(404, "Operation not found")]})
    with pytest.raises(LXDError, match="could not be read") as caught:
        client.wait_operation(OP, what="PUT /1.0/instances/c1/state")
    assert not isinstance(caught.value, LXDNotFound)
    assert wait_answer[1]["error"] in caught.value.message


def test_an_operation_still_running_is_waited_for_again():
    client = _Scripted({OP + "/wait": [error(500, "interrupted"), sync(operation("Success"))],
                        OP: [sync(operation("Running"))]})
    assert client.wait_operation(OP, timeout=30)["status"] == "Success"
