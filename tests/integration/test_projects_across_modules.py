# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A project made by lxd_project, then used through every module's `project` option and the inventory's
`all_projects`, on each daemon kind: the objects land in that project and nowhere else."""

from __future__ import annotations

import pytest

from instance_data import instance_of

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, api_path

from test_inventory import inventory, members


@pytest.fixture
def project(run_module, lab, unique):
    """A project with profiles of its own (images shared with the default project), made on both daemons."""
    name = unique("prj")
    config = {"features.profiles": True, "features.images": False, "features.storage.volumes": True,
              "limits.instances": 3}
    for role in ("primary", "remote"):
        result = run_module("lxd_project", dict(url=lab["daemons"][role]["url"], name=name, config=config,
                                                description="made by lxd_project"))
        assert result["changed"] and not result.get("failed"), result.get("msg")
    return name


def give_default_profile_devices(run_module, daemon, project):
    """A project's own default profile is empty when made: a root disk and a NIC on the lab's bridge."""
    result = run_module("lxd_profile", dict(url=daemon["url"], project=project, name="default", devices={
        "root": {"type": "disk", "path": "/", "pool": "default"},
        "eth0": {"type": "nic", "name": "eth0", "network": daemon["bridge"]}}))
    assert result["changed"], result.get("msg")


def in_project(client, kind, name, project):
    return client.exists(api_path(kind, name), project=project)


def test_every_module_works_in_a_project_it_made(run_module, lab, project, unique, busybox, remote_https, tmp_path):
    primary, remote = (LXDClient(url=lab["daemons"][role]["url"]) for role in ("primary", "remote"))
    where = dict(url=lab["daemons"]["primary"]["url"], project=project)
    bridge = lab["daemons"]["primary"]["bridge"]

    for role in ("primary", "remote"):
        give_default_profile_devices(run_module, lab["daemons"][role], project)
    profile = unique("prof")
    # On both servers: a replica needs its profiles there (the snapshot_server role syncs them).
    for url in (where["url"], lab["daemons"]["remote"]["url"]):
        assert run_module("lxd_profile", dict(url=url, project=project, name=profile,
                                              config={"user.role": "web"}))["changed"]
    assert in_project(primary, "profiles", profile, project)
    assert not in_project(primary, "profiles", profile, "default")

    name = unique("web")
    created = run_module("lxd_instance", dict(where, name=name, source=busybox, profiles=["default", profile]))
    assert created["changed"] and not created.get("failed"), created.get("msg")
    assert instance_of(LXDClient(url=where["url"], project=project), name)["status"] == "Running"
    assert not in_project(primary, "instances", name, "default")
    assert instance_of(LXDClient(url=where["url"], project=project), name)["expanded_devices"]["eth0"]["network"] \
        == bridge

    limits = run_module("lxd_limits", dict(where, instance=name, memory="128MiB", processes=200))
    assert limits["changed"], limits.get("msg")
    assert not run_module("lxd_limits", dict(where, instance=name, memory="128MiB", processes=200))["changed"]

    snapshot = run_module("lxd_snapshot", dict(where, instance=name, name="before"))
    assert snapshot["changed"], snapshot.get("msg")
    assert primary.exists(api_path("instances", name, "snapshots", "before"), project=project)

    others = [unique("set"), unique("set")]
    made = run_module("lxd_instance_set", dict(where, instances=[{"name": n, "source": busybox, "state": "stopped"}
                                                                 for n in others]))
    assert made["changed"] and not made.get("failed"), made.get("msg")
    assert all(in_project(primary, "instances", n, project) for n in others)

    # A custom volume of the project (features.storage.volumes), attached, and backed up with the instance.
    volume = unique("vol")
    made_volume = run_module("lxd_volume", dict(where, name=volume, pool="default"))
    assert made_volume["changed"], made_volume.get("msg")
    assert primary.exists(api_path("storage-pools", "default", "volumes", "custom", volume), project=project)
    assert not primary.exists(api_path("storage-pools", "default", "volumes", "custom", volume), project="default")
    for module, params in (("lxd_volume", dict(name=volume, pool="default", description="web data")),
                           ("lxd_snapshot", dict(pool="default", volume=volume, name="first"))):
        assert run_module(module, dict(where, **params))["changed"], module
    backup = run_module("lxd_backup", dict(where, instance=name, name="nightly", dest=str(tmp_path / "web.tar.gz")))
    assert backup["changed"] and not backup.get("failed"), backup.get("msg")
    listed = run_module("lxd_backup", dict(where, instance=name, state="listed"))
    assert [b["name"] for b in listed["backups"]] == ["nightly"], listed
    volume_backup = run_module("lxd_backup", dict(where, pool="default", volume=volume, name="nightly"))
    assert volume_backup["changed"] and not volume_backup.get("failed"), volume_backup.get("msg")

    info = run_module("lxd_info", dict(where, gather=["instances"]))
    assert sorted(i["name"] for i in info["instances"]) == sorted([name] + others)

    # The project's limit (3 instances) holds: the daemon refuses a fourth and the module says so.
    too_many = run_module("lxd_instance_set", dict(where, instances=[{"name": unique("over"), "source": busybox,
                                                                      "state": "stopped"}]))
    assert too_many.get("failed") and "maximum number of instances" in too_many["msg"], too_many

    replica = run_module("lxd_replica", dict(where, instances=[name], lock_path=str(tmp_path / "lock"),
                                             remote=dict(remote_https, project=project)))
    assert replica.get("changed") and not replica.get("failed"), replica
    assert in_project(remote, "instances", name, project) and not in_project(remote, "instances", name, "default")

    servers = [{"name": "primary", "url": where["url"]}]
    data, stderr, _requests = inventory(tmp_path, {"servers": servers, "all_projects": True,
                                                   "name_regex": lab["prefix"], "host_format": "{project}-{name}"})
    assert data is not None, stderr
    group = "lxd_project_" + project.replace("-", "_")
    assert members(data, group) == sorted("%s-%s" % (project, n) for n in [name] + others)

    # Not empty: the project stays, and the refusal names what is in it.
    refused = run_module("lxd_project", dict(url=where["url"], name=project, state="absent"))
    assert refused.get("failed") and name in refused["msg"], refused
    assert primary.exists(api_path("projects", project), project=False)


def test_a_restricted_project_refuses_what_it_restricts(run_module, lab, unique, busybox):
    name = unique("prj")
    url = lab["daemons"]["primary"]["url"]
    made = run_module("lxd_project", dict(url=url, name=name, config={
        "features.profiles": True, "features.images": False, "features.storage.volumes": False,
        "restricted": True, "restricted.containers.nesting": "block"}))
    assert made["changed"], made.get("msg")
    give_default_profile_devices(run_module, lab["daemons"]["primary"], name)
    nested = run_module("lxd_instance", dict(url=url, project=name, name=unique("nest"), source=busybox,
                                             state="stopped", config={"security.nesting": True}))
    assert nested.get("failed") and "security.nesting" in nested["msg"], nested
    plain = run_module("lxd_instance", dict(url=url, project=name, name=unique("plain"), source=busybox,
                                            state="stopped"))
    assert plain["changed"] and not plain.get("failed"), plain.get("msg")


def test_images_of_a_project_with_its_own(run_module, lab, unique):
    """features.images: the image lands in the project's own store, not the default project's."""
    name = unique("prj")
    url = lab["daemons"]["primary"]["url"]
    made = run_module("lxd_project", dict(url=url, name=name, config={
        "features.profiles": False, "features.images": True, "features.storage.volumes": False}))
    assert made["changed"], made.get("msg")
    alias = unique("img")
    params = dict(url=url, project=name, file=lab["images"]["busybox"]["file"], aliases=[alias])
    loaded = run_module("lxd_image", params)
    assert loaded["changed"] and not loaded.get("failed"), loaded.get("msg")
    client = LXDClient(url=url)
    assert client.exists(api_path("images", "aliases", alias), project=name)
    assert not client.exists(api_path("images", "aliases", alias), project="default")
    again = run_module("lxd_image", params)
    assert not again["changed"], again
