# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Instances (containers and virtual machines): create, update, run state, delete."""

from __future__ import annotations

import time

from ansible_collections.lxdops.server.plugins.module_utils.client import (
    LXDError,
    LXDNotFound,
    api_path,
    load_pem_certificate,
)
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    ConfigError,
    normalize_config,
    normalize_devices,
    without_volatile,
)
from ansible_collections.lxdops.server.plugins.module_utils.diff import plan_config, plan_devices, plan_value
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager, check_name

STATES = ("present", "started", "stopped", "restarted", "frozen", "absent")
# What each requested state leaves the instance in (present: as it was, or Stopped when created).
TARGET_STATUS = {"started": "Running", "restarted": "Running", "stopped": "Stopped", "frozen": "Frozen"}
# The fields of an instance that a PUT replaces.
WRITABLE = ("architecture", "config", "devices", "ephemeral", "profiles", "stateful", "description")


def instance_options(defaults=True):
    """lxd_instance's own options (argument spec), shared by every module that converges instances.

    defaults=False leaves the defaults out, so that for an entry of a list an option the entry left out can be
    told from one it gave (the list's defaults fill it, then these: see option_defaults()).
    """
    def opt(kind, default=None, **extra):
        spec = dict(type=kind, **extra)
        if defaults and default is not None:
            spec["default"] = default
        return spec

    return dict(
        name=dict(type="str", required=True),
        state=opt("str", "started", choices=list(STATES)),
        type=opt("str", choices=["container", "virtual-machine"]),
        source=opt("dict", options=dict(
            alias=dict(type="str"),
            fingerprint=dict(type="str"),
            server=dict(type="str"),
            # Inside source (a whole dict, never merged) the defaults always apply.
            protocol=dict(type="str", choices=["lxd", "simplestreams"], default="lxd"),
            server_cert=dict(type="str"),
            instance=dict(type="str"),
            instance_only=dict(type="bool", default=False),
        )),
        profiles=opt("list", elements="str"),
        config=opt("dict"),
        devices=opt("dict"),
        config_mode=opt("str", "merge", choices=["merge", "replace"]),
        description=opt("str"),
        ephemeral=opt("bool"),
        target=opt("str"),
        wait_for_ipv4=opt("int", 0),
        force_stop=opt("bool", False),
    )


def option_defaults():
    """{option: default} of lxd_instance's options that have one."""
    return dict((k, v["default"]) for k, v in instance_options().items() if "default" in v)


# The daemon's answer to a stop of an instance that is no longer running (LXD and Incus).
ALREADY_STOPPED = "The instance is already stopped"


class EntryContext:
    """What a manager needs from a module, for one instance of a list converged in one module run.

    The client is set by the worker that converges it (a client is never shared between threads); a validation
    failure is raised as ConfigError instead of ending the process.
    """

    def __init__(self, params, check_mode, diff=True):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.client = None

    def fail_json(self, msg, **_result):
        raise ConfigError(msg)


def result_key(project, name):
    """How an instance is named in results, logs and diffs: its name, with the project when not default."""
    return name if project in (None, "default") else "%s/%s" % (project, name)


def failure_summary(results):
    """The message of a task over many instances that failed for some: 'N of M instances failed: a: why; ...'."""
    failed = [r for r in results if r.get("error")]
    return "%d of %d instances failed: %s" % (len(failed), len(results), "; ".join(
        "%s: %s" % (result_key(r.get("project"), r["name"]), r["error"]) for r in failed))


def writable(instance):
    """The PUT body that leaves an instance as it is (its own fields, as LXD returned them)."""
    return dict((k, instance[k]) for k in WRITABLE if k in instance)


def reachable_addresses(instance):
    """{interface: [LXD's address entries]} of an instance's state without loopback and link-local addresses.

    The collection's one address filter (the module's result, wait_for_ipv4, the inventory's host variables).
    An address whose scope the daemon left empty counts as reachable.
    """
    network = ((instance or {}).get("state") or {}).get("network") or {}
    return dict((ifname, [a for a in info.get("addresses") or [] if a.get("scope") in ("global", "")])
                for ifname, info in sorted(network.items()) if ifname != "lo")


def instance_addresses(instance):
    """{interface: [addresses]} an instance can be reached at."""
    return dict((ifname, [a["address"] for a in entries]) for ifname, entries in reachable_addresses(instance).items())


def has_ipv4(instance):
    return any(a.get("family") == "inet" for entries in reachable_addresses(instance).values() for a in entries)


def describe_network(instance):
    addresses = instance_addresses(instance)
    if not addresses:
        return "no network interfaces"
    return ", ".join("%s (%s)" % (name, ", ".join(addrs) or "no address") for name, addrs in addresses.items())


