# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inventory plugin's pure parts: filters, addresses, host variables."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.inventory.lxd import (
    addresses_by_interface,
    host_variables,
    instance_matches,
    preferred_address,
)

INSTANCE = {
    "name": "web1", "status": "Running", "type": "container", "project": "prod", "location": "none",
    "profiles": ["default", "macvlan"], "architecture": "x86_64", "description": "",
    "created_at": "2026-01-01T00:00:00Z", "last_used_at": "2026-01-02T00:00:00Z",
    "expanded_config": {"image.os": "Debian", "image.release": "bookworm", "security.nesting": "true",
                        "volatile.idmap.next": "[...]", "volatile.eth0.hwaddr": "00:16:3e:00:00:01"},
    "expanded_devices": {"root": {"type": "disk", "path": "/", "pool": "default"}},
    "snapshots": [{"name": "s1"}, {"name": "s2"}],
    "state": {"network": {
        "lo": {"addresses": [{"family": "inet", "address": "127.0.0.1", "scope": "local"}]},
        "eth0": {"addresses": [{"family": "inet6", "address": "fe80::1", "scope": "link"},
                               {"family": "inet6", "address": "fd00::5", "scope": "global"}]},
        "eth1": {"addresses": [{"family": "inet", "address": "192.0.2.5", "scope": "global"}]},
    }},
}


@pytest.mark.parametrize("filters, expected", [
    ({}, True),
    ({"status": ["running"]}, True),
    ({"status": ["STOPPED", "frozen"]}, False),
    ({"type": "container"}, True),
    ({"type": "virtual-machine"}, False),
    ({"type": "both"}, True),
    ({"profiles": ["macvlan"]}, True),
    ({"profiles": ["macvlan", "gpu"]}, False),
    ({"projects": ["prod"]}, True),
    ({"projects": ["default"]}, False),
    ({"name_regex": "web"}, True),
    ({"name_regex": "db"}, False),
    ({"config_filter": {"security.nesting": True}}, True),
    ({"config_filter": {"security.nesting": "false"}}, False),
    ({"config_filter": {"user.missing": "x"}}, False),
])
def test_filters(filters, expected):
    assert instance_matches(INSTANCE, filters) is expected


def test_addresses_leave_out_loopback_and_link_local():
    assert addresses_by_interface(INSTANCE) == {"eth0": {"inet": [], "inet6": ["fd00::5"]},
                                                "eth1": {"inet": ["192.0.2.5"], "inet6": []}}
    assert addresses_by_interface({"name": "x"}) == {}


def test_preferred_address_falls_back_to_other_interfaces():
    addresses = addresses_by_interface(INSTANCE)
    assert preferred_address(addresses, "eth0", "inet") == "192.0.2.5"
    assert preferred_address(addresses, "eth0", "inet6") == "fd00::5"
    assert preferred_address({}, "eth0", "inet") is None


def test_host_variables():
    hostvars = host_variables(INSTANCE, "primary")
    assert hostvars["lxd_server"] == "primary" and hostvars["lxd_project"] == "prod"
    assert hostvars["lxd_os"] == "Debian" and hostvars["lxd_release"] == "bookworm"
    assert hostvars["lxd_snapshots_count"] == 2
    assert "volatile.idmap.next" not in hostvars["lxd_config"]
    assert hostvars["lxd_config"]["volatile.eth0.hwaddr"] == "00:16:3e:00:00:01"
    assert hostvars["lxd_devices"]["root"]["pool"] == "default"
    assert hostvars["lxd_daemon"] == "lxd"
    assert host_variables(INSTANCE, "primary", "incus")["lxd_daemon"] == "incus"
    assert set(hostvars) == {"lxd_name", "lxd_server", "lxd_daemon", "lxd_project", "lxd_status", "lxd_type", "lxd_location",
                             "lxd_profiles", "lxd_architecture", "lxd_os", "lxd_release", "lxd_description",
                             "lxd_created_at", "lxd_last_used_at", "lxd_addresses", "lxd_snapshots_count",
                             "lxd_config", "lxd_devices"}
