# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LXD clustering: bootstrap, join tokens, joining, member settings, removal, evacuation and restore.

The pure part (join tokens, member_config entries, addresses, planning a member's update) has no I/O and is
unit-tested; ClusterMemberManager applies it through the client.
"""

from __future__ import annotations

import re

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDError,
    api_path,
    certificate_fingerprint,
    decode_token,
    encode_token,
    fetch_certificate,
    pending_token_operations,
    split_address,
)
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    MEMBER_NETWORK_KEYS,
    MEMBER_POOL_KEYS,
    ConfigError,
    to_lxd_string,
)
from ansible_collections.lxdops.server.plugins.module_utils.daemon import kind_from_server
from ansible_collections.lxdops.server.plugins.module_utils.diff import DifferenceTracker
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import ZERO_TIME
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager

STATES = ("present", "absent", "bootstrapped", "joined", "evacuated", "restored")
MEMBER_CONFIG_ENTITIES = ("storage-pool", "network")
EVACUATE_MODES = ("stop", "migrate", "live-migrate")
RESTORE_MODES = ("skip",)
# Roles LXD assigns by itself (the database ones); a task manages the others (event-hub, ovn-chassis ...).
AUTOMATIC_ROLES = ("database", "database-leader", "database-standby")
# Options that belong to one state only: (option, states that take it).
STATE_OPTIONS = (
    ("cluster_token", ("joined",)),
    ("cluster_address", ("joined",)),
    ("member_config", ("joined",)),
    ("server_address", ("joined", "bootstrapped")),
    ("description", ("present",)),
    ("failure_domain", ("present",)),
    ("roles", ("present",)),
    ("config", ("present",)),
    ("force", ("absent",)),
    ("mode", ("evacuated", "restored")),
)

_MEMBER_NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$")


def check_member_name(option, value):
    """Cluster member names: 1-63 letters, digits, dots and hyphens, not starting or ending with a hyphen or dot."""
    if not isinstance(value, str) or not _MEMBER_NAME_RE.match(value) or value[-1] in "-.":
        raise ConfigError("%s %r is not a valid cluster member name; accepted: 1-63 letters, digits, dots and "
                          "hyphens, starting and ending with a letter or digit (lxd2, node-2.rack1)" % (option, value))


def check_address(option, value):
    """Return host:port for a cluster address given as host, host:port or [v6]:port (port 8443 by default)."""
    try:
        host, port = split_address(value)
    except ValueError:
        raise ConfigError("%s %r is not accepted; accepted: an address the other members reach, as host:port "
                          "(10.0.0.2:8443, [fd00::2]:8443) or host (port 8443)" % (option, value))
    if host in ("0.0.0.0", "::", "*"):
        raise ConfigError("%s %r is a wildcard address; a cluster address must be one the other members reach "
                          "(10.0.0.2:8443)" % (option, value))
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


# ---------------------------------------------------------------- join tokens

def decode_join_token(token, option="cluster_token"):
    """The fields of a cluster join token (as `lxc cluster add` prints it); never echoes the token."""
    decoded = decode_token(token)
    if not decoded or not decoded.get("secret") or not decoded.get("server_name") \
            or not decoded.get("fingerprint") or not decoded.get("addresses"):
        raise ConfigError("%s is not accepted: it is not a cluster join token (the base64 text `lxc cluster add "
                          "<name>` prints, or the token this module returns with state=present)" % option)
    return decoded


def encode_join_token(op_metadata):
    """The token string `lxc cluster add` prints, from a join-token operation's metadata."""
    meta = op_metadata or {}
    if not meta.get("secret"):
        raise LXDError("the server returned a join-token operation without a secret (is this LXD older than the "
                       "clustering_join_token API extension?)")
    token = {
        "server_name": meta.get("serverName"),
        "fingerprint": meta.get("fingerprint"),
        "addresses": list(meta.get("addresses") or []),
        "secret": meta["secret"],
        "expires_at": meta.get("expiresAt") or ZERO_TIME,
    }
    return encode_token(token)


def pending_join_tokens(operations, name, now=None):
    """The running, unexpired join-token operations for member `name` (GET /1.0/operations?recursion=1)."""
    return pending_token_operations(operations, lambda meta: meta.get("serverName") == name, now)


# ---------------------------------------------------------------- joining

def normalize_member_config(entries, option="member_config"):
    """Validate member_config entries; return the list PUT /1.0/cluster takes ({entity, name, key, value})."""
    result = []
    for index, entry in enumerate(entries or []):
        where = "%s[%d]" % (option, index)
        if not isinstance(entry, dict):
            raise ConfigError("%s: %r is not accepted; give a mapping with entity, name, key and value"
                              % (where, entry))
        unknown = sorted(set(entry) - {"entity", "name", "key", "value", "description"})
        if unknown:
            raise ConfigError("%s: unknown field %s; accepted: entity, name, key, value" % (where, ", ".join(unknown)))
        entity = entry.get("entity")
        if entity not in MEMBER_CONFIG_ENTITIES:
            raise ConfigError("%s.entity %r is not accepted; accepted: %s"
                              % (where, entity, ", ".join(MEMBER_CONFIG_ENTITIES)))
        for field in ("name", "key"):
            if not entry.get(field) or not isinstance(entry[field], str):
                raise ConfigError("%s.%s %r is not accepted; give the %s" % (
                    where, field, entry.get(field), "pool or network name" if field == "name" else "config key"))
        allowed = MEMBER_POOL_KEYS if entity == "storage-pool" else MEMBER_NETWORK_KEYS
        if entry["key"] not in allowed:
            raise ConfigError("%s.key %r is not member-specific for a %s; accepted: %s"
                              % (where, entry["key"], entity, ", ".join(allowed)))
        try:
            value = to_lxd_string(entry.get("value"))
        except ConfigError as exc:
            raise ConfigError("%s.value %r is not accepted; give %s" % (where, entry.get("value"), exc))
        result.append({"entity": entity, "name": entry["name"], "key": entry["key"], "value": value or ""})
    return result


def uses_explicit_token(server_info):
    """Whether the joining server takes the join token in cluster_token: LXD with explicit_trust_token, and Incus
    (which has no cluster password and no extension that says so)."""
    return kind_from_server(server_info) == "incus" or \
        "explicit_trust_token" in ((server_info or {}).get("api_extensions") or [])


def join_request(name, cluster_address, certificate, server_address, token, member_config, explicit_token):
    """The PUT /1.0/cluster body that joins this server to a cluster.

    explicit_token: the server knows the cluster_token field (newer LXD); older ones take the token as the
    cluster password.
    """
    body = {
        "server_name": name,
        "enabled": True,
        "cluster_address": cluster_address,
        "cluster_certificate": certificate,
        "member_config": list(member_config or []),
    }
    if server_address:
        body["server_address"] = server_address
    body["cluster_token" if explicit_token else "cluster_password"] = token
    return body


# ---------------------------------------------------------------- pools and networks on a cluster

def normalize_member_overrides(value, member_keys, what, option="member_config"):
    """{member: {key: str}} from a task's per-member keys of a pool or network; only member-specific keys."""
    result = {}
    if value is None:
        return result
    if not isinstance(value, dict):
        raise ConfigError("%s: %r is not accepted; give a mapping of member names to their keys" % (option, value))
    for member, keys in value.items():
        check_member_name("%s key" % option, member)
        if not isinstance(keys, dict):
            raise ConfigError("%s.%s: %r is not accepted; give a mapping of %s keys" % (option, member, keys, what))
        result[member] = {}
        for key, raw in keys.items():
            key = str(key)
            if key not in member_keys:
                raise ConfigError("%s.%s: key %r is not member-specific for a %s; accepted: %s (other keys are the "
                                  "same on every member: give them in config)"
                                  % (option, member, key, what, ", ".join(member_keys)))
            try:
                result[member][key] = to_lxd_string(raw)
            except ConfigError as exc:
                raise ConfigError("%s.%s: key %r: value %r is not accepted; give %s" % (option, member, key, raw, exc))
    return result


def split_for_members(config, member_keys, members, overrides=None, option="member_config"):
    """Split a pool's or network's config for LXD's pending-then-created flow on a cluster.

    config: the task's normalized config; its member-specific keys apply to every member unless overrides
    ({member: {key: value}}) give that member its own. Returns (cluster-wide config, {member: member config}).
    """
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(members))
    if unknown:
        raise ConfigError("%s: %s %s not a member of this cluster; members: %s"
                          % (option, ", ".join(unknown), "is" if len(unknown) == 1 else "are", ", ".join(members)))
    shared = dict((k, v) for k, v in (config or {}).items() if k in member_keys and v not in (None, ""))
    cluster_wide = dict((k, v) for k, v in (config or {}).items() if k not in member_keys)
    per_member = {}
    for member in members:
        own = dict(shared)
        own.update((k, v) for k, v in overrides.get(member, {}).items() if v not in (None, ""))
        per_member[member] = own
    return cluster_wide, per_member


