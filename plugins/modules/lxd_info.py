#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_info
short_description: Read an LXD or Incus server's state
version_added: 0.1.0
description:
  - Read the server, its instances (with their status), profiles, networks, storage pools, custom storage volumes
    and projects, over the unix socket or https. Changes nothing.
  - One request per section read (plus one to look up O(project) when it is not V(default), and one per project
    for profiles with O(all_projects=true) on a daemon without the C(profiles_all_projects) API extension, such as
    LXD 5.0; Incus 6.0 has it). V(storage_volumes) takes one request per pool (and one for the pools when
    V(storage_pools) is not read).
  - Any failed request fails the task with a message that names what could not be read and why (socket missing,
    daemon down, permission denied, TLS failure, client not trusted, project missing). A failed read is never
    returned as an empty list.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
attributes:
  check_mode:
    support: full
    details: Reads the same in check mode.
  diff_mode:
    support: none
options:
  gather:
    description:
      - The sections to read. Only these keys are returned. V(storage_volumes) is read only when asked for.
    type: list
    elements: str
    choices: [server, instances, profiles, networks, storage_pools, storage_volumes, projects]
    default: [server, instances, profiles, networks, storage_pools, projects]
  all_projects:
    description:
      - Read the instances, profiles and custom volumes of every project; each item carries its C(project).
      - Without it, those of O(project) only.
      - Networks and custom volumes follow O(project); storage pools and projects are server-wide.
    type: bool
    default: false
  instances:
    description:
      - Return only the instances with these names (with O(all_projects=true), those of every project).
      - A name that no instance has is not an error; it is listed in RV(missing).
      - Needs V(instances) in O(gather). An empty list is refused (it would make every instance look absent).
    type: list
    elements: str
seealso:
  - module: lxdops.server.lxd_instance
  - module: lxdops.server.lxd_project
"""

EXAMPLES = r"""
- name: Which instances run on the primary, in every project
  lxdops.server.lxd_info:
    url: https://primary.example.net:8443
    server_cert: /etc/lxdops/primary.crt
    gather: [instances]
    all_projects: true
  register: primary_state

- name: Refuse to go on while the primary runs one of them
  ansible.builtin.assert:
    that: primary_state.instances | selectattr('status', 'equalto', 'Running') | list | length == 0

- name: Two instances of one project
  lxdops.server.lxd_info:
    project: web
    gather: [instances]
    instances: [web1, web2]
  register: web

- name: Server version and extensions
  lxdops.server.lxd_info:
    gather: [server]
  register: server

- name: Custom volumes of every project, with what uses them
  lxdops.server.lxd_info:
    gather: [storage_volumes]
    all_projects: true
  register: volumes
"""

RETURN = r"""
server:
  description: The server, as C(lxc info) or C(incus info) shows it; RV(server.server) says which daemon answers.
    Secret config keys (C(core.trust_password), C(loki.auth.password) and the like) are left out.
  returned: when V(server) is in O(gather)
  type: dict
  contains:
    server_name:
      description: The server's (or cluster member's) name.
      type: str
      sample: lxd-primary
    server:
      description: The daemon, V(lxd) or V(incus).
      type: str
      sample: lxd
    server_version:
      description: The daemon's version.
      type: str
      sample: 5.0.2
    server_clustered:
      description: Whether the server is a cluster member.
      type: bool
    api_version:
      description: The REST API version.
      type: str
      sample: "1.0"
    api_status:
      description: The API's status.
      type: str
      sample: stable
    auth:
      description: How the server sees this client.
      type: str
      sample: trusted
    api_extensions:
      description: The API extensions the server has.
      type: list
      elements: str
    addresses:
      description: The server's https addresses.
      type: list
      elements: str
    architectures:
      description: The architectures it runs.
      type: list
      elements: str
    certificate:
      description: The server certificate (PEM), to pin elsewhere with O(server_cert).
      type: str
    certificate_fingerprint:
      description: Its SHA-256 fingerprint.
      type: str
    kernel:
      description: Kernel name.
      type: str
    kernel_version:
      description: Kernel version.
      type: str
    kernel_architecture:
      description: Kernel architecture.
      type: str
    os_name:
      description: The host's operating system.
      type: str
    os_version:
      description: Its version.
      type: str
    driver:
      description: Instance drivers (C(lxc), C(qemu)).
      type: str
    driver_version:
      description: Their versions.
      type: str
    storage:
      description: Storage drivers in use.
      type: str
    storage_version:
      description: Their versions.
      type: str
    firewall:
      description: The firewall driver LXD uses (C(xtables), C(nftables)).
      type: str
    config:
      description: Server config keys, without the secret ones.
      type: dict
      sample: {"core.https_address": "192.0.2.10:8443"}
