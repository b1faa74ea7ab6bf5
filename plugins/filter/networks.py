# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: networks
short_description: Validate and normalise a list of addresses and networks
version_added: 0.1.0
description:
  - Takes addresses (V(192.0.2.10)) and networks (V(192.0.2.0/24), V(2001:db8::/64)) and returns them as networks
    in CIDR form, split by family, failing with the bad entry named when one is not an address or network.
  - Uses netaddr.
author:
  - lxdops developers (@lxdops)
options:
  _input:
    description: Addresses and networks.
    type: list
    elements: str
    required: true
  option:
    description: The variable name to show in error messages.
    type: str
    default: networks
"""

EXAMPLES = r"""
- name: Admin networks for the firewall
  ansible.builtin.set_fact:
    admin: "{{ ['192.0.2.0/24', '2001:db8::1'] | lxdops.server.networks('lxd_firewall_admin_networks') }}"
# admin == {'ipv4': ['192.0.2.0/24'], 'ipv6': ['2001:db8::1/128'], 'all': ['192.0.2.0/24', '2001:db8::1/128']}
"""

RETURN = r"""
_value:
  description: The networks, in CIDR form, by family.
  type: dict
  contains:
    ipv4:
      description: IPv4 networks.
      type: list
      elements: str
    ipv6:
      description: IPv6 networks.
      type: list
      elements: str
    all:
      description: Both, in the order given.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

try:
    import netaddr
except ImportError:
    netaddr = None


def networks(values, option="networks"):
    if netaddr is None:
        raise AnsibleFilterError("the lxdops.server.networks filter needs the Python library netaddr on the "
                                 "controller (pip install netaddr)")
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise AnsibleFilterError("%s must be a list of addresses or networks, not %r" % (option, values))
    result = {"ipv4": [], "ipv6": [], "all": []}
    for value in values:
        try:
            network = netaddr.IPNetwork(str(value).strip())
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise AnsibleFilterError("%s: %r is not an IP address or network (give 192.0.2.10, 192.0.2.0/24 or "
                                     "2001:db8::/64)" % (option, value))
        if "/" in str(value) and network.ip != network.network:
            raise AnsibleFilterError("%s: %r has host bits set; did you mean %s?" % (option, value, network.cidr))
        cidr = str(network.cidr)
        result["ipv%d" % network.version].append(cidr)
        result["all"].append(cidr)
    return result


def networks_contain(values, address):
    """True when the address is inside one of the networks."""
    if netaddr is None:
        raise AnsibleFilterError("the lxdops.server.networks_contain filter needs netaddr on the controller")
    try:
        ip = netaddr.IPAddress(str(address).strip())
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise AnsibleFilterError("%r is not an IP address" % (address,))
    return any(ip in netaddr.IPNetwork(str(value)) for value in values)


class FilterModule:
    def filters(self):
        return {"networks": networks, "networks_contain": networks_contain}