def image_source(source):
    """The 'source' of an instance POST, from the module's source option (already validated)."""
    if source.get("instance"):
        body = {"type": "copy", "source": source["instance"]}
        if source.get("instance_only"):
            body["instance_only"] = True
        return body
    body = {"type": "image"}
    if source.get("alias"):
        body["alias"] = source["alias"]
    else:
        body["fingerprint"] = source["fingerprint"]
    if source.get("server"):
        body.update(mode="pull", server=source["server"], protocol=source.get("protocol") or "lxd")
        if source.get("server_cert"):
            body["certificate"] = load_pem_certificate(source["server_cert"], option="source.server_cert")
    return body


def merged(base, changes):
    """A copy of base with changes applied: a key given None is removed (a copied instance's config or devices)."""
    result = dict(base or {})
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def describe_source(source):
    """The source option as a reader names it in an error (source.alias 'x' on server y)."""
    for key in ("alias", "fingerprint", "instance"):
        if source.get(key):
            where = " on %s" % source["server"] if source.get("server") else ""
            return "source.%s %r%s" % (key, source[key], where)
    return "source"


class InstanceManager(Manager):
    """One instance, for lxd_instance (which reads it itself: apply()) and for a list of instances converged in
    one run (given its state from one list request: converge()).

    `scope` is the project every request names: True is the client's own project (checked once by the client);
    a list run sets the entry's project name, already known to exist from its list request. `refetch` reads the
    instance back after a change (lxd_instance returns it); a list run leaves it off: one request per change.
    """

    scope = True
    refetch = True

    def validate(self):
        p = self.params
        check_name("name", p["name"])
        self.name = p["name"]
        self.path = api_path("instances", self.name)
        self.config = normalize_config(p["config"], where="config")
        self.devices = normalize_devices(p["devices"], where="devices")
        self.replace = p["config_mode"] == "replace"
        for profile in p["profiles"] or []:
            if not profile:
                raise ConfigError("profiles: empty profile names are not accepted")
        source = p["source"] or {}
        given = [k for k in ("alias", "fingerprint", "instance") if source.get(k)]
        if source and len(given) != 1:
            raise ConfigError("source: give exactly one of alias, fingerprint or instance (got %s)"
                              % (", ".join(given) or "none"))
        if source.get("server") and source.get("instance"):
            raise ConfigError("source: server applies to images (alias or fingerprint), not to source.instance")
        if source.get("server") and not source["server"].startswith("https://"):
            raise ConfigError("source.server %r is not accepted: give an https:// url" % source["server"])
        if source.get("server_cert"):
            load_pem_certificate(source["server_cert"], option="source.server_cert")
        if p["wait_for_ipv4"] < 0:
            raise ConfigError("wait_for_ipv4: %d is not accepted; give a number of seconds (0 = do not wait)"
                              % p["wait_for_ipv4"])

    # ------------------------------------------------------------ reads

    def fetch(self):
        """The instance with its state and snapshots (one request), or None."""
        try:
            return self.fetch_with_etag(self.path, params={"recursion": 1}, project=self.scope)
        except LXDError as exc:
            raise self.unreachable_member_error(exc)

    # ------------------------------------------------------------ apply

    def apply(self):
        self.converge(self.fetch())

    def converge(self, current):
        """Bring the instance from `current` (as LXD returned it, or None when it does not exist) to what the
        parameters ask; self.result holds the instance as it ends up (as far as it was read)."""
        state = self.params["state"]
        if state == "absent":
            if current is not None:
                self.tracker.add(("status",), current["status"], None)
                self.delete(current)
            self.result = {"instance": {}, "addresses": {}}
            return
        if current is None:
            self.create()
            # A new instance is stopped: reach_state() knows that without reading it.
            current = None if self.check_mode or not self.refetch else self.fetch()
        else:
            current = self.move(current)
            self.update(current)
        current = self.reach_state(current)
        self.result = {"instance": _public(current), "addresses": instance_addresses(current)}

    def final_status(self, current):
        """The run status the instance is left in (or would be, in check mode); None when absent."""
        state = self.params["state"]
        if state == "absent":
            return None
        return TARGET_STATUS.get(state) or (current or {}).get("status") or "Stopped"

    def create(self):
        p = self.params
        if not p["source"]:
            raise ConfigError("instance %r does not exist: give source (an image alias or fingerprint, or an "
                              "instance to copy) to create it" % self.name)
        instance_type = p["type"] or "container"
        if instance_type == "virtual-machine":
            drivers = self.client.server_info().get("environment", {}).get("driver", "")
            if "qemu" not in drivers:
                raise LXDError("type virtual-machine: the server at %s cannot run virtual machines (its instance "
                               "drivers: %s)" % (self.client.url, drivers or "unknown"))
        params = {}
        if p["target"]:
            self.check_target()
            params["target"] = p["target"]
        body = {"name": self.name, "type": instance_type, "source": image_source(p["source"])}
        if p["source"].get("instance"):
            # LXD copies the disk only; like `lxc copy`, carry the source's settings (not its volatile keys).
            origin = self.copy_origin(p["source"]["instance"])
            body["config"] = without_volatile(origin.get("config"))
            body["devices"] = origin.get("devices") or {}
            body["profiles"] = origin.get("profiles") or []
            body["ephemeral"] = origin.get("ephemeral", False)
            body["description"] = origin.get("description", "")
            body["type"] = origin.get("type", instance_type)
        for section, given in (("config", self.config), ("devices", self.devices)):
            if given:
                body[section] = merged(body.get(section), given)
        if p["profiles"] is not None:
            body["profiles"] = p["profiles"]
        if p["description"] is not None:
            body["description"] = p["description"]
        if p["ephemeral"] is not None:
            body["ephemeral"] = p["ephemeral"]
        after = {"status": "Stopped", "type": instance_type}
        for key in ("config", "devices", "profiles", "description"):
            if key in body:
                after[key] = body[key]
        self.tracker.add(("instance",), None, after)
        try:
            self.write("create", self.client.post, "/1.0/instances", body, params=params, project=self.scope)
        except LXDNotFound as exc:
            raise LXDError("creating instance %r from %s: %s" % (self.name, describe_source(p["source"]), exc.message),
                           status_code=exc.status_code, error=exc.error)
        except LXDError as exc:
            # Incus refuses a missing local image without saying so ("Image not provided"): ask for the image.
            if not self.local_image_missing(p["source"]):
                raise
            raise LXDError("creating instance %r from %s: not found on %s (%s)"
                           % (self.name, describe_source(p["source"]), self.client.url, exc.error or exc.message),
                           status_code=exc.status_code, error=exc.error)

    def local_image_missing(self, source):
        """True when source names an image of this server (alias or fingerprint) that the server does not have."""
        if source.get("server") or source.get("instance"):
            return False
        path = (api_path("images", "aliases", source["alias"]) if source.get("alias")
                else api_path("images", source["fingerprint"]))
        try:
            self.client.get(path, project=self.scope)
        except LXDNotFound:
            return True
        except LXDError:
            return False
        return False

    def copy_origin(self, source):
        name, _sep, snapshot = source.partition("/")
        path = api_path("instances", name, "snapshots", snapshot) if snapshot else api_path("instances", name)
        try:
            return self.client.get(path, project=self.scope).metadata
        except LXDNotFound:
            raise LXDError("source.instance %r: no such %s" % (source, "snapshot" if snapshot else "instance"))

    def unreachable_member_error(self, exc):
        """On a cluster, name the member an instance is on when that member does not answer; else exc itself."""
        if not (self.client.server_info().get("environment") or {}).get("server_clustered"):
            return exc
        try:
            listed = self.client.get("/1.0/instances", params={"recursion": 1}, project=self.scope).metadata or []
            location = next((i.get("location") for i in listed if i.get("name") == self.name), None)
            if not location:
                return exc
            member = self.client.get(api_path("cluster", "members", location), project=False).metadata or {}
        except LXDError:
            return exc
        if member.get("status") in ("Online", "Evacuated"):
            return exc
        return LXDError("instance %r is on cluster member %r, which is %s (%s): it cannot be read or changed until "
                        "that member's daemon answers again (LXD said: %s)"
                        % (self.name, location, member.get("status"), member.get("message") or "no message",
                           exc.error or exc.message), status_code=exc.status_code, error=exc.error)

    def move(self, current):
        """Move a stopped instance to the member named by target (LXD moves only stopped ones between members)."""
        target = self.params["target"]
        location = current.get("location")
        if not target or not location or location == target or location == "none":
            return current
        self.check_target()
        status = current.get("status")
        if status != "Stopped":
            if self.params["state"] != "stopped":
                raise LXDError("instance %r runs on cluster member %r; stop it to move it to %r (state=stopped stops "
                               "and moves it), or evacuate %r with lxdops.server.lxd_cluster_member"
                               % (self.name, location, target, location))
            force = self.params["force_stop"]
            if status == "Frozen" and not force:
                self.change_state("unfreeze")
            self.stop(force)
            self.tracker.add(("status",), status, "Stopped")
            current = dict(current, status="Stopped") if self.check_mode else self.fetch()
        self.tracker.add(("location",), location, target)
        self.write("move", self.client.post, self.path, {"name": self.name, "migration": True},
                   params={"target": target}, project=self.scope)
        return current if self.check_mode else self.fetch()

    def check_target(self):
        environment = self.client.server_info().get("environment", {})
        if not environment.get("server_clustered"):
            raise LXDError("target %r: the server at %s is not part of a cluster; leave target out"
                           % (self.params["target"], self.client.url))

    def update(self, current):
        p = self.params
        if p["type"] and current.get("type") != p["type"]:
            raise LXDError("instance %r exists as a %s; type %s cannot be changed in place"
                           % (self.name, current.get("type"), p["type"]))
        config, config_changes = plan_config(current.get("config"), self.config, replace=self.replace)
        devices, device_changes = plan_devices(current.get("devices"), self.devices, replace=self.replace)
        self.tracker.merge(config_changes)
        self.tracker.merge(device_changes)
        profiles = plan_value(self.tracker, ("profiles",), current.get("profiles"), p["profiles"])
        description = plan_value(self.tracker, ("description",), current.get("description"), p["description"])
        ephemeral = plan_value(self.tracker, ("ephemeral",), current.get("ephemeral"), p["ephemeral"])
        if not (config_changes.has_changes or device_changes.has_changes or profiles != current.get("profiles")
                or description != current.get("description") or ephemeral != current.get("ephemeral")):
            return
        body = writable(current)
        body.update(config=config, devices=devices, profiles=profiles, description=description, ephemeral=ephemeral)
        # A PUT never changes the run state: a stopped instance stays stopped.
        self.write("update", self.client.put, self.path, body, etag=current.get("_etag"), project=self.scope)

    # ------------------------------------------------------------ run state

    def change_state(self, action, force=False):
        body = {"action": action, "timeout": self.params["timeout"], "force": force}
        self.write(action, self.client.put, self.path + "/state", body, project=self.scope)

    def reach_state(self, current):
        """Move the instance to the requested run state; return it as it ends up."""
        state = self.params["state"]
        force = self.params["force_stop"]
        status = current["status"] if current else "Stopped"
        before = status if current else None
        if state == "started":
            if status == "Frozen":
                self.change_state("unfreeze")
            elif status != "Running":
                self.change_state("start")
        elif state == "stopped":
            if status == "Frozen" and not force:
                self.change_state("unfreeze")
            if status in ("Running", "Frozen"):
                self.stop(force)
        elif state == "restarted":
            if status == "Frozen":
                self.change_state("unfreeze")
            if status in ("Running", "Frozen"):
                self.change_state("restart", force=force)
            else:
                self.change_state("start")
        elif state == "frozen":
            if status == "Running":
                self.change_state("freeze")
            elif status != "Frozen":
                self.change_state("start")
                self.change_state("freeze")
        target = TARGET_STATUS.get(state)
        if target and target != status:
            self.tracker.add(("status",), before, target)
        if self.check_mode or not self.actions:
            return current
        if not self.refetch and not (state in ("started", "restarted") and self.params["wait_for_ipv4"]):
            return current
        if state in ("started", "restarted") and self.params["wait_for_ipv4"]:
            return self.wait_for_ipv4()
        return self.fetch()

    def stop(self, force):
        try:
            self.change_state("stop", force=force)
        except LXDError as exc:
            # It stopped by itself since it was read (a start that failed, its command ending): what was asked.
            if ALREADY_STOPPED in (exc.error or exc.message):
                return
            if force:
                raise
            raise LXDError("instance %r did not stop within %d seconds (%s); set force_stop=true to stop it "
                           "forcibly, or raise timeout" % (self.name, self.params["timeout"], exc.error or exc.message))

    def wait_for_ipv4(self):
        limit = self.params["wait_for_ipv4"]
        deadline = time.monotonic() + limit
        while True:
            instance = self.fetch()
            if has_ipv4(instance):
                return instance
            if time.monotonic() >= deadline:
                raise LXDError("instance %r has no IPv4 address after %d seconds (wait_for_ipv4); status %s, "
                               "interfaces: %s" % (self.name, limit, instance["status"], describe_network(instance)))
            time.sleep(0.5)

    def delete(self, current):
        status = current["status"]
        force = self.params["force_stop"]
        if status in ("Running", "Frozen"):
            if status == "Frozen" and not force:
                self.change_state("unfreeze")
            self.stop(force)
        elif status not in ("Stopped",):
            # Error or a transition: only a forced stop can bring it down before deletion.
            try:
                self.change_state("stop", force=True)
            except LXDError:
                pass
        self.write("delete", self.client.delete, self.path, project=self.scope)


def _public(instance):
    if not instance:
        return {}
    result = dict((k, v) for k, v in instance.items() if not k.startswith("_"))
    result["snapshots_count"] = len(instance.get("snapshots") or [])
    return result
