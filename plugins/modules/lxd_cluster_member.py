#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_cluster_member
short_description: Form an LXD or Incus cluster and manage its members
version_added: 0.1.0
description:
  - Drives the daemon's own clustering (LXD's or Incus's, the same API) - the first server bootstraps the cluster, a
    new server joins it with a join token issued on the cluster (C(lxc cluster add) or C(incus cluster add)), and
    members are evacuated, restored, updated and removed.
  - The connection options name the server the task talks to. O(state=bootstrapped) and O(state=joined) talk to the
    server that becomes a member (its own daemon); the other states talk to any member of the cluster.
  - Every state returns the members with their status, so a member that is down shows as V(Offline) rather than
    failing the task; what cannot be done on a member that is down (evacuation) fails naming it and its status.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
notes:
  - A join token is a secret. The module never shows it except in the RV(token) it returns; set C(no_log) to V(true)
    on the task that issues it and on the task that joins with it.
  - A server joins as it comes from installation - its own storage pools and networks are replaced by the cluster's
    (with the member-specific keys given in O(member_config)), and it must hold no instances or images.
options:
  name:
    description:
      - The cluster member's name (C(lxc cluster list) shows it).
      - Required, except with O(state=joined), where it defaults to the name the join token was issued for.
    type: str
  state:
    description:
      - V(present) on a cluster member - when O(name) is a member, its O(description), O(failure_domain), O(roles)
        and O(config) are converged; when it is not, a join token for it is returned in RV(token). A pending
        (unused) token for O(name) is returned again rather than issuing a second one.
      - V(bootstrapped) makes the server the first member of a new cluster, named O(name). Nothing is done when it is
        already a member of that name.
      - V(joined) joins the server to the cluster that issued O(cluster_token). Nothing is done when it is already a
        member of that name.
      - V(absent) on a cluster member removes member O(name) and revokes pending join tokens for that name.
      - V(evacuated) moves (or stops, per each instance's C(cluster.evacuate) config) the instances of member
        O(name) to other members and marks it C(Evacuated); V(restored) brings them back and marks it C(Online).
        Nothing is done when the member already has that status.
    type: str
    choices: [present, absent, bootstrapped, joined, evacuated, restored]
    default: present
  cluster_token:
    description:
      - With O(state=joined), the join token issued for this server, as C(lxc cluster add <name>) prints it or as
        this module returns it with O(state=present). Never logged.
    type: str
  cluster_address:
    description:
      - With O(state=joined), the address (V(host:port)) of the member to join through. By default the addresses in
        the token are tried in turn; the one used must present the cluster certificate the token names.
    type: str
  server_address:
    description:
      - With O(state=joined) or O(state=bootstrapped), the address (V(host:port), port 8443 when left out) at which
        the other members reach this server; it becomes its C(cluster.https_address).
      - For O(state=bootstrapped), it may be left out when the server already has C(cluster.https_address) or a
        specific C(core.https_address).
    type: str
  member_config:
    description:
      - With O(state=joined), the member-specific keys of the cluster's storage pools and networks on this server,
        such as a pool's V(source) (a block device or folder of this server) or a network's V(parent).
      - Pools and networks without an entry get their defaults.
    type: list
    elements: dict
    suboptions:
      entity:
        description: What the key belongs to.
        type: str
        choices: [storage-pool, network]
        required: true
      name:
        description: Name of the pool or network.
        type: str
        required: true
      key:
        description:
          - The member-specific key - for pools V(source), V(size), V(zfs.pool_name), V(lvm.vg_name),
            V(lvm.thinpool_name); for networks V(parent), V(bridge.external_interfaces), V(bgp.ipv4.nexthop),
            V(bgp.ipv6.nexthop).
        type: str
        required: true
      value:
        description: Its value on this server.
        type: str
        required: true
  description:
    description:
      - With O(state=present), the member's description.
    type: str
  failure_domain:
    description:
      - With O(state=present), the member's failure domain (LXD spreads database roles over failure domains).
    type: str
  roles:
    description:
      - With O(state=present), the roles of the member that are assigned by hand (for example V(event-hub),
        V(ovn-chassis)). The database roles LXD assigns itself are kept and cannot be given.
    type: list
    elements: str
  config:
    description:
      - With O(state=present), the member's config keys (such as V(scheduler.instance)); a key set to V(null) is
        removed, keys not given are kept.
    type: dict
  force:
    description:
      - With O(state=absent), remove the member even when it cannot be reached (C(lxc cluster remove --force)).
    type: bool
    default: false
  mode:
    description:
      - With O(state=evacuated), how instances leave the member (V(stop), V(migrate), V(live-migrate)) instead of
        their C(cluster.evacuate) config; with O(state=restored), V(skip) marks the member online without moving
        or starting its instances. Needs an LXD with the C(clustering_evacuation_mode) API extension.
    type: str
seealso:
  - module: lxdops.server.lxd_instance
  - module: lxdops.server.lxd_storage
  - module: lxdops.server.lxd_network
"""

EXAMPLES = r"""
- name: The first member bootstraps the cluster
  lxdops.server.lxd_cluster_member:
    name: lxd1
    state: bootstrapped
    server_address: 10.0.0.11:8443
  when: inventory_hostname == 'lxd1'

- name: A join token for lxd2, issued on the cluster
  lxdops.server.lxd_cluster_member:
    name: lxd2
  delegate_to: lxd1
  register: join
  no_log: true

- name: Lxd2 joins, with its own disk for the pool
  lxdops.server.lxd_cluster_member:
    state: joined
    cluster_token: "{{ join.token }}"
    server_address: 10.0.0.12:8443
    member_config:
      - entity: storage-pool
        name: local
        key: source
        value: /dev/sdb
  when: join.token is not none
  no_log: true

- name: Maintenance - move lxd2's instances away, then bring them back
  lxdops.server.lxd_cluster_member:
    name: lxd2
    state: "{{ item }}"
    timeout: 600
  loop: [evacuated, restored]

- name: Rack and description
  lxdops.server.lxd_cluster_member:
    name: lxd2
    failure_domain: rack2
    description: Second server

- name: Remove a member that died
  lxdops.server.lxd_cluster_member:
    name: lxd3
    state: absent
    force: true
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [issue join token]
members:
  description: The cluster's members, after the task (none when the server is not clustered, or in check mode before
    a bootstrap or join).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Member name.
      type: str
    url:
      description: Its API address.
      type: str
      sample: https://10.0.0.12:8443
    status:
      description: V(Online), V(Evacuated), V(Offline) (its daemon does not answer), V(Blocked) ...
      type: str
    message:
      description: LXD's word on the status.
      type: str
      sample: No heartbeat for 30s
    roles:
      description: Roles, the database ones included.
      type: list
      elements: str
    failure_domain:
      description: Failure domain.
      type: str
    description:
      description: Description.
      type: str
member:
  description: Member O(name) as in RV(members); empty when it is not a member.
  returned: always
  type: dict
token:
  description: With O(state=present), the join token for O(name) when it is not a member yet (null otherwise, and
    in check mode when a new token would be issued). A secret.
  returned: always
  type: str
"""

from ansible_collections.lxdops.server.plugins.module_utils.cluster import STATES, ClusterMemberManager
from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager


def main():
    run_manager(ClusterMemberManager, dict(
        name=dict(type="str"),
        state=dict(type="str", choices=list(STATES), default="present"),
        cluster_token=dict(type="str", no_log=True),
        cluster_address=dict(type="str"),
        server_address=dict(type="str"),
        member_config=dict(
            type="list",
            elements="dict",
            options=dict(
                entity=dict(type="str", choices=["storage-pool", "network"], required=True),
                name=dict(type="str", required=True),
                key=dict(type="str", required=True, no_log=False),
                value=dict(type="str", required=True),
            ),
        ),
        description=dict(type="str"),
        failure_domain=dict(type="str"),
        roles=dict(type="list", elements="str"),
        config=dict(type="dict"),
        force=dict(type="bool", default=False),
        mode=dict(type="str")))


if __name__ == "__main__":
    main()
