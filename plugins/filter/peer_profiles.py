# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: peer_profiles
short_description: Profiles of one LXD server as another server should hold them
version_added: 0.1.0
description:
  - Takes the profiles of a server as C(GET /1.0/profiles?recursion=1) returns them and gives, for each, the
    O(ignore:name), C(description), C(config) and C(devices) that lxdops.server.lxd_profile takes, with the
    C(parent) of nic devices renamed through a mapping (the snapshot server's interfaces may be named otherwise).
author:
  - lxdops developers (@lxdops)
options:
  _input:
    description: Profiles as the LXD API returns them.
    type: list
    elements: dict
    required: true
  parents:
    description: Parent interface on the source server -> parent interface on the peer.
    type: dict
    default: {}
  exclude:
    description: Profile names to leave out.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Profiles for the snapshot server, with the primary's bond0 named eno1 there
  ansible.builtin.set_fact:
    peer: "{{ primary_profiles | lxdops.server.peer_profiles({'bond0': 'eno1'}) }}"
"""

RETURN = r"""
_value:
  description: One entry per profile, in the order given.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


def peer_profiles(profiles, parents=None, exclude=None):
    parents = parents or {}
    if not isinstance(parents, dict):
        raise AnsibleFilterError("peer_profiles: parents must be a mapping of interface names, got %r" % (parents,))
    result = []
    for profile in profiles or []:
        if not isinstance(profile, dict) or "name" not in profile:
            raise AnsibleFilterError("peer_profiles: expected profiles as the LXD API returns them, got %r"
                                     % (profile,))
        if profile["name"] in (exclude or []):
            continue
        devices = {}
        for name, device in (profile.get("devices") or {}).items():
            device = dict(device)
            if device.get("type") == "nic" and device.get("parent") in parents:
                device["parent"] = parents[device["parent"]]
            devices[name] = device
        result.append({"name": profile["name"], "description": profile.get("description", ""),
                       "config": dict(profile.get("config") or {}), "devices": devices})
    return result


class FilterModule:
    def filters(self):
        return {"peer_profiles": peer_profiles}
