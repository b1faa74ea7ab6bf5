# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxd_project's pure parts: names, config values, what blocks a deletion."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.project import (
    blocking_users,
    check_project_name,
    needed_extensions,
    normalize_project_config,
)


@pytest.mark.parametrize("name", ["web", "team-a", "a.b", "Web2"])
def test_good_names(name):
    check_project_name("name", name)


@pytest.mark.parametrize("name", ["", "a/b", "a b", "a_b", "a'b", 'a"b', ".", "..", "*", " web", None])
def test_bad_names(name):
    with pytest.raises(ConfigError, match="not a valid project name"):
        check_project_name("name", name)


def test_config_values_become_lxd_strings():
    assert normalize_project_config({
        "features.profiles": False, "features.images": "true", "limits.instances": 10, "limits.memory": "64GiB",
        "limits.disk": "100GB", "limits.cpu": 8, "restricted": True, "restricted.devices.disk": "managed",
        "restricted.containers.privilege": "isolated", "restricted.networks.uplinks": "lxdbr0,eth0",
        "user.owner": "ops", "limits.processes": None, "limits.networks": "",
    }) == {
        "features.profiles": "false", "features.images": "true", "limits.instances": "10", "limits.memory": "64GiB",
        "limits.disk": "100GB", "limits.cpu": "8", "restricted": "true", "restricted.devices.disk": "managed",
        "restricted.containers.privilege": "isolated", "restricted.networks.uplinks": "lxdbr0,eth0",
        "user.owner": "ops", "limits.processes": None, "limits.networks": "",
    }
    assert normalize_project_config(None) is None


@pytest.mark.parametrize("config, words", [
    ({"features.profiles": "yes"}, ["'features.profiles'", "'yes'", "true or false"]),
    ({"features.networks": 1}, ["'features.networks'", "value 1", "true or false"]),
    ({"restricted": "on"}, ["'restricted'", "true or false"]),
    ({"limits.instances": -1}, ["'limits.instances'", "-1", "whole number"]),
    ({"limits.cpu": "0-3"}, ["'limits.cpu'", "'0-3'", "whole number"]),
    ({"limits.memory": "50%"}, ["'limits.memory'", "'50%'", "size"]),
    ({"restricted.containers.nesting": "yes"}, ["nesting", "block or allow"]),
    ({"limits.disk": {"a": 1}}, ["'limits.disk'", "scalar"]),
    ({"limits.disk.pool.fast": "1 GB"}, ["'limits.disk.pool.fast'", "size"]),
])
def test_bad_config(config, words):
    with pytest.raises(ConfigError) as caught:
        normalize_project_config(config)
    for word in words:
        assert word in str(caught.value)


def test_blocking_users():
    assert blocking_users("web", ["/1.0/profiles/default?project=web"]) == []
    assert blocking_users("web", None) == []
    # The default project's default profile, or another profile, is not the project's own default profile.
    used = ["/1.0/profiles/default", "/1.0/profiles/extra?project=web", "/1.0/instances/c1?project=web",
            "/1.0/images/abc?project=web", "/1.0/profiles/default?project=web"]
    assert blocking_users("web", used) == used[:4]


def test_keys_that_need_an_extension():
    assert needed_extensions({
        "features.storage.buckets": "true", "features.networks.zones": "false", "limits.disk.pool.fast": "5GiB",
        "limits.disk.pool.slow": None, "limits.disk": "5GiB", "features.profiles": "true", "limits.disk.pool.x": "",
    }) == [("features.networks.zones", "projects_networks_zones"), ("features.storage.buckets", "storage_buckets"),
           ("limits.disk.pool.fast", "projects_limits_disk_pool")]
    assert needed_extensions(None) == []
    assert normalize_project_config({"limits.disk.pool.fast": "5GiB"}) == {"limits.disk.pool.fast": "5GiB"}
