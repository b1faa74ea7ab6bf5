#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_instance_set
short_description: Converge a list of LXD instances in one task
version_added: 0.1.0
description:
  - Converges many instances in one module run - create, update, run state, delete - each entry of O(instances)
    taking what M(lxdops.server.lxd_instance) takes, with the same code (the same validation, the same changes,
    the same order of requests per instance).
  - It is made for many instances at once, where a loop of M(lxdops.server.lxd_instance) costs one module process
    per instance - declared instances of a host, or "start these replicas with this config" in a failover.
  - Every entry is validated before the first request; a bad entry fails the task naming the entry (index and
    name), the option, the value and what is accepted, and nothing is sent.
  - What exists is read with one request per project (C(GET /1.0/instances?recursion=1)); then each change is one
    request, sent by O(parallel) workers. A second identical run makes no change and one request per project.
  - An instance that fails (for example an image alias that does not exist) does not stop the others nor undo
    them; every instance gets a result, and the task fails at the end naming those that failed.
  - Named C(lxd_instance_set) (a set of instances, the way multi-object modules take a list of definitions), not
    C(lxd_instances), so that it does not read as the role C(lxdops.server.lxd_instances), which declares a host's
    instances with their limits and snapshot policy.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
options:
  instances:
    description:
      - The instances, one entry each, with the options of M(lxdops.server.lxd_instance) plus O(instances[].project)
        and O(instances[].limits).
      - An option an entry leaves out is taken from O(defaults), then from lxd_instance's default.
      - Each instance (name and project) may be given once.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the instance.
        type: str
        required: true
      project:
        description:
          - LXD project of the instance. Defaults to the task's O(project).
        type: str
      state:
        description:
          - As M(lxdops.server.lxd_instance)'s O(lxdops.server.lxd_instance#module:state). Default V(started).
        type: str
        choices: [present, started, stopped, restarted, frozen, absent]
      type:
        description:
          - V(container) or V(virtual-machine), used when creating (a new instance is a container when not given).
        type: str
        choices: [container, virtual-machine]
      source:
        description:
          - Where a new instance comes from (exactly one of O(instances[].source.alias),
            O(instances[].source.fingerprint) or O(instances[].source.instance)); ignored when the instance exists.
          - An instance that does not exist and has no source fails (the others are still converged).
        type: dict
        suboptions:
          alias:
            description:
              - Image alias, on this server or on O(instances[].source.server).
            type: str
          fingerprint:
            description:
              - Image fingerprint (or a unique prefix of it).
            type: str
          server:
            description:
              - An image server to pull the image from, as an V(https://) url.
            type: str
          protocol:
            description:
              - Protocol of O(instances[].source.server).
            type: str
            choices: [lxd, simplestreams]
            default: lxd
          server_cert:
            description:
              - Certificate (PEM or path) of O(instances[].source.server).
            type: str
          instance:
            description:
              - Copy this instance, or a snapshot of it given as V(instance/snapshot).
            type: str
          instance_only:
            description:
              - With O(instances[].source.instance), copy the instance without its snapshots.
            type: bool
            default: false
      profiles:
        description:
          - Profiles of the instance, in order. When not given, a new instance gets the V(default) profile and an
            existing one keeps its profiles.
        type: list
        elements: str
      config:
        description:
          - Instance config keys; values may be YAML strings, numbers or booleans, sent as the strings LXD stores.
            A key set to V(null) is removed. Keys under C(volatile.*) and C(image.*) are refused.
          - Merged key by key over O(defaults)'s config (the entry's value wins).
        type: dict
      devices:
        description:
          - Devices of the instance itself, by name, each managed whole; V(null) removes one.
          - Merged device by device over O(defaults)'s devices.
        type: dict
      config_mode:
        description:
          - V(merge) manages only the config keys and devices given; V(replace) makes the instance's own config and
            devices exactly those given. Default V(merge).
        type: str
        choices: [merge, replace]
      description:
        description:
          - Description of the instance.
        type: str
      ephemeral:
        description:
          - Whether the instance is deleted when it stops.
        type: bool
      target:
        description:
          - Cluster member to create the instance on (or move a stopped one to).
        type: str
      wait_for_ipv4:
        description:
          - After starting, wait up to this many seconds for a global IPv4 address; reaching the limit fails this
            instance. Default V(0) (do not wait).
        type: int
      force_stop:
        description:
          - Stop forcibly instead of asking the instance to shut down. Default V(false).
        type: bool
      limits:
        description:
          - Resource limits of the instance, named as M(lxdops.server.lxd_limits) names them; V(null) removes a
            limit, a limit not given is left alone. Merged limit by limit over O(defaults)'s limits.
          - Limits that are config keys (cpu, memory, processes, priorities) are written with the instance's
            config and win over the same keys in O(instances[].config); a new instance is created with them.
          - Disk and network limits are keys of the root disk or nic device; when that device comes from a
            profile, it is copied into the instance with the limit (as M(lxdops.server.lxd_limits) does). They
            are written in the instance's update, or right after its creation (before it starts); in check mode
            those of an instance that would be created are not planned.
        type: dict
        suboptions:
          cpu:
            description: C(limits.cpu) - a count (V(2)), a list (V(1,3)) or ranges (V(0-3)).
            type: raw
          cpu_allowance:
            description: C(limits.cpu.allowance) - V(20%) or V(25ms/200ms).
            type: str
          cpu_priority:
            description: C(limits.cpu.priority) - 0 to 10.
            type: int
          memory:
            description: C(limits.memory) - V(256MB), V(2GiB) or V(10%).
            type: str
          memory_enforce:
            description: C(limits.memory.enforce).
            type: str
            choices: [hard, soft]
          memory_swap:
            description: C(limits.memory.swap).
            type: bool
          memory_swap_priority:
            description: C(limits.memory.swap.priority) - 0 to 10.
            type: int
          processes:
            description: C(limits.processes).
            type: int
          disk_size:
            description: C(size) (quota) of the disk device O(instances[].limits.disk_device).
            type: str
          disk_read:
            description: C(limits.read) of the disk device (V(30MB) or V(20iops)).
            type: str
          disk_write:
            description: C(limits.write) of the disk device (V(30MB) or V(20iops)).
            type: str
          disk_priority:
            description: C(limits.disk.priority) - 0 to 10.
            type: int
          network_ingress:
            description: C(limits.ingress) of the nic O(instances[].limits.nic) (V(100Mbit)).
            type: str
          network_egress:
            description: C(limits.egress) of the nic (V(100Mbit)).
            type: str
          network_priority:
            description: C(limits.network.priority) - 0 to 10.
            type: int
          disk_device:
            description: The disk device of the disk limits.
            type: str
            default: root
          nic:
            description: The nic device of the network limits.
            type: str
            default: eth0
  defaults:
    description:
      - Options applied to every entry of O(instances) that does not give them itself - every entry option but
        O(instances[].name) and O(instances[].project) (the task's O(project) is their default).
      - V(config), V(devices) and V(limits) are merged with the entry's, key by key; any other option given by an
        entry replaces the default.
    type: dict
    default: {}
  parallel:
    description:
      - How many instances are changed at the same time (each worker has its own connection).
    type: int
    default: 4
notes:
  - Unlike M(lxdops.server.lxd_instance), an update does not carry an ETag - the list request LXD answers has none
    per instance - so a change made by someone else between the list request and the update is overwritten
    for the keys this task manages.
  - The instances are not read again after their changes (one request per change); RV(results[].status) is the
    status asked for. Use M(lxdops.server.lxd_info) to read them.
seealso:
  - module: lxdops.server.lxd_instance
  - module: lxdops.server.lxd_info
"""

EXAMPLES = r"""
- name: Five containers from one image, all with the same limits
  lxdops.server.lxd_instance_set:
    defaults:
      source:
        alias: debian/12
      config:
        limits.cpu: 1
        limits.memory: 512MiB
    instances:
      - name: web1
      - name: web2
      - name: web3
        limits:
          memory: 1GiB
          disk_read: 30MB
      - name: db1
        profiles: [default, bigdisk]
      - name: ci1
        project: ci

- name: Failover - start these replicas with autostart on
  lxdops.server.lxd_instance_set:
    defaults:
      state: started
      config:
        boot.autostart: true
    instances:
      - name: web1
      - name: web2
      - name: db1
        config:
          user.role: primary-db
    parallel: 8

- name: Stop them again, without waiting for a clean shutdown
  lxdops.server.lxd_instance_set:
    defaults:
      state: stopped
      force_stop: true
    instances:
      - name: web1
      - name: web2
      - name: ci1
        project: ci
"""

RETURN = r"""
results:
  description: One result per entry, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Instance name.
      type: str
      sample: web1
    project:
      description: Its project.
      type: str
      sample: default
    actions:
      description: What was done (or would be done in check mode), in order.
      type: list
      elements: str
      sample: [update, start]
    changed:
      description: Whether anything was (or would be) changed on this instance.
      type: bool
    status:
      description: The run status the instance was brought to (null when it is absent or failed).
      type: str
      sample: Running
    error:
      description: Why this instance failed (null when it did not).
      type: str
    seconds:
      description: How long this instance took.
      type: float
summary:
  description: Count of instances (total, changed, unchanged, failed) and of each action taken.
  returned: always
  type: dict
  sample: {"total": 20, "changed": 20, "unchanged": 0, "failed": 0, "actions": {"update": 20, "start": 20}}
"""

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError
from ansible_collections.lxdops.server.plugins.module_utils.common import LXDModule, client_from_params
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.instance import failure_summary
from ansible_collections.lxdops.server.plugins.module_utils.instance_set import InstanceSet, plan_entries, set_diff, summarize


def main():
    module = LXDModule(dict(
        instances=dict(type="list", elements="dict", required=True),
        defaults=dict(type="dict", default={}),
        parallel=dict(type="int", default=4)))
    p = module.params
    if p["parallel"] < 1:
        module.fail_json(msg="parallel: %d is not accepted; give 1 or more workers" % p["parallel"])
    try:
        managers = plan_entries(p["instances"], p["defaults"], p["project"], p["timeout"], module.check_mode,
                                module._diff)
    except ConfigError as exc:
        module.fail_json(msg=str(exc), changed=False, results=[])
    try:
        results = InstanceSet(managers, module.client, lambda: client_from_params(p), p["parallel"]).run()
    except LXDError as exc:
        module.fail_json(msg="reading the instances failed, nothing was changed: %s" % exc.message, changed=False,
                         results=[])
    summary = summarize(results)
    outcome = dict(changed=bool(summary["changed"]), results=results, summary=summary)
    if module._diff:
        outcome["diff"] = set_diff(managers)
    if summary["failed"]:
        module.fail_json(msg=failure_summary(results), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
