# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Network addressing keys: what LXD takes, and why the rest is refused."""

from __future__ import annotations

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.network import normalize_network_config


def test_accepted():
    assert normalize_network_config({"ipv4.address": "10.10.10.1/24", "ipv4.nat": False, "ipv6.address": "none",
                                     "bridge.mtu": 1500, "dns.domain": "lxd", "user.x": None}) == \
        {"ipv4.address": "10.10.10.1/24", "ipv4.nat": "false", "ipv6.address": "none", "bridge.mtu": "1500",
         "dns.domain": "lxd", "user.x": None}
    normalize_network_config({"ipv6.address": "fd42::1/64", "ipv4.address": "auto"})


@pytest.mark.parametrize("config, words", [
    ({"ipv4.address": "10.10.10.0/24"}, ["network address", "10.10.10.1/24"]),
    ({"ipv4.address": "10.10.10.1"}, ["prefix length"]),
    ({"ipv4.address": "fd42::1/64"}, ["IPv6 address"]),
    ({"ipv4.address": "ten.ten"}, ["'ten.ten'", "auto, none"]),
    ({"ipv6.address": "10.0.0.1/24"}, ["IPv4 address"]),
    ({"ipv4.nat": "maybe"}, ["ipv4.nat", "true or false"]),
    ({"bridge.mtu": 100}, ["bridge.mtu", "576"]),
])
def test_refused(config, words):
    with pytest.raises(ConfigError) as err:
        normalize_network_config(config)
    for word in words:
        assert word in str(err.value)
