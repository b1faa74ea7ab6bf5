# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: lxd
short_description: LXD and Incus instances as hosts, two API requests per server
version_added: 0.1.0
description:
  - Reads every instance of one or more LXD or Incus servers, with their state, in one request per server
    (C(GET /1.0/instances?recursion=2), across all projects when asked), after one C(GET /1.0) that says which
    daemon the server runs.
  - Host variables (prefix C(lxd_)) - C(lxd_name), C(lxd_server), C(lxd_daemon) (the daemon the instance lives on,
    V(lxd) or V(incus)), C(lxd_project), C(lxd_status), C(lxd_type),
    C(lxd_location), C(lxd_profiles), C(lxd_architecture), C(lxd_os), C(lxd_release), C(lxd_description),
    C(lxd_created_at), C(lxd_last_used_at), C(lxd_addresses) (per interface and family), C(lxd_snapshots_count),
    C(lxd_config) (expanded, without LXD's internal ID maps) and C(lxd_devices) (expanded).
  - Groups hosts by server, daemon, project, profile, status, type, location (cluster member), OS and release
    (V(lxd_server_primary), V(lxd_daemon_incus), V(lxd_profile_default), V(lxd_status_running), V(lxd_os_debian)
    ...; characters other
    than letters, digits and C(_) become C(_)), and supports C(compose), C(groups) and C(keyed_groups).
  - Sets C(ansible_host) to a preferred address and C(ansible_connection) to the
    P(lxdops.server.lxd#connection) plugin, as variables of the server's group, so C(group_vars) and
    C(host_vars) can override them. The connection variables (C(ansible_lxd_url) and the certificates) are the
    ones the server was read with, so the connection reaches the same daemon, LXD or Incus.
  - The configuration file name must end with C(lxd.yml) or C(lxd.yaml).
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [lxdops.server.lxd]
  servers:
    description:
      - The servers to read. Each is a mapping with C(name) (required; used in group names and host variables)
        and any of C(url), C(client_cert), C(client_key), C(server_cert), C(verify), C(project), C(all_projects),
        C(timeout), which override the options of the same name below.
      - When not given, one server named V(local) is read with the options below.
    type: list
    elements: dict
  url:
    description:
      - Default server url (V(unix:/path) or V(https://host:port)); as for the modules when not given (E(LXD_URL),
        E(LXD_DIR), E(INCUS_SOCKET), E(INCUS_DIR), then LXD's and Incus's default sockets).
    type: str
  client_cert:
    description: Default client certificate for https servers.
    type: path
  client_key:
    description: Default client key for https servers.
    type: path
  server_cert:
    description: Default server certificate to pin (path or PEM).
    type: str
  verify:
    description: Verify servers' TLS certificates by default.
    type: bool
    default: true
  project:
    description: Default project to read.
    type: str
    default: default
  all_projects:
    description: Read the instances of every project (one request still).
    type: bool
    default: false
  timeout:
    description: Seconds to wait for each server.
    type: int
    default: 60
  fetch_state:
    description:
      - Read the instances' state (addresses, for C(lxd_addresses) and C(ansible_host)) with them.
      - LXD computes the state of every running instance for this, which is most of the time the request takes
        on large servers. V(false) reads config, status, profiles and location only (no addresses, no
        C(ansible_host)), which is all the P(lxdops.server.lxd#connection) plugin needs.
    type: bool
    default: true
  status:
    description:
      - Keep only instances with one of these statuses (V(Running), V(stopped), ... any status, any case).
    type: list
    elements: str
  type:
    description: Keep only containers, only virtual machines, or both.
    type: str
    choices: [container, virtual-machine, both]
    default: both
  profiles:
    description: Keep only instances that use every one of these profiles.
    type: list
    elements: str
  projects:
    description: Keep only instances of these projects (with O(all_projects)).
    type: list
    elements: str
  name_regex:
    description: Keep only instances whose name matches this regular expression (from its start).
    type: str
  config_filter:
    description:
      - Keep only instances whose expanded config has these values (as C(lxc list security.privileged=true)).
        Values are compared as LXD strings, so V(true) matches C("true").
    type: dict
  preferred_interface:
    description: The interface whose address becomes C(ansible_host); other interfaces are used when it has none.
    type: str
    default: eth0
  preferred_family:
    description: The address family for C(ansible_host).
    type: str
    choices: [inet, inet6]
    default: inet
  connection:
    description:
      - The C(ansible_connection) given to every host (as a variable of its server's group).
      - An empty string leaves C(ansible_connection) alone.
    type: str
    default: lxdops.server.lxd
  group_prefix:
    description: Prefix of the groups this plugin makes.
    type: str
    default: lxd_
  host_format:
    description:
      - How host names are made from C({name}), C({project}), C({server}) and C({location}). With several servers
        or projects, include what tells same-named instances apart (V({server}-{name})).
    type: str
    default: "{name}"
"""

EXAMPLES = r"""
---
# lxd.yml - the local server
plugin: lxdops.server.lxd

---
# production.lxd.yml - a primary and its snapshot server, every project, running instances only
plugin: lxdops.server.lxd
client_cert: ~/.config/lxc/client.crt
client_key: ~/.config/lxc/client.key
servers:
  - name: primary
    url: https://lxd1.example.net:8443
    server_cert: ~/.config/lxc/servercerts/lxd1.crt
  - name: snapshot
    url: https://lxd2.example.net:8443
    server_cert: ~/.config/lxc/servercerts/lxd2.crt
all_projects: true
status: [running]
host_format: "{server}-{name}"
keyed_groups:
  - key: lxd_config['user.role'] | default('none')
    prefix: role
compose:
  ansible_user: "'root'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-lxd
"""

import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, client_from_options
from ansible_collections.lxdops.server.plugins.module_utils.config import IDMAP_KEYS, to_lxd_string
from ansible_collections.lxdops.server.plugins.module_utils.daemon import DEFAULT_DAEMON
from ansible_collections.lxdops.server.plugins.module_utils.instance import reachable_addresses

display = Display()

SERVER_KEYS = ("url", "client_cert", "client_key", "server_cert", "verify", "project", "all_projects", "timeout")


def addresses_by_interface(instance):
    """{interface: {'inet': [...], 'inet6': [...]}} of non-loopback, non-link-local addresses."""
    return dict((ifname, dict((family, [a["address"] for a in entries if a.get("family") == family])
                              for family in ("inet", "inet6")))
                for ifname, entries in reachable_addresses(instance).items())


def preferred_address(addresses, interface, family):
    first = (addresses.get(interface) or {}).get(family) or []
    if first:
        return first[0]
    for ifname in sorted(addresses):
        if addresses[ifname].get(family):
            return addresses[ifname][family][0]
    return None


def instance_matches(instance, filters):
    """Pure filter: status, type, profiles, projects, name regex, config values."""
    statuses = filters.get("status")
    if statuses and instance.get("status", "").lower() not in [s.lower() for s in statuses]:
        return False
    wanted_type = filters.get("type") or "both"
    if wanted_type != "both" and instance.get("type") != wanted_type:
        return False
    profiles = filters.get("profiles")
    if profiles and not set(profiles) <= set(instance.get("profiles") or []):
        return False
    projects = filters.get("projects")
    if projects and instance.get("project", "default") not in projects:
        return False
    regex = filters.get("name_regex")
    if regex and not re.match(regex, instance.get("name", "")):
        return False
    config = instance.get("expanded_config") or {}
    for key, value in (filters.get("config_filter") or {}).items():
        if config.get(key) != to_lxd_string(value):
            return False
    return True


def host_variables(instance, server, daemon=DEFAULT_DAEMON):
    config = dict((k, v) for k, v in (instance.get("expanded_config") or {}).items() if k not in IDMAP_KEYS)
    return {
        "lxd_name": instance.get("name"),
        "lxd_server": server,
        "lxd_daemon": daemon,
        "lxd_project": instance.get("project") or "default",
        "lxd_status": instance.get("status"),
        "lxd_type": instance.get("type"),
        "lxd_location": instance.get("location"),
        "lxd_profiles": instance.get("profiles") or [],
        "lxd_architecture": instance.get("architecture"),
        "lxd_os": config.get("image.os"),
        "lxd_release": config.get("image.release"),
        "lxd_description": instance.get("description"),
        "lxd_created_at": instance.get("created_at"),
        "lxd_last_used_at": instance.get("last_used_at"),
        "lxd_addresses": addresses_by_interface(instance),
        "lxd_snapshots_count": len(instance.get("snapshots") or []),
        "lxd_config": config,
        "lxd_devices": instance.get("expanded_devices") or {},
    }


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "lxdops.server.lxd"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("lxd.yml", "lxd.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        data = None
        if use_cache and cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                data = None
        if data is None:
            data = self._read_servers()
            if use_cache:
                self._cache[cache_key] = data
        self._populate(data)

    def _servers(self):
        defaults = dict((key, self.get_option(key)) for key in SERVER_KEYS)
        servers = self.get_option("servers") or [{"name": "local"}]
        result = []
        for entry in servers:
            if not isinstance(entry, dict) or not entry.get("name"):
                raise AnsibleParserError("servers: every entry needs a name (got %r)" % (entry,))
            unknown = set(entry) - set(SERVER_KEYS) - {"name"}
            if unknown:
                raise AnsibleParserError("servers: entry %r has unknown keys %s (accepted: name, %s)"
                                         % (entry["name"], ", ".join(sorted(unknown)), ", ".join(SERVER_KEYS)))
            merged = dict(defaults)
            merged.update((k, v) for k, v in entry.items() if v is not None)
            result.append(merged)
        return result

    def _read_servers(self):
        """{server name: {'instances': [...], 'connection': {...}} or {'error': message}}: one request each."""
        data = {}
        for server in self._servers():
            try:
                client = client_from_options(server)
                params = {"recursion": 2 if self.get_option("fetch_state") else 1}
                if server["all_projects"]:
                    params["all-projects"] = "true"
                # The project is passed as a name so the client does not check it first: one request per server.
                instances = client.request("GET", "/1.0/instances", params=params, allow_trust=False,
                                           project=False if server["all_projects"] else client.project).metadata or []
                if not instances and not server["all_projects"] and client.project != "default":
                    client.check_project()
                daemon = client.daemon_kind()
            except LXDError as exc:
                message = "server %r (%s): %s" % (server["name"], server.get("url") or "local socket", exc.message)
                if self.get_option("strict"):
                    raise AnsibleParserError(message)
                display.warning(message + "; its instances are left out")
                data[server["name"]] = {"error": message}
                continue
            data[server["name"]] = {
                "instances": instances,
                "daemon": daemon,
                "connection": {
                    "ansible_lxd_url": client.url,
                    "ansible_lxd_client_cert": client.client_cert,
                    "ansible_lxd_client_key": client.client_key,
                    "ansible_lxd_server_cert": server["server_cert"],
                    "ansible_lxd_verify": server["verify"],
                },
            }
        return data

    def _group(self, *parts):
        # Group names usable as Jinja2 identifiers: anything but letters, digits and _ becomes _.
        return re.sub(r"[^A-Za-z0-9_]", "_", self.get_option("group_prefix") + "_".join(str(p) for p in parts))

    def _populate(self, data):
        filters = dict((key, self.get_option(key)) for key in
                       ("status", "type", "profiles", "projects", "name_regex", "config_filter"))
        strict = self.get_option("strict")
        connection = self.get_option("connection")
        host_format = self.get_option("host_format")
        seen = {}
        for server, answer in data.items():
            if "error" in answer:
                continue
            server_group = self.inventory.add_group(self._group("server", server))
            connection_vars = dict((k, v) for k, v in answer["connection"].items() if v is not None)
            if connection:
                connection_vars["ansible_connection"] = connection
            for key, value in connection_vars.items():
                self.inventory.set_variable(server_group, key, value)
            for instance in answer["instances"]:
                if not instance_matches(instance, filters):
                    continue
                hostvars = host_variables(instance, server, answer.get("daemon") or DEFAULT_DAEMON)
                host = host_format.format(name=instance["name"], project=hostvars["lxd_project"], server=server,
                                          location=hostvars["lxd_location"] or "none")
                if host in seen:
                    raise AnsibleParserError("two instances make host %r (%s and %s): set host_format to tell them "
                                             "apart, e.g. '{server}-{name}' or '{project}-{name}'"
                                             % (host, seen[host], "%s/%s" % (server, instance["name"])))
                seen[host] = "%s/%s" % (server, instance["name"])
                self.inventory.add_host(host, group=server_group)
                for key, value in hostvars.items():
                    self.inventory.set_variable(host, key, value)
                address = preferred_address(hostvars["lxd_addresses"], self.get_option("preferred_interface"),
                                            self.get_option("preferred_family"))
                if address:
                    self.inventory.set_variable(host, "ansible_host", address)
                self._standard_groups(host, hostvars)
                self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
                self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)

    def _standard_groups(self, host, hostvars):
        groups = [("daemon", hostvars["lxd_daemon"]), ("project", hostvars["lxd_project"]),
                  ("status", hostvars["lxd_status"].lower()),
                  ("type", hostvars["lxd_type"])]
        groups += [("profile", profile) for profile in hostvars["lxd_profiles"]]
        if hostvars["lxd_location"] and hostvars["lxd_location"] != "none":
            groups.append(("location", hostvars["lxd_location"]))
        if hostvars["lxd_os"]:
            groups.append(("os", hostvars["lxd_os"].lower()))
        if hostvars["lxd_release"]:
            groups.append(("release", hostvars["lxd_release"].lower()))
        for kind, value in groups:
            group = self.inventory.add_group(self._group(kind, value))
            self.inventory.add_child(group, host)
