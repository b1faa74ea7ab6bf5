#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_network
short_description: Manage LXD and Incus networks
version_added: 0.1.0
description:
  - Create, update and delete managed networks of LXD or Incus (bridges and the other network types).
  - Only the config keys given are managed; a key set to V(null) is removed.
  - V(ipv4.address) and V(ipv6.address) are validated before any request - V(auto), V(none), or the bridge's own
    address with its prefix length.
  - Deleting a network in use is refused, naming its users. Host interfaces the daemon does not manage are never touched.
  - On a cluster, a new network is created the way LXD wants it there - defined on every member with that member's
    own keys (V(parent), V(bridge.external_interfaces), V(bgp.ipv4.nexthop), V(bgp.ipv6.nexthop)), then created
    cluster-wide with the other keys. Those keys in O(config) apply to every member unless O(member_config) gives a
    member its own. An existing network's member-specific keys are not compared.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
  - lxdops.server.object
  - lxdops.server.state
options:
  name:
    description:
      - Name of the network (also its interface name on the host, so at most 15 characters).
  type:
    description:
      - Network type; V(bridge) when creating without it. It cannot change.
    type: str
    choices: [bridge, macvlan, sriov, ovn, physical]
  config:
    description:
      - Network config keys (V(ipv4.address), V(ipv4.nat), V(ipv6.address), V(dns.domain), V(bridge.mtu) ...).
        Values may be YAML scalars. A key set to V(null) is removed; keys not given are left alone.
  member_config:
    description:
      - On a cluster, member-specific keys per member, by member name (for example V(lxd2) with V(parent=eno2)),
        used when the network is created. Only member-specific keys are accepted; a name that is not a member is refused.
      - Fails on a server that is not clustered.
    type: dict
seealso:
  - module: lxdops.server.lxd_profile
"""

EXAMPLES = r"""
- name: The bridge of the manual, without NAT or IPv6
  lxdops.server.lxd_network:
    name: lxdbr0
    config:
      ipv4.address: 10.10.10.1/24
      ipv4.nat: false
      ipv6.address: none

- name: On a cluster, a macvlan network whose parent differs on one member
  lxdops.server.lxd_network:
    name: uplink
    type: macvlan
    config:
      parent: eno1
    member_config:
      lxd3:
        parent: enp5s0
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create]
network:
  description: The network as LXD shows it; empty when absent or about to be created in check mode.
  returned: success
  type: dict
  contains:
    config:
      description: Config keys.
      type: dict
    used_by:
      description: API urls of what uses the network.
      type: list
      elements: str
    managed:
      description: Whether LXD manages it (always true for networks this module manages).
      type: bool
"""

from ansible_collections.lxdops.server.plugins.module_utils.args import OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC, options
from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.network import NETWORK_TYPES, NetworkManager


def main():
    run_manager(NetworkManager, options(
        OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC,
        type=dict(type="str", choices=list(NETWORK_TYPES)),
        member_config=dict(type="dict")))


if __name__ == "__main__":
    main()
