# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning updates: what is sent, what the diff shows."""

from __future__ import annotations

from ansible_collections.lxdops.server.plugins.module_utils.diff import (
    DifferenceTracker,
    plan_config,
    plan_devices,
    plan_value,
)
from ansible_collections.lxdops.server.plugins.module_utils.instance import has_ipv4, instance_addresses
from ansible_collections.lxdops.server.plugins.module_utils.profile import used_by_instances
from ansible_collections.lxdops.server.plugins.module_utils.server import plan_server_config

CURRENT = {"user.a": "1", "user.b": "2", "volatile.eth0.hwaddr": "00:16:3e:00:00:01", "image.os": "busybox"}


def test_merge_sets_and_removes_only_named_keys():
    new, tracker = plan_config(CURRENT, {"user.a": "9", "user.b": None, "user.c": "3"})
    assert new == {"user.a": "9", "user.c": "3", "volatile.eth0.hwaddr": "00:16:3e:00:00:01", "image.os": "busybox"}
    assert tracker.diff() == {"before": {"config": {"user.a": "1", "user.b": "2"}},
                              "after": {"config": {"user.a": "9", "user.c": "3"}}}


def test_merge_no_change():
    new, tracker = plan_config(CURRENT, {"user.a": "1", "user.z": None})
    assert new == CURRENT and not tracker.has_changes


def test_replace_keeps_lxd_keys_and_drops_the_rest():
    new, tracker = plan_config(CURRENT, {"user.c": "3"}, replace=True)
    assert new == {"user.c": "3", "volatile.eth0.hwaddr": "00:16:3e:00:00:01", "image.os": "busybox"}
    assert sorted(tracker.paths()) == ["config.user.a", "config.user.b", "config.user.c"]


def test_unmanaged_config_is_untouched():
    new, tracker = plan_config(CURRENT, None)
    assert new == CURRENT and not tracker.has_changes


def test_devices_per_device_and_key():
    current = {"root": {"type": "disk", "path": "/", "pool": "default"},
               "eth0": {"type": "nic", "network": "br0", "name": "eth0"}}
    new, tracker = plan_devices(current, {"root": {"type": "disk", "path": "/", "pool": "fast"},
                                          "data": {"type": "disk", "path": "/d", "source": "/srv"}})
    assert new["root"]["pool"] == "fast" and "eth0" in new and "data" in new
    assert tracker.diff() == {
        "before": {"devices": {"root": {"pool": "default"}}},
        "after": {"devices": {"root": {"pool": "fast"}, "data": {"type": "disk", "path": "/d", "source": "/srv"}}},
    }


def test_devices_removal_and_replace():
    current = {"a": {"type": "none"}, "b": {"type": "none"}}
    new, tracker = plan_devices(current, {"a": None})
    assert new == {"b": {"type": "none"}} and tracker.paths() == ["devices.a"]
    new, tracker = plan_devices(current, {"c": {"type": "none"}}, replace=True)
    assert new == {"c": {"type": "none"}} and len(tracker) == 3


def test_a_device_given_is_managed_whole():
    current = {"eth0": {"type": "nic", "network": "br0", "name": "eth0", "mtu": "9000"}}
    new, tracker = plan_devices(current, {"eth0": {"type": "nic", "network": "br0", "name": "eth0"}})
    assert new["eth0"] == {"type": "nic", "network": "br0", "name": "eth0"}
    assert tracker.paths() == ["devices.eth0.mtu"]


def test_plan_value():
    tracker = DifferenceTracker()
    assert plan_value(tracker, ("profiles",), ["default"], None) == ["default"]
    assert plan_value(tracker, ("profiles",), ["default"], ["default", "lan"]) == ["default", "lan"]
    assert tracker.diff() == {"before": {"profiles": ["default"]}, "after": {"profiles": ["default", "lan"]}}


def test_server_config_defaults_and_secrets():
    current = {"core.https_address": ":8443", "core.trust_password": True}
    patch, tracker = plan_server_config(current, {"images.auto_update_interval": "6",
                                                  "core.trust_password": "pw",
                                                  "core.https_address": None})
    assert patch == {"core.https_address": ""}
    patch, tracker = plan_server_config(current, {"core.trust_password": "pw"}, update_secrets=True)
    assert patch == {"core.trust_password": "pw"}
    assert "pw" not in str(tracker.diff())
    patch, _tracker = plan_server_config({}, {"core.trust_password": None, "images.auto_update_interval": "12"})
    assert patch == {"images.auto_update_interval": "12"}


STATE = {"state": {"network": {
    "lo": {"addresses": [{"family": "inet", "address": "127.0.0.1", "scope": "local"}]},
    "eth0": {"addresses": [{"family": "inet", "address": "10.0.0.5", "scope": "global"},
                           {"family": "inet6", "address": "fe80::1", "scope": "link"}]},
    "eth1": {"addresses": []},
}}}


def test_addresses_and_ipv4():
    assert instance_addresses(STATE) == {"eth0": ["10.0.0.5"], "eth1": []}
    assert has_ipv4(STATE)
    assert not has_ipv4({"state": {"network": {"eth1": {"addresses": []}}}})
    assert instance_addresses(None) == {} and instance_addresses({"state": None}) == {}


def test_used_by_instances():
    assert used_by_instances(["/1.0/instances/web1", "/1.0/instances/db%201?project=prod", "/1.0/profiles/x"]) == \
        [("default", "web1"), ("prod", "db 1")]
