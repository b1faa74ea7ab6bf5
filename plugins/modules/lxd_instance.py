#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_instance
short_description: Manage LXD containers and virtual machines
version_added: 0.1.0
description:
  - Create, update, start, stop, restart, freeze and delete LXD instances (containers and virtual machines).
  - Only what is given is managed. Keys under C(volatile.*) and C(image.*) belong to LXD and are never compared
    nor written.
  - Changing the configuration of a stopped instance never starts it.
  - Updates carry the ETag LXD gave with the instance, so a change made by someone else in between is detected
    and reported instead of overwritten.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
  - lxdops.server.object
options:
  name:
    description:
      - Name of the instance.
  state:
    description:
      - V(present) makes sure the instance exists (created stopped) and leaves its run state alone.
      - V(started), V(stopped) and V(frozen) also bring it to that run state.
      - V(restarted) restarts a running instance and starts a stopped one; it always reports a change.
      - V(absent) deletes it, stopping it first (gracefully unless O(force_stop=true)).
    type: str
    choices: [present, started, stopped, restarted, frozen, absent]
    default: started
  type:
    description:
      - V(container) or V(virtual-machine). Used when creating; when given for an existing instance of the other
        type, the task fails instead of changing anything.
      - When not given, a new instance is a container.
    type: str
    choices: [container, virtual-machine]
  source:
    description:
      - Where a new instance comes from. Needed only to create the instance; ignored when it exists.
      - Give exactly one of O(source.alias), O(source.fingerprint) or O(source.instance).
    type: dict
    suboptions:
      alias:
        description:
          - Image alias, on this server or on O(source.server).
        type: str
      fingerprint:
        description:
          - Image fingerprint (or a unique prefix of it), on this server or on O(source.server).
        type: str
      server:
        description:
          - An image server to pull the image from, as an V(https://) url.
        type: str
      protocol:
        description:
          - Protocol of O(source.server).
        type: str
        choices: [lxd, simplestreams]
        default: lxd
      server_cert:
        description:
          - Certificate (PEM or path) of O(source.server), for an LXD image server with a self-signed certificate.
        type: str
      instance:
        description:
          - Copy this instance, or a snapshot of it given as V(instance/snapshot) (what C(lxc copy c1/snap0 c2)
            does).
        type: str
      instance_only:
        description:
          - With O(source.instance), copy the instance without its snapshots.
        type: bool
        default: false
  profiles:
    description:
      - Profiles of the instance, in order (later ones override earlier ones), as C(lxc profile assign) sets them.
      - When not given, a new instance gets the V(default) profile and an existing one keeps its profiles.
    type: list
    elements: str
  config:
    description:
      - Instance config keys. Values may be YAML strings, numbers or booleans; they are sent as the strings LXD
        stores (V(true) becomes V("true"), V(2) becomes V("2")).
      - A key set to V(null) is removed.
      - Known keys (limits, snapshots, boot, security) are validated before any request.
      - Keys under C(volatile.*) and C(image.*) are refused.
  description:
    description:
      - Description of the instance.
  devices:
    description:
      - Devices of the instance itself (not those from profiles), by name. Each device given is managed whole;
        a device set to V(null) is removed.
    type: dict
  config_mode:
    description:
      - V(merge) manages only the config keys and devices given.
      - V(replace) makes the instance's own config and devices exactly those given (LXD's C(volatile.*) and
        C(image.*) keys are kept).
    type: str
    choices: [merge, replace]
    default: merge
  ephemeral:
    description:
      - Whether the instance is deleted when it stops.
    type: bool
  target:
    description:
      - Cluster member to create the instance on. Fails clearly on a server that is not clustered.
      - When an existing instance is on another member, a stopped instance is moved there (C(lxc move --target)).
        LXD moves only stopped instances between members - with O(state=stopped) a running one is stopped first,
        with the other states it is refused.
    type: str
  wait_for_ipv4:
    description:
      - After starting, wait up to this many seconds for a global IPv4 address on an interface; reaching the
        limit fails the task with the instance's status and interfaces. V(0) does not wait.
    type: int
    default: 0
  force_stop:
    description:
      - Stop forcibly (kill) instead of asking the instance to shut down, for V(stopped), V(restarted) and
        V(absent).
    type: bool
    default: false
notes:
  - A graceful stop waits up to O(timeout) seconds.
  - On a cluster, an instance on a member whose daemon does not answer cannot be read; the task fails naming the
    member and its status (V(Offline)).
seealso:
  - module: lxdops.server.lxd_profile
"""

EXAMPLES = r"""
- name: A container from a local image, with the default and a macvlan profile
  lxdops.server.lxd_instance:
    name: web1
    source:
      alias: debian/12
    profiles: [default, macvlan]
    config:
      limits.cpu: 2
      limits.memory: 2GiB
      boot.autostart: true
    wait_for_ipv4: 30

- name: An image pulled from another LXD server pinned by its certificate
  lxdops.server.lxd_instance:
    name: build1
    source:
      alias: base/bookworm
      server: https://images.lan:8443
      server_cert: /etc/lxdops/images.crt
    state: present

- name: A copy of a snapshot (lxc copy web1/nightly web1-check)
  lxdops.server.lxd_instance:
    name: web1-check
    source:
      instance: web1/nightly
    state: stopped

- name: Remove one config key, keep everything else
  lxdops.server.lxd_instance:
    name: web1
    config:
      limits.memory: null

- name: Delete it
  lxdops.server.lxd_instance:
    name: web1-check
    state: absent
    force_stop: true
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [create, start]
instance:
  description:
    - The instance as LXD shows it (C(GET /1.0/instances/<name>?recursion=1)), with expanded config and devices,
      status, profiles, state and snapshots, plus RV(instance.snapshots_count).
    - Empty when the instance is absent, or would be created in check mode.
  returned: success
  type: dict
  contains:
    status:
      description: Run status (Running, Stopped, Frozen, Error).
      type: str
      sample: Running
    profiles:
      description: Profiles in order.
      type: list
      elements: str
      sample: [default, macvlan]
    expanded_config:
      description: Config after profiles are applied.
      type: dict
    expanded_devices:
      description: Devices after profiles are applied.
      type: dict
    snapshots_count:
      description: Number of snapshots.
      type: int
      sample: 3
addresses:
  description: Global addresses per network interface (loopback left out).
  returned: success
  type: dict
  sample: {"eth0": ["10.213.57.20"]}
"""

from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.instance import InstanceManager, instance_options


def main():
    run_manager(InstanceManager, instance_options())


if __name__ == "__main__":
    main()
