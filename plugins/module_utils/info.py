# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Read-only facts about one LXD or Incus server: server, instances, profiles, networks, storage pools and custom
volumes, projects.

A failed read fails the whole gathering: an answer is never replaced by an empty list, because the
callers (failover first of all) decide on what is running from it.
"""

from __future__ import annotations

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager, check_name
from ansible_collections.lxdops.server.plugins.module_utils.server import without_secrets
from ansible_collections.lxdops.server.plugins.module_utils.volume import list_volumes

SECTIONS = ("server", "instances", "profiles", "networks", "storage_pools", "storage_volumes", "projects")
# Read unless gather says otherwise: custom volumes cost a request per pool, so they are asked for by name.
DEFAULT_GATHER = tuple(s for s in SECTIONS if s != "storage_volumes")

# Read in this order: the server first (its extensions are then known without another request), the projects
# before the profiles (an LXD without profiles_all_projects is asked project by project).
_ORDER = ("server", "projects", "instances", "profiles", "networks", "storage_pools", "storage_volumes")

# What an operator reads in `lxc info` (top level of GET /1.0, then its environment).
SERVER_FIELDS = ("api_version", "api_status", "auth", "api_extensions")
ENVIRONMENT_FIELDS = ("server_name", "server", "server_version", "server_clustered", "addresses", "architectures",
                      "certificate", "certificate_fingerprint", "kernel", "kernel_version", "kernel_architecture",
                      "os_name", "os_version", "driver", "driver_version", "storage", "storage_version",
                      "firewall")


def check_gather(gather):
    """The sections to read, each once, in the order given; raise ConfigError when none."""
    if not gather:
        raise ConfigError("gather is empty; give one or more of %s" % ", ".join(SECTIONS))
    seen = []
    for section in gather:
        if section not in SECTIONS:
            raise ConfigError("gather %r is not accepted; accepted: %s" % (section, ", ".join(SECTIONS)))
        if section not in seen:
            seen.append(section)
    return seen


def server_summary(metadata):
    """GET /1.0 -> the server's facts; config without its secret keys."""
    environment = metadata.get("environment") or {}
    summary = dict((field, metadata.get(field)) for field in SERVER_FIELDS)
    summary.update((field, environment.get(field)) for field in ENVIRONMENT_FIELDS)
    summary["api_extensions"] = list(metadata.get("api_extensions") or [])
    summary["config"] = without_secrets(metadata.get("config"))
    return summary


def profile_projects(projects):
    """The projects whose profiles are their own (features.profiles); the others use the default project's."""
    names = ["default"]
    for project in projects:
        if project.get("name") != "default" and (project.get("config") or {}).get("features.profiles") == "true":
            names.append(project["name"])
    return names


def own_project(project, feature, name):
    """The project whose `feature` objects `name` sees: itself when the feature is on, else default."""
    if name == "default" or (project.get("config") or {}).get(feature) == "true":
        return name
    return "default"


def with_project(items, project):
    """Each item gets `project` (LXD before profiles_all_projects leaves it out of profiles)."""
    result = []
    for item in items or []:
        item = dict(item)
        if not item.get("project"):
            item["project"] = project
        result.append(item)
    return result


def select_instances(instances, names):
    """Keep the instances named (every project's); returns (selected, names that none has)."""
    if names is None:
        return instances, []
    wanted = set(names)
    selected = [inst for inst in instances if inst.get("name") in wanted]
    found = set(inst.get("name") for inst in selected)
    missing = []
    for name in names:
        if name not in found and name not in missing:
            missing.append(name)
    return selected, missing


def project_entry(project):
    return {
        "name": project.get("name"),
        "description": project.get("description", ""),
        "config": project.get("config") or {},
        "used_by": project.get("used_by") or [],
    }