instances:
  description: The instances as C(GET /1.0/instances?recursion=1) gives them.
  returned: when V(instances) is in O(gather)
  type: list
  elements: dict
  contains:
    name:
      description: Name.
      type: str
    project:
      description: Project.
      type: str
    status:
      description: Run state.
      type: str
      sample: Running
    type:
      description: V(container) or V(virtual-machine).
      type: str
    config:
      description: The instance's own config.
      type: dict
    devices:
      description: The instance's own devices.
      type: dict
    profiles:
      description: Profiles in order.
      type: list
      elements: str
    location:
      description: The cluster member it is on (V(none) when not clustered).
      type: str
    description:
      description: Description.
      type: str
    expanded_config:
      description: Config with the profiles' applied.
      type: dict
    expanded_devices:
      description: Devices with the profiles' applied.
      type: dict
missing:
  description: The names in O(instances) that no instance has.
  returned: when O(instances) is given
  type: list
  elements: str
  sample: [web3]
profiles:
  description: Profiles as C(GET /1.0/profiles?recursion=1) gives them, each with its C(project).
  returned: when V(profiles) is in O(gather)
  type: list
  elements: dict
  contains:
    name:
      description: Name.
      type: str
    project:
      description: The project the profile belongs to.
      type: str
    config:
      description: Config keys.
      type: dict
    devices:
      description: Devices.
      type: dict
    used_by:
      description: API urls of the instances using it.
      type: list
      elements: str
networks:
  description: Networks as C(GET /1.0/networks?recursion=1) gives them (managed ones have C(managed=true)).
  returned: when V(networks) is in O(gather)
  type: list
  elements: dict
storage_pools:
  description: Storage pools as C(GET /1.0/storage-pools?recursion=1) gives them.
  returned: when V(storage_pools) is in O(gather)
  type: list
  elements: dict
storage_volumes:
  description:
    - Custom storage volumes of every pool, as C(GET /1.0/storage-pools/<pool>/volumes?recursion=1) gives them
      (snapshots and instance volumes left out), each with its C(pool).
  returned: when V(storage_volumes) is in O(gather)
  type: list
  elements: dict
  sample: [{"name": "pgdata", "pool": "default", "content_type": "filesystem", "config": {"size": "10GiB"},
            "project": "default", "used_by": ["/1.0/instances/db1"]}]
projects:
  description: Projects.
  returned: when V(projects) is in O(gather)
  type: list
  elements: dict
  contains:
    name:
      description: Name.
      type: str
    description:
      description: Description.
      type: str
    config:
      description: Config (C(features.*), C(limits.*), C(restricted.*)).
      type: dict
    used_by:
      description: API urls of what is in the project.
      type: list
      elements: str
"""

from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.info import DEFAULT_GATHER, SECTIONS, InfoGatherer


def main():
    run_manager(InfoGatherer, dict(
        gather=dict(type="list", elements="str", choices=list(SECTIONS), default=list(DEFAULT_GATHER)),
        all_projects=dict(type="bool", default=False),
        instances=dict(type="list", elements="str")))


if __name__ == "__main__":
    main()