def member_names(members):
    """Member names from GET /1.0/cluster/members (urls at recursion 0, objects at recursion 1)."""
    names = []
    for member in members or []:
        if isinstance(member, dict):
            names.append(member.get("server_name"))
        else:
            names.append(str(member).rstrip("/").rsplit("/", 1)[-1])
    return names


def is_clustered(client, obj=None):
    """Whether the server is clustered: told by a pool's or network's locations when given (no request)."""
    locations = (obj or {}).get("locations")
    if locations is not None:
        return any(location and location != "none" for location in locations)
    return bool((client.server_info().get("environment") or {}).get("server_clustered"))


def cluster_member_names(client):
    return member_names(client.get("/1.0/cluster/members", project=False).metadata)


def create_on_members(manager, collection, body, member_bodies, what, project=False):
    """LXD's pending-then-created flow: define the object on every member (?target=), then create it.

    collection: /1.0/storage-pools or /1.0/networks. member_bodies: {member: body with its own keys}.
    A member where a failed earlier run defined it already is passed over.
    """
    for member, member_body in sorted(member_bodies.items()):
        try:
            manager.write("define on %s" % member, manager.client.post, collection, member_body,
                          params={"target": member}, project=project)
        except LXDError as exc:
            if "already" not in (exc.error or exc.message):
                raise LXDError("defining %s on cluster member %s failed: %s" % (what, member, exc.error or exc.message))
    manager.write("create", manager.client.post, collection, body, project=project)


