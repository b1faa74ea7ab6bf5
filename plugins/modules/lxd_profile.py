#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_profile
short_description: Manage LXD and Incus profiles
version_added: 0.1.0
description:
  - Create, update, rename and delete profiles on LXD or Incus.
  - Sections that are not given (O(config), O(devices), O(description)) are left as they are, whatever O(mode).
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
      - Name of the profile.
  config:
    description:
      - Config keys of the profile. Values may be YAML strings, numbers or booleans; they are sent as the strings
        LXD stores. A key set to V(null) is removed. Known keys are validated before any request.
      - With O(mode=replace), keys not given are removed.
  devices:
    description:
      - Devices of the profile by name. Each device given is managed whole; a device set to V(null) is removed.
    type: dict
  mode:
    description:
      - V(merge) manages only the config keys and devices named; nothing else is removed.
      - V(replace) makes the config and devices given exactly the profile's (a section not given is still left
        alone).
    type: str
    choices: [merge, replace]
    default: merge
  new_name:
    description:
      - Rename the profile to this name. When O(name) no longer exists and O(new_name) does, the rename is
        considered done.
    type: str
  force:
    description:
      - With O(state=absent), remove the profile from the instances that use it, then delete it. If any step
        fails, the instances get their profiles back.
      - Without it, deleting a profile in use fails and names the instances.
    type: bool
    default: false
seealso:
  - module: lxdops.server.lxd_instance
"""

EXAMPLES = r"""
- name: The macvlan profile of the manual (instances get addresses from the LAN)
  lxdops.server.lxd_profile:
    name: macvlan
    description: LAN access through the host's interface
    devices:
      eth0:
        type: nic
        nictype: macvlan
        parent: eno1
        name: eth0

- name: Tune the default profile without touching its devices
  lxdops.server.lxd_profile:
    name: default
    config:
      limits.memory: 4GiB
      snapshots.schedule: "50 20 * * *"
      snapshots.pattern: !unsafe "snap-{{ creation_date|date:'2006-01-02_15-04-05' }}"
      snapshots.expiry: 1d

- name: Rename
  lxdops.server.lxd_profile:
    name: macvlan
    new_name: lan

- name: Delete, detaching it from the instances that use it
  lxdops.server.lxd_profile:
    name: lan
    state: absent
    force: true
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [update]
profile:
  description: The profile as LXD shows it; empty when absent or about to be created in check mode.
  returned: success
  type: dict
  contains:
    name:
      description: Name.
      type: str
    config:
      description: Config keys.
      type: dict
    devices:
      description: Devices.
      type: dict
    used_by:
      description: API urls of the instances using the profile.
      type: list
      elements: str
      sample: ["/1.0/instances/web1"]
"""

from ansible_collections.lxdops.server.plugins.module_utils.args import OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC, options
from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.profile import ProfileManager


def main():
    run_manager(ProfileManager, options(
        OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC,
        devices=dict(type="dict"),
        mode=dict(type="str", choices=["merge", "replace"], default="merge"),
        new_name=dict(type="str"),
        force=dict(type="bool", default=False)))


if __name__ == "__main__":
    main()
