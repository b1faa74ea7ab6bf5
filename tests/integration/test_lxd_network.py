# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_network against the lab's real daemon: bridges without NAT or a route out."""

from __future__ import annotations

import random
import subprocess
import time
import uuid

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, api_path


@pytest.fixture
def bridge_name(primary):
    # Interface names are at most 15 characters; the lab cleans networks named lxdops-t*.
    name = "lxdops-t" + uuid.uuid4().hex[:6]
    yield name
    for attempt in range(3):
        if primary.exists(api_path("networks", name)) is None:
            return
        try:
            primary.delete(api_path("networks", name))
            return
        except LXDError as exc:
            # The two daemons of the lab share the host's interfaces: Incus lists a bridge's children from them, and
            # one the other half removes meanwhile fails its delete ("Device ... does not exist"). Once more, then.
            if "does not exist" not in exc.message or attempt == 2:
                raise
            time.sleep(1)


@pytest.fixture
def subnet(primary):
    """Bridge addresses no network of the host uses now (the LXD and Incus halves run side by side; a network left
    by an interrupted run keeps its subnet)."""
    used = set(line.split()[0] for line in subprocess.run(["ip", "-4", "-o", "route", "show"], capture_output=True,
                                                          text=True, check=True).stdout.splitlines() if line)
    free = [third for third in range(64, 128) if "10.213.%d.0/24" % third not in used
            and "10.213.%d.0/24" % (third + 1) not in used and "10.213.%d.0/24" % (third + 2) not in used]
    third = random.choice(free[:-2])
    return lambda n: "10.213.%d.1/24" % (third + n)


def test_bridge_create_update_delete(run_module, primary, bridge_name, subnet):
    params = dict(name=bridge_name, config={"ipv4.address": subnet(0), "ipv4.nat": False,
                                            "ipv6.address": "none"}, description="test bridge")
    check = run_module("lxd_network", params, check=True)
    assert check["changed"] and primary.exists(api_path("networks", bridge_name)) is None
    first = run_module("lxd_network", params)
    assert first["changed"] and first["network"]["type"] == "bridge"
    config = primary.get(api_path("networks", bridge_name)).metadata["config"]
    assert config["ipv4.address"] == subnet(0) and config["ipv4.nat"] == "false"
    second = run_module("lxd_network", params)
    assert not second["changed"] and second["_requests"] == 1
    result = run_module("lxd_network", dict(name=bridge_name, config={"ipv4.address": subnet(1),
                                                                      "ipv4.dhcp": None}))
    assert result["changed"]
    assert result["diff"] == {"before": {"config": {"ipv4.address": subnet(0)}},
                              "after": {"config": {"ipv4.address": subnet(1)}}}
    assert run_module("lxd_network", dict(name=bridge_name, state="absent"))["changed"]
    assert primary.exists(api_path("networks", bridge_name)) is None


def test_network_in_use_is_not_deleted(run_module, primary, bridge_name, unique, subnet):
    created = run_module("lxd_network", dict(name=bridge_name, config={"ipv4.address": subnet(2), "ipv4.nat": False,
                                                                       "ipv6.address": "none"}))
    assert created["changed"] and not created.get("failed"), created.get("msg")
    profile = unique("onbridge")
    used = run_module("lxd_profile", dict(name=profile, devices={"eth0": {"type": "nic", "network": bridge_name,
                                                                          "name": "eth0"}}))
    try:
        assert not used.get("failed"), used.get("msg")
        result = run_module("lxd_network", dict(name=bridge_name, state="absent"))
        assert result.get("failed") and profile in result["msg"], result
    finally:
        # The profile goes first, so that the fixture can delete the network.
        run_module("lxd_profile", dict(name=profile, state="absent"))


def test_host_interfaces_are_never_touched(run_module, primary):
    result = run_module("lxd_network", dict(name="lo", state="absent"))
    assert result["failed"] and "that %s does not manage" % primary.daemon_name() in result["msg"]


@pytest.mark.parametrize("config, words", [
    ({"ipv4.address": "10.213.93.0/24"}, ["network address"]),
    ({"ipv4.nat": "maybe"}, ["ipv4.nat"]),
])
def test_bad_input_fails_before_any_request(run_module, bridge_name, config, words):
    result = run_module("lxd_network", dict(name=bridge_name, config=config))
    assert result["failed"] and result["_requests"] == 0
    for word in words:
        assert word in result["msg"]