class InfoGatherer(Manager):
    """Reads only; changed is always false, in check mode as in a normal run."""

    def validate(self):
        p = self.params
        self.sections = check_gather(p["gather"])
        self.names = p["instances"]
        if self.names is not None:
            if not self.names:
                # Read as "none of them", an empty filter would make every instance look absent.
                raise ConfigError("instances is an empty list; leave it out to read every instance, or name some")
            if "instances" not in self.sections:
                raise ConfigError("instances (a filter of instance names) needs 'instances' in gather; gather is %s"
                                  % ", ".join(self.sections))
            for name in self.names:
                check_name("instances", name)
        self.all_projects = p["all_projects"]

    def apply(self):
        self._projects = None
        self._project = None
        for section in _ORDER:
            if section in self.sections:
                try:
                    self.result[section] = getattr(self, "read_" + section)()
                except LXDError as exc:
                    # The client's message names the server or socket; this names what was being read.
                    raise type(exc)("cannot read %s: %s" % (section.replace("_", " "), exc.message),
                                    status_code=exc.status_code, error=exc.error)
        if self.names is not None:
            self.result["instances"], self.result["missing"] = select_instances(self.result["instances"], self.names)

    def get(self, path, project=False, **params):
        params["recursion"] = 1
        return self.client.get(path, params=params, project=project).metadata

    def list_projects(self):
        if self._projects is None:
            self._projects = self.get("/1.0/projects") or []
        return self._projects

    def project(self):
        """The connection's project (its config tells which of its objects are its own); fails when it is missing."""
        if self._project is None:
            name = self.client.project
            if name == "default":
                self._project = {"name": "default", "config": {}}
            elif self._projects is not None:
                found = [proj for proj in self._projects if proj.get("name") == name]
                if not found:
                    raise LXDNotFound("project %r does not exist on %s" % (name, self.client.url), status_code=404)
                self._project = found[0]
            else:
                try:
                    self._project = self.client.get(api_path("projects", name), project=False).metadata
                except LXDNotFound:
                    # LXD lists nothing for an unknown project: that must not read as "no instances".
                    raise LXDNotFound("project %r does not exist on %s" % (name, self.client.url), status_code=404)
        return self._project

    def read_server(self):
        info = self.client.server_info()
        if info.get("auth") != "trusted":
            # GET /1.0 answers an untrusted client with a little; this raises the client's readable refusal.
            self.client.authenticate()
            info = self.client.server_info(refresh=True)
        return server_summary(info)

    def read_projects(self):
        return [project_entry(project) for project in self.list_projects()]

    def read_instances(self):
        if self.all_projects:
            return with_project(self.get("/1.0/instances", **{"all-projects": "true"}), None)
        name = self.project()["name"]
        return with_project(self.get("/1.0/instances", project=name), name)

    def read_profiles(self):
        if self.all_projects:
            if self.client.has_extension("profiles_all_projects"):
                return with_project(self.get("/1.0/profiles", **{"all-projects": "true"}), "default")
            # This LXD ignores all-projects for profiles: ask each project that has profiles of its own.
            profiles = []
            for name in profile_projects(self.list_projects()):
                profiles.extend(with_project(self.get("/1.0/profiles", project=name), name))
            return profiles
        project = self.project()
        return with_project(self.get("/1.0/profiles", project=project["name"]),
                            own_project(project, "features.profiles", project["name"]))

    def read_networks(self):
        return self.get("/1.0/networks", project=self.project()["name"]) or []

    def read_storage_pools(self):
        return self.get("/1.0/storage-pools") or []

    def read_storage_volumes(self):
        """Custom volumes of every pool, each with its pool (the pools already read are not asked for again)."""
        pools = self.result.get("storage_pools")
        if pools is None:
            pools = self.read_storage_pools()
        return [dict(volume, pool=pool["name"]) for pool in pools
                for volume in list_volumes(self.client, pool["name"], all_projects=self.all_projects)]

    def run(self):
        try:
            self.apply()
        except (LXDError, ConfigError) as exc:
            self.module.fail_json(msg=getattr(exc, "message", None) or str(exc))
        self.module.exit_json(changed=False, **self.result)