def create_on_cluster(manager, collection, body, member_keys, overrides, kind, what, project=False):
    """Create a pool or network on a cluster: defined on every member with its member-specific keys, then created.

    body: the creation body as on a single server (its config without nulls); member_keys and overrides
    (member_config) say which of its config goes to each member; kind names the object in the diff.
    """
    members = cluster_member_names(manager.client)
    cluster_wide, per_member = split_for_members(body.get("config"), member_keys, members, overrides)
    fields = dict((k, v) for k, v in body.items() if k not in ("config", "description"))
    member_bodies = dict((member, dict(fields, config=own)) for member, own in per_member.items())
    body = dict(body, config=cluster_wide)
    manager.tracker.add((kind,), None, dict(body, members=per_member))
    create_on_members(manager, collection, body, member_bodies, what, project=project)


# ---------------------------------------------------------------- members

def public_member(member):
    """What the module returns of a member."""
    member = member or {}
    return {
        "name": member.get("server_name"),
        "url": member.get("url"),
        "status": member.get("status"),
        "message": member.get("message"),
        "roles": list(member.get("roles") or []),
        "failure_domain": member.get("failure_domain"),
        "description": member.get("description", ""),
        "database": bool(member.get("database")),
        "architecture": member.get("architecture"),
        "config": dict(member.get("config") or {}),
        "groups": list(member.get("groups") or []),
    }


