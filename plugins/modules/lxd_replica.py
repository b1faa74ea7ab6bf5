#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_replica
short_description: Copy or refresh instances to another LXD or Incus server (the snapshot server)
version_added: 0.1.0
description:
  - Copies instances of this server (the connection options) to O(remote) the first time, and refreshes the
    copies afterwards (what C(lxc copy --refresh c remote:c) does), with the target pulling from this server.
  - Works between two LXD servers, between two Incus servers, and from LXD to Incus (the way
    C(lxdops.server.migrate) moves instances to Incus). The target needs no trust of the source - it pulls with the
    secrets of the source's migration operation - but the client that runs this module must be trusted by both.
    A target that lacks a pool the source uses puts the copy on its own default profile's pool, and the copy stays
    there through refreshes.
  - A running source is refreshed as it runs. A running replica is never overwritten - it is skipped, reported,
    and the task fails at the end so the run does not look complete.
  - A replica that was failed over (it carries C(user.lxdops.failed_over)) is never overwritten, even when it is
    stopped; it is reported and the task fails. A source instance that carries C(user.lxdops.fenced) (stopped
    because the snapshot server took it over) is skipped. These per-server keys never travel with a copy.
  - The replica's own C(snapshots.schedule) is switched off (snapshots are taken on the source and travel with
    the refresh); the source's value is kept in C(user.lxdops.source.snapshots.schedule) for a failover.
  - A new replica is created with O(target_config) and the marker C(user.lxdops.replica) already in the copy
    request, so a copy that breaks never leaves a replica that autostarts. Until its first copy completes, a new
    replica also carries C(user.lxdops.incomplete) (the time the copy began); a stopped replica that still has it
    never held a whole copy, and the next run deletes it and copies it again.
  - After every refresh the replica gets the source's config, devices and profiles again with O(target_config) on
    top (LXD keeps a replica's config through a refresh made through its API).
  - The custom volumes an instance uses (disk devices with a pool and a volume as source, its own or its
    profiles') are copied, then refreshed, before the instance, each to the pool of the same name on the target,
    with their snapshots (unless O(instance_only)), config and description; the target pulls them as it pulls the
    instance. A volume used by several instances is replicated once per run. A replica volume carries
    C(user.lxdops.replica), and its C(snapshots.schedule) is kept in C(user.lxdops.source.snapshots.schedule)
    instead (with O(target_config) C(user.lxdops.replica) set empty, as failback does, the schedule comes back).
  - A volume is never overwritten while an instance that runs on the target uses it, nor when the target has a
    volume of that name that is neither a replica nor used by the instance's copy there - the instance is then
    skipped, reported, and the task fails at the end. A volume that fails (a pool missing on the target, a broken
    transfer) fails its instance, which is then not copied; a pool missing on the target is found before anything
    is transferred. Refreshing a volume needs the API extension C(custom_volume_refresh) on the target.
  - A retry never sends the same first copy again - it refreshes the replica a broken copy left, or copies it
    again as above.
  - One replication at a time on a host - this module and the C(lxdops-replicate) command of the
    C(lxdops.server.snapshot_server) role take the same lock (O(lock_path)); a run that cannot get it within
    O(lock_wait) seconds fails saying another replication is already running, and changes nothing.
  - Every instance is tried, O(retries) more times on failure, in O(parallel) workers; there is one result per
    instance, and the task fails at the end if any instance failed. A failed refresh never deletes a replica.
  - LXD 6.8 and later also have replicators (C(lxc replicator)), which schedule refreshes inside LXD. This module
    keeps the schedule and the per-instance report in Ansible (or in the lxdops-replicate command of the
    C(lxdops.server.snapshot_server) role) and works with LXD 5.0 and later.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
options:
  instances:
    description:
      - Names of the instances to replicate, or V(all).
    type: list
    elements: str
    required: true
  remote:
    description:
      - The server that keeps the replicas, with the same connection options as this server
        (O(remote.url) is required and must be https).
    type: dict
    required: true
    suboptions:
      url:
        description: The target server, V(https://host:8443).
        type: str
        required: true
      client_cert:
        description: Client certificate for the target.
        type: path
        aliases: [cert_file]
      client_key:
        description: Key of O(remote.client_cert).
        type: path
        aliases: [key_file]
      server_cert:
        description: The target's certificate to pin (path or PEM).
        type: str
      verify:
        description: Verify the target's TLS certificate.
        type: bool
        default: true
        aliases: [validate_certs]
      trust_token:
        description: Token to become trusted by the target, used once. Never logged.
        type: str
      trust_password:
        description: Trust password of the target, used once. Never logged.
        type: str
      project:
        description: Project on the target.
        type: str
        default: default
      timeout:
        description: Seconds for each request to the target.
        type: int
        default: 60
  refresh:
    description:
      - Refresh replicas that exist. With V(false), existing replicas are skipped.
    type: bool
    default: true
  instance_only:
    description:
      - Copy the instances without their snapshots.
    type: bool
    default: false
  projects:
    description:
      - Projects whose instances are replicated, each into the project of the same name on the target, or
        V(all) (every project of this server). A project missing on the target fails its instances (the
        C(lxdops.server.snapshot_server) role's profile sync creates projects; this module never does).
      - Without it, the instances of the connection's O(project) are replicated into O(remote.project).
      - With several projects, a name in O(instances) is replicated from every project that has it, and fails
        only when none has it.
    type: list
    elements: str
  target_config:
    description:
      - Config of every replica, in the copy request of a new replica and applied again after each refresh. A key
        set to V(null) or an empty string is removed. C(snapshots.schedule) is removed unless given here.
      - Validated before any request, as O(lxdops.server.lxd_instance#module:config) is. The per-server keys
        C(user.lxdops.failed_over) and C(user.lxdops.fenced) are not accepted.
    type: dict
    default: {boot.autostart: false}
  parallel:
    description:
      - How many instances are replicated at once.
    type: int
    default: 2
  retries:
    description:
      - How many more times a failed instance is tried.
    type: int
    default: 1
  source_address:
    description:
      - The address (V(host:port)) at which the target reaches this server. Defaults to the first of this
        server's own addresses.
    type: str
  lock_path:
    description:
      - The lock file that keeps replications on this host one at a time (the C(lxdops-replicate) command uses
        the same default). The lock (C(flock)) ends with the process that holds it, so a run that dies leaves no
        stale lock. The file holds the process id of the run that has it.
    type: path
    default: /run/lock/lxdops-replicate.lock
  lock_wait:
    description:
      - Seconds to wait for the lock when another replication holds it; then the task fails and changes nothing.
    type: int
    default: 60
seealso:
  - module: lxdops.server.lxd_trust
"""

EXAMPLES = r"""
- name: Every instance of the primary to the snapshot server, autostart off
  lxdops.server.lxd_replica:
    instances: all
    remote:
      url: https://lxd-snapshot.lan:8443
      server_cert: /etc/lxdops/lxd-snapshot.crt
    target_config:
      boot.autostart: false
  register: replication

- name: Every instance of two projects, into the same projects on the snapshot server
  lxdops.server.lxd_replica:
    instances: all
    projects: [default, customers]
    remote:
      url: https://lxd-snapshot.lan:8443
      server_cert: /etc/lxdops/lxd-snapshot.crt
    lock_wait: 600

- name: The report
  ansible.builtin.debug:
    msg: "{{ replication.results | map(attribute='action') | list }}"
"""

RETURN = r"""
results:
  description: One result per instance, in the order of O(instances).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Instance name.
      type: str
    project:
      description: The instance's project on both servers (null for a name found in none of O(projects)).
      type: str
      sample: default
    action:
      description: created, refreshed, skipped or failed (in check mode, what would be done).
      type: str
      sample: refreshed
    seconds:
      description: How long it took.
      type: float
    attempts:
      description: How many tries.
      type: int
    error:
      description: Why it failed.
      type: str
    reason:
      description: Why it was skipped, or why a replica was copied again.
      type: str
    volumes:
      description: The custom volumes the instance uses, each with what was done to its copy.
      type: list
      elements: dict
      contains:
        pool:
          description: The volume's storage pool (the same name on both servers).
          type: str
        name:
          description: The volume's name.
          type: str
        action:
          description: created, refreshed, skipped or failed (in check mode, what would be done).
          type: str
        reason:
          description: Why it was skipped or failed, or that another instance's replication of this run did it.
          type: str
summary:
  description: Count of instances per action.
  returned: always
  type: dict
  sample: {"created": 1, "refreshed": 18, "skipped": 1, "failed": 0}
"""

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError
from ansible_collections.lxdops.server.plugins.module_utils.common import (
    LXDModule,
    client_from_params,
    remote_argument_spec,
)
from ansible_collections.lxdops.server.plugins.module_utils.instance import failure_summary, result_key
from ansible_collections.lxdops.server.plugins.module_utils.replica import (
    DEFAULT_LOCK_PATH,
    DEFAULT_LOCK_WAIT,
    Replicator,
    check_names,
    failures,
    summarize,
)


def main():
    module = LXDModule(dict(
        instances=dict(type="list", elements="str", required=True),
        remote=dict(type="dict", required=True, options=remote_argument_spec()),
        refresh=dict(type="bool", default=True),
        instance_only=dict(type="bool", default=False),
        target_config=dict(type="dict", default={"boot.autostart": False}),
        parallel=dict(type="int", default=2),
        retries=dict(type="int", default=1),
        source_address=dict(type="str"),
        projects=dict(type="list", elements="str"),
        lock_path=dict(type="path", default=DEFAULT_LOCK_PATH),
        lock_wait=dict(type="int", default=DEFAULT_LOCK_WAIT)))
    p = module.params
    try:
        names = check_names(p["instances"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if not p["remote"]["url"].startswith("https://"):
        module.fail_json(msg="remote.url %r is not accepted: the target pulls over the network, give https://host:port"
                         % p["remote"]["url"])
    if p["parallel"] < 1 or p["retries"] < 0 or p["lock_wait"] < 0:
        module.fail_json(msg="parallel must be 1 or more, retries and lock_wait 0 or more (got %d, %d and %d)"
                         % (p["parallel"], p["retries"], p["lock_wait"]))
    try:
        replicator = Replicator(lambda: client_from_params(p), lambda: client_from_params(p["remote"]),
                                refresh=p["refresh"], instance_only=p["instance_only"],
                                target_config=p["target_config"], parallel=p["parallel"], retries=p["retries"],
                                source_address=p["source_address"], projects=p["projects"],
                                lock_path=p["lock_path"], lock_wait=p["lock_wait"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    try:
        results = replicator.run(names, check_mode=module.check_mode)
    except LXDError as exc:
        module.fail_json(msg="replication from %s to %s: %s" % (p["url"] or "the local server", p["remote"]["url"],
                                                                exc.message), changed=False, results=[])
    summary = summarize(results)
    changed = bool(summary["created"] or summary["refreshed"])
    replicated = [r for r in results if r["action"] in ("created", "refreshed")]
    diff = {"before": {}, "after": dict((result_key(r["project"], r["name"]), r["action"]) for r in replicated)}
    failed = failures(results)
    if failed:
        module.fail_json(msg=failure_summary(results), changed=changed, results=results, summary=summary)
    module.exit_json(changed=changed, results=results, summary=summary, diff=diff)


if __name__ == "__main__":
    main()
