# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Managed networks of LXD and Incus (bridges first): validation of their addressing keys, and their manager."""

from __future__ import annotations

import ipaddress

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.cluster import (
    create_on_cluster,
    is_clustered,
    normalize_member_overrides,
)
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    LXD_FALSE,
    LXD_TRUE,
    MEMBER_NETWORK_KEYS,
    ConfigError,
    to_lxd_string,
)
from ansible_collections.lxdops.server.plugins.module_utils.diff import plan_config, plan_value
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager

NETWORK_TYPES = ("bridge", "macvlan", "sriov", "ovn", "physical")
BOOL_KEYS = ("ipv4.nat", "ipv6.nat", "ipv4.dhcp", "ipv6.dhcp", "ipv4.firewall", "ipv6.firewall",
             "ipv4.routing", "ipv6.routing", "ipv6.dhcp.stateful")


def _check_gateway(key, value, version):
    """ipv4.address / ipv6.address: auto, none, or the bridge's own address with its prefix."""
    if value in ("auto", "none"):
        return
    try:
        interface = ipaddress.ip_interface(value)
    except ValueError:
        raise ConfigError("config key %r: value %r is not accepted; accepted: auto, none, or an address with its "
                          "prefix length (%s)" % (key, value, "10.10.10.1/24" if version == 4 else "fd42::1/64"))
    if interface.version != version:
        raise ConfigError("config key %r: %r is an IPv%d address" % (key, value, interface.version))
    if "/" not in value:
        raise ConfigError("config key %r: value %r needs a prefix length (%s)"
                          % (key, value, "10.10.10.1/24" if version == 4 else "fd42::1/64"))
    if interface.ip == interface.network.network_address and interface.network.prefixlen < interface.max_prefixlen:
        raise ConfigError("config key %r: %r is the network address; give the bridge's own address in it (%s)"
                          % (key, value, "%s/%d" % (interface.network.network_address + 1,
                                                    interface.network.prefixlen)))


def normalize_network_config(config):
    normalized = {}
    for key, raw in (config or {}).items():
        key = str(key)
        try:
            value = to_lxd_string(raw)
        except ConfigError as exc:
            raise ConfigError("config key %r: value %r is not accepted; give %s" % (key, raw, exc))
        if value:
            if key == "ipv4.address":
                _check_gateway(key, value, 4)
            elif key == "ipv6.address":
                _check_gateway(key, value, 6)
            elif key in BOOL_KEYS and value.lower() not in LXD_TRUE + LXD_FALSE:
                raise ConfigError("config key %r: value %r is not accepted; accepted: true or false" % (key, raw))
            elif key == "bridge.mtu" and not (value.isdigit() and 576 <= int(value) <= 65535):
                raise ConfigError("config key %r: value %r is not accepted; accepted: an MTU from 576 to 65535"
                                  % (key, raw))
        normalized[key] = value
    return normalized


class NetworkManager(Manager):
    def validate(self):
        p = self.params
        if not p["name"] or len(p["name"]) > 15 or "/" in p["name"] or " " in p["name"]:
            raise ConfigError("name %r is not a valid network name: 1-15 characters (an interface name), "
                              "no '/' or spaces" % p["name"])
        self.config = normalize_network_config(p["config"])
        self.overrides = normalize_member_overrides(p.get("member_config"), MEMBER_NETWORK_KEYS, "network")

    def apply(self):
        p = self.params
        path = api_path("networks", p["name"])
        try:
            response = self.client.get(path)
            current = response.metadata
        except LXDNotFound:
            response, current = None, None
        if current is not None and not current.get("managed"):
            raise LXDError("network %r is a host interface that %s does not manage; choose another name"
                           % (p["name"], self.client.daemon_name()))
        if p["state"] == "absent":
            if current is not None:
                users = current.get("used_by") or []
                if users:
                    raise LXDError("network %r is used by %s; it is not deleted" % (p["name"], ", ".join(users)))
                self.tracker.add(("network",), {"name": p["name"], "type": current.get("type")}, None)
                self.write("delete", self.client.delete, path)
            self.result = {"network": {}}
            return
        clustered = is_clustered(self.client, current)
        if self.overrides and not clustered:
            raise ConfigError("member_config: the server at %s is not part of a cluster; give config only"
                              % self.client.url)
        if current is None or (clustered and current.get("status") in ("Pending", "Errored")):
            network_type = (current or {}).get("type") or p["type"] or "bridge"
            body = {"name": p["name"], "type": network_type,
                    "config": dict((k, v) for k, v in self.config.items() if v is not None)}
            if p["description"] is not None:
                body["description"] = p["description"]
            if clustered:
                create_on_cluster(self, "/1.0/networks", body, MEMBER_NETWORK_KEYS, self.overrides, "network",
                                  "network %r" % p["name"], project=True)
            else:
                self.tracker.add(("network",), None, body)
                self.write("create", self.client.post, "/1.0/networks", body)
        else:
            if p["type"] and current.get("type") != p["type"]:
                raise LXDError("network %r is a %s network; its type cannot change to %s"
                               % (p["name"], current.get("type"), p["type"]))
            wanted = self.config
            if clustered:
                # Member-specific keys are set per member at creation; LXD shows only the cluster-wide ones here.
                wanted = dict((k, v) for k, v in self.config.items() if k not in MEMBER_NETWORK_KEYS)
            config, changes = plan_config(current.get("config"), wanted)
            self.tracker.merge(changes)
            description = plan_value(self.tracker, ("description",), current.get("description", ""), p["description"])
            if changes.has_changes or description != current.get("description", ""):
                self.write("update", self.client.put, path, {"config": config, "description": description},
                           etag=response.etag)
        if self.actions and not self.check_mode:
            current = self.client.get(path).metadata
        self.result = {"network": current or {}}