def plan_member_update(current, description=None, failure_domain=None, roles=None, config=None):
    """Plan a PUT /1.0/cluster/members/<name>: (body or None, DifferenceTracker).

    roles: the roles the task manages (database roles are LXD's own and kept); config: {key: str or None}.
    """
    tracker = DifferenceTracker()
    new_description = current.get("description", "")
    if description is not None and description != new_description:
        tracker.add(("description",), new_description, description)
        new_description = description
    new_domain = current.get("failure_domain") or "default"
    if failure_domain is not None and failure_domain != new_domain:
        tracker.add(("failure_domain",), new_domain, failure_domain)
        new_domain = failure_domain
    current_roles = list(current.get("roles") or [])
    new_roles = current_roles
    if roles is not None:
        kept = [r for r in current_roles if r in AUTOMATIC_ROLES]
        managed_now = sorted(r for r in current_roles if r not in AUTOMATIC_ROLES)
        wanted = sorted(set(roles))
        if managed_now != wanted:
            tracker.add(("roles",), managed_now, wanted)
            new_roles = kept + wanted
    new_config = dict(current.get("config") or {})
    for key, value in (config or {}).items():
        old = new_config.get(key)
        if value is None:
            if key in new_config:
                del new_config[key]
                tracker.add(("config", key), old, None)
        elif old != value:
            new_config[key] = value
            tracker.add(("config", key), old, value)
    if not tracker.has_changes:
        return None, tracker
    body = {"description": new_description, "failure_domain": new_domain, "roles": new_roles,
            "config": new_config, "groups": list(current.get("groups") or [])}
    return body, tracker


def evacuation_action(state, status):
    """The state action (evacuate, restore) a member with `status` needs, or None; raises for a member down."""
    if state == "evacuated":
        if status == "Evacuated":
            return None
        return "evacuate"
    if status == "Evacuated":
        return "restore"
    return None


def describe_members(members):
    return ", ".join("%s (%s)" % (m.get("server_name"), m.get("status")) for m in members) or "none"


# ---------------------------------------------------------------- the manager

