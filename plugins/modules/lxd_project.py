#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_project
short_description: Manage LXD and Incus projects
version_added: 0.1.0
description:
  - Create, update and delete LXD projects (what C(lxc project create), C(lxc project set) and
    C(lxc project delete) do).
  - Only the config keys given are managed; a key set to V(null) is removed. Keys not given are left as they are,
    including the C(features.*) defaults LXD sets on a new project.
  - A project in use (anything in it but its own default profile) is never deleted; the C(default) project is
    never deleted.
  - The connection option O(project) plays no part here.
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
      - Name of the project (no V(/), spaces, V(_) or quotes).
  state:
    description:
      - Whether the project exists.
      - V(absent) fails, changing nothing, while the project holds instances, images, volumes, networks or
        profiles other than its own default profile.
  config:
    description:
      - Config keys of the project; values may be YAML strings, numbers or booleans and are sent as strings.
        A key set to V(null) is removed.
      - C(features.*) (V(features.images), V(features.profiles), V(features.storage.volumes),
        V(features.networks)) take V(true) or V(false); LXD lets them change only while the project is empty.
      - C(limits.*) take whole numbers (C(limits.instances), C(limits.containers), C(limits.virtual-machines),
        C(limits.networks), C(limits.processes), C(limits.cpu)) or sizes (C(limits.memory), C(limits.disk),
        C(limits.disk.pool.<pool>)); C(restricted) takes V(true) or V(false) and C(restricted.*) the values LXD
        documents (V(block), V(allow), ...). These are checked before any request; other keys are left to the
        daemon to judge.
      - Keys that need an API extension the server lacks fail before anything is written, naming the extension -
        V(features.networks.zones) (C(projects_networks_zones)), V(features.storage.buckets) (C(storage_buckets)),
        C(limits.disk.pool.<pool>) (C(projects_limits_disk_pool)). Incus 6.0 has all three; LXD 5.0 none.
seealso:
  - module: lxdops.server.lxd_info
  - module: lxdops.server.lxd_instance
"""

EXAMPLES = r"""
- name: A project for the web instances, sharing the default project's profiles and images
  lxdops.server.lxd_project:
    name: web
    description: Web servers
    config:
      features.profiles: false
      features.images: false
      limits.instances: 20
      limits.memory: 64GiB

- name: A restricted project for a team
  lxdops.server.lxd_project:
    name: team-a
    config:
      restricted: true
      restricted.containers.nesting: allow
      restricted.devices.disk: managed

- name: At most 50GiB of the pool fast for the project (Incus; LXD 5.0 lacks projects_limits_disk_pool)
  lxdops.server.lxd_project:
    name: web
    config:
      limits.disk.pool.fast: 50GiB

- name: Lift the memory limit
  lxdops.server.lxd_project:
    name: web
    config:
      limits.memory: null

- name: Delete it (refused while anything is in it)
  lxdops.server.lxd_project:
    name: team-a
    state: absent
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create]
project:
  description: The project as LXD shows it; empty when absent or about to be created in check mode.
  returned: success
  type: dict
  contains:
    name:
      description: Name.
      type: str
      sample: web
    description:
      description: Description.
      type: str
    config:
      description: Config keys.
      type: dict
      sample: {"features.images": "false", "features.profiles": "false", "limits.instances": "20"}
    used_by:
      description: API urls of what is in the project.
      type: list
      elements: str
      sample: ["/1.0/instances/web1?project=web"]
"""

from ansible_collections.lxdops.server.plugins.module_utils.args import OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC, options
from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.project import ProjectManager


def main():
    run_manager(ProjectManager, options(OBJECT_ARGUMENT_SPEC, STATE_ARGUMENT_SPEC))


if __name__ == "__main__":
    main()
