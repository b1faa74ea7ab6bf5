# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lxdops.server.plugins.filter.peer_profiles import peer_profiles

PROFILES = [
    {"name": "default", "description": "Default", "config": {}, "used_by": ["/1.0/instances/c1"],
     "devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}},
    {"name": "lan", "description": "", "config": {"limits.cpu": "2"},
     "devices": {"eth0": {"type": "nic", "nictype": "macvlan", "parent": "bond0"},
                 "eth1": {"type": "nic", "nictype": "macvlan", "parent": "eno2"}}},
]


def test_parents_are_mapped_and_the_rest_kept():
    lan = peer_profiles(PROFILES, {"bond0": "eno1"})[1]
    assert lan["devices"]["eth0"]["parent"] == "eno1"
    assert lan["devices"]["eth1"]["parent"] == "eno2"
    assert lan["config"] == {"limits.cpu": "2"}
    # The source is not changed.
    assert PROFILES[1]["devices"]["eth0"]["parent"] == "bond0"


def test_only_what_lxd_profile_takes():
    default = peer_profiles(PROFILES)[0]
    assert sorted(default) == ["config", "description", "devices", "name"]


def test_exclude():
    assert [p["name"] for p in peer_profiles(PROFILES, exclude=["default"])] == ["lan"]


@pytest.mark.parametrize("profiles, parents", [([{"config": {}}], {}), (PROFILES, ["bond0"])])
def test_bad_input(profiles, parents):
    with pytest.raises(AnsibleFilterError, match="peer_profiles"):
        peer_profiles(profiles, parents)