class ClusterMemberManager(Manager):
    def validate(self):
        p = self.params
        state = p["state"]
        for option, states in STATE_OPTIONS:
            if option in self.module.given and p.get(option) not in (None, False, [], {}) and state not in states:
                raise ConfigError("%s is not accepted with state=%s; it applies to state=%s"
                                  % (option, state, " or ".join(states)))
        self.token = None
        if state == "joined":
            if not p["cluster_token"]:
                raise ConfigError("state=joined needs cluster_token (issued on the cluster with state=present, or "
                                  "by `lxc cluster add <name>`)")
            self.token = decode_join_token(p["cluster_token"])
            if p["name"] and p["name"] != self.token["server_name"]:
                raise ConfigError("name %r does not match the join token, which was issued for %r"
                                  % (p["name"], self.token["server_name"]))
        elif not p["name"]:
            raise ConfigError("state=%s needs name (the cluster member's name)" % state)
        self.name = p["name"] or self.token["server_name"]
        check_member_name("name", self.name)
        self.cluster_address = check_address("cluster_address", p["cluster_address"]) if p["cluster_address"] else None
        self.server_address = check_address("server_address", p["server_address"]) if p["server_address"] else None
        self.member_config = normalize_member_config(p["member_config"])
        for role in p["roles"] or []:
            if role in AUTOMATIC_ROLES:
                raise ConfigError("roles: %r is not accepted; LXD assigns the database roles itself (give roles such "
                                  "as event-hub or ovn-chassis)" % role)
        self.config = {}
        for key, value in (p["config"] or {}).items():
            try:
                self.config[str(key)] = to_lxd_string(value)
            except ConfigError as exc:
                raise ConfigError("config key %r: value %r is not accepted; give %s" % (key, value, exc))
        if p["mode"]:
            accepted = EVACUATE_MODES if state == "evacuated" else RESTORE_MODES
            if p["mode"] not in accepted:
                raise ConfigError("mode %r is not accepted with state=%s; accepted: %s"
                                  % (p["mode"], state, ", ".join(accepted)))

    # ------------------------------------------------------------ reads

    def cluster(self):
        return self.client.get("/1.0/cluster", project=False).metadata or {}

    def members(self):
        return self.client.get("/1.0/cluster/members", params={"recursion": 1}, project=False).metadata or []

    def find(self, members):
        for member in members:
            if member.get("server_name") == self.name:
                return member
        return None

    def require_cluster(self, cluster):
        if not cluster.get("enabled"):
            raise LXDError("the server at %s is not part of a cluster: state=%s runs on a cluster member (use "
                           "state=bootstrapped to make it the first one, or state=joined to join it to a cluster)"
                           % (self.client.url, self.params["state"]))

    # ------------------------------------------------------------ apply

    def apply(self):
        state = self.params["state"]
        cluster = self.cluster()
        self.result = {"token": None}
        if state == "bootstrapped":
            self.bootstrap(cluster)
        elif state == "joined":
            self.join(cluster)
        elif state == "absent":
            self.absent(cluster)
        else:
            self.require_cluster(cluster)
            members = self.members()
            member = self.find(members)
            if state == "present":
                self.present(member)
            else:
                self.evacuate_or_restore(member, members)
        self.finish(cluster)

    def finish(self, cluster):
        """Members as they are now (as they were, in check mode): none on a server that is not clustered."""
        if self.actions and not self.check_mode:
            cluster = self.cluster()
        members = self.members() if cluster.get("enabled") else []
        member = self.find(members)
        self.result["members"] = [public_member(m) for m in members]
        self.result["member"] = public_member(member) if member else {}

    def already_member(self, cluster, step):
        """True when the server is a cluster member under this name already; under another name, `step` fails."""
        if not cluster.get("enabled"):
            return False
        if cluster.get("server_name") != self.name:
            raise LXDError("the server at %s is already a cluster member named %r; it cannot %s as %r"
                           % (self.client.url, cluster.get("server_name"), step, self.name))
        return True

    def bootstrap(self, cluster):
        if self.already_member(cluster, "bootstrap the cluster"):
            return
        info = self.client.server_info(refresh=True)
        config = info.get("config") or {}
        if self.server_address and config.get("cluster.https_address") != self.server_address:
            self.tracker.add(("config", "cluster.https_address"), config.get("cluster.https_address"),
                             self.server_address)
            self.write("set cluster.https_address", self.client.patch, "/1.0",
                       {"config": {"cluster.https_address": self.server_address}}, project=False)
        elif not (config.get("cluster.https_address") or config.get("core.https_address")):
            raise LXDError("the server at %s does not listen on the network (core.https_address is empty): give "
                           "server_address, the address the other members will reach it at" % self.client.url)
        self.tracker.add(("cluster",), {"enabled": False}, {"enabled": True, "server_name": self.name})
        self.write("bootstrap", self.client.put, "/1.0/cluster", {"server_name": self.name, "enabled": True},
                   project=False)

    def join(self, cluster):
        if self.already_member(cluster, "join"):
            return
        addresses = [self.cluster_address] if self.cluster_address else list(self.token["addresses"])
        self.tracker.add(("cluster",), {"enabled": False}, {"enabled": True, "server_name": self.name})
        if self.check_mode:
            self.actions.append("join")
            return
        address, certificate = self.cluster_certificate(addresses)
        body = join_request(self.name, address, certificate, self.server_address, self.params["cluster_token"],
                            self.member_config, uses_explicit_token(self.client.server_info()))
        try:
            self.write("join", self.client.put, "/1.0/cluster", body, project=False)
        except LXDError as exc:
            # LXD's message never holds the token; ours names where the join went.
            raise LXDError("joining the cluster at %s as %r failed: %s"
                           % (address, self.name, exc.error or exc.message))

    def cluster_certificate(self, addresses):
        """The first address that presents the certificate the token names, with that certificate."""
        failures = []
        for address in addresses:
            try:
                pem = fetch_certificate(address, timeout=min(self.params["timeout"], 30))
            except LXDError as exc:
                failures.append(exc.message)
                continue
            if certificate_fingerprint(pem) != self.token["fingerprint"]:
                failures.append("%s presents a certificate (sha256 %s) that is not the one the token names (sha256 %s)"
                                % (address, certificate_fingerprint(pem), self.token["fingerprint"]))
                continue
            return address, pem
        raise LXDError("no cluster member answers with the cluster's certificate: %s" % "; ".join(failures))

    def present(self, member):
        p = self.params
        if member is None:
            self.issue_token()
            return
        config = self.config if p["config"] is not None else None
        body, tracker = plan_member_update(member, p["description"], p["failure_domain"], p["roles"], config)
        self.tracker.merge(tracker)
        if body is not None:
            self.write("update", self.client.put, api_path("cluster", "members", self.name), body, project=False)

    def pending(self):
        operations = self.client.get("/1.0/operations", params={"recursion": 1}, project=False).metadata
        return pending_join_tokens(operations, self.name)

    def issue_token(self):
        pending = self.pending()
        if pending:
            self.result["token"] = encode_join_token(pending[0].get("metadata"))
            return
        self.tracker.add(("token",), None, {"server_name": self.name})
        self.result["token"] = self.write("issue join token", self._issue)

    def _issue(self):
        response = self.client.post("/1.0/cluster/members", {"server_name": self.name}, project=False, wait=False)
        meta = (response.metadata or {}).get("metadata") or {}
        if not meta.get("secret") and response.operation:
            meta = (self.client.get(response.operation, project=False).metadata or {}).get("metadata") or {}
        return encode_join_token(meta)

    def absent(self, cluster):
        if not cluster.get("enabled"):
            return
        member = self.find(self.members())
        for op in self.pending():
            self.tracker.add(("token",), {"server_name": self.name, "operation": op.get("id")}, None)
            self.write("revoke join token", self.client.delete, api_path("operations", op["id"]), project=False)
        if member is None:
            return
        self.tracker.add(("member",), {"name": self.name, "status": member.get("status")}, None)
        params = {"force": 1} if self.params["force"] else None
        try:
            self.write("remove", self.client.delete, api_path("cluster", "members", self.name), params=params,
                       project=False)
        except LXDError as exc:
            hint = "" if self.params["force"] else " (force=true removes a member that is down or cannot be reached)"
            raise LXDError("removing cluster member %r failed: %s%s" % (self.name, exc.error or exc.message, hint))

    def evacuate_or_restore(self, member, members):
        state = self.params["state"]
        if member is None:
            raise LXDError("%r is not a member of the cluster at %s; members: %s"
                           % (self.name, self.client.url, describe_members(members)))
        status = member.get("status")
        action = evacuation_action(state, status)
        if action is None:
            return
        if status not in ("Online", "Evacuated"):
            raise LXDError("cluster member %r is %s (%s): it cannot be %s until its daemon answers again"
                           % (self.name, status, member.get("message") or "no message", state))
        body = {"action": action}
        if self.params["mode"]:
            body["mode"] = self.params["mode"]
        self.tracker.add(("status",), status, "Evacuated" if action == "evacuate" else "Online")
        try:
            self.write(action, self.client.post, api_path("cluster", "members", self.name, "state"), body,
                       project=False)
        except LXDError as exc:
            raise LXDError("%s of cluster member %r failed: %s" % (action, self.name, exc.error or exc.message))
