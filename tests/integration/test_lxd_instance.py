# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_instance against the lab's real daemons."""

from __future__ import annotations

import ipaddress
import os
import shutil

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, api_path


def get(client, name):
    return client.get(api_path("instances", name)).metadata


def status(client, name):
    return get(client, name)["status"]


@pytest.fixture
def make(run_module, busybox):
    def create(name, **params):
        params.setdefault("source", busybox)
        result = run_module("lxd_instance", dict(name=name, **params))
        assert not result.get("failed"), result.get("msg")
        return result
    return create


def test_create_start_then_nothing_to_do(run_module, primary, busybox, unique):
    name = unique("inst")
    params = dict(name=name, source=busybox, config={"limits.cpu": 1, "boot.autostart": False,
                                                     "limits.memory": "128MB"})
    first = run_module("lxd_instance", params)
    assert first["changed"] and first["actions"] == ["create", "start"]
    assert first["instance"]["status"] == "Running"
    config = get(primary, name)["config"]
    # YAML scalars arrive as the strings LXD stores.
    assert config["limits.cpu"] == "1" and config["boot.autostart"] == "false"
    second = run_module("lxd_instance", params)
    assert not second["changed"] and second["actions"] == []
    assert second["diff"] == {"before": {}, "after": {}}
    # One request for a no-op: the instance with its state.
    assert second["_requests"] == 1
    assert second["instance"]["expanded_devices"]["root"]["type"] == "disk"
    assert second["instance"]["snapshots_count"] == 0


def test_check_mode_changes_nothing(run_module, primary, busybox, unique):
    name = unique("check")
    result = run_module("lxd_instance", dict(name=name, source=busybox), check=True)
    assert result["changed"] and result["actions"] == ["create", "start"]
    assert result["diff"]["after"]["status"] == "Running"
    assert primary.exists(api_path("instances", name)) is None

    run_module("lxd_instance", dict(name=name, source=busybox, state="stopped"))
    before = get(primary, name)
    result = run_module("lxd_instance", dict(name=name, state="started", config={"limits.cpu": 2},
                                             description="changed"), check=True)
    assert result["changed"] and result["actions"] == ["update", "start"]
    after = get(primary, name)
    assert after["status"] == "Stopped"
    assert after["config"] == before["config"] and after["description"] == before["description"]

    result = run_module("lxd_instance", dict(name=name, state="absent"), check=True)
    assert result["changed"] and result["actions"] == ["delete"]
    assert primary.exists(api_path("instances", name)) is not None


def test_diff_shows_exactly_what_changes(run_module, make, unique):
    name = unique("diff")
    make(name, state="stopped", config={"limits.cpu": 1, "user.keep": "x"})
    result = run_module("lxd_instance", dict(name=name, state="stopped",
                                             config={"limits.cpu": 2, "user.gone": None, "user.keep": "x"}))
    assert result["changed"]
    assert result["diff"] == {"before": {"config": {"limits.cpu": "1"}}, "after": {"config": {"limits.cpu": "2"}}}


def test_null_removes_a_key_and_volatile_keys_are_left_alone(run_module, primary, make, unique):
    name = unique("merge")
    make(name, state="stopped", config={"user.a": "1", "user.b": "2"})
    volatile_before = dict((k, v) for k, v in get(primary, name)["config"].items() if k.startswith("volatile."))
    result = run_module("lxd_instance", dict(name=name, state="stopped", config={"user.a": None}))
    assert result["changed"]
    config = get(primary, name)["config"]
    assert "user.a" not in config and config["user.b"] == "2"
    assert dict((k, v) for k, v in config.items() if k.startswith("volatile.")) == volatile_before
    again = run_module("lxd_instance", dict(name=name, state="stopped", config={"user.a": None}))
    assert not again["changed"]


def test_replace_makes_own_config_exact_but_keeps_lxd_keys(run_module, primary, make, unique):
    name = unique("replace")
    make(name, state="stopped", config={"user.a": "1", "user.b": "2"})
    before = get(primary, name)["config"]
    result = run_module("lxd_instance", dict(name=name, state="stopped", config_mode="replace",
                                             config={"user.c": "3"}))
    assert result["changed"]
    config = get(primary, name)["config"]
    own = dict((k, v) for k, v in config.items() if not k.startswith(("volatile.", "image.")))
    assert own == {"user.c": "3"}
    assert dict((k, v) for k, v in config.items() if k.startswith(("volatile.", "image."))) == \
        dict((k, v) for k, v in before.items() if k.startswith(("volatile.", "image.")))
    assert not run_module("lxd_instance", dict(name=name, state="stopped", config_mode="replace",
                                               config={"user.c": "3"}))["changed"]


def test_config_change_never_starts_a_stopped_instance(run_module, primary, make, unique):
    name = unique("stopped")
    make(name, state="stopped")
    result = run_module("lxd_instance", dict(name=name, state="present", config={"limits.memory": "256MB"}))
    assert result["changed"] and result["actions"] == ["update"]
    assert status(primary, name) == "Stopped"
    assert get(primary, name)["config"]["limits.memory"] == "256MB"


def test_run_states(run_module, primary, make, unique):
    name = unique("states")
    make(name, state="present")
    assert status(primary, name) == "Stopped"
    restarted = run_module("lxd_instance", dict(name=name, state="restarted"))
    assert restarted["changed"] and restarted["actions"] == ["start"]
    assert status(primary, name) == "Running"
    again = run_module("lxd_instance", dict(name=name, state="restarted"))
    assert again["changed"] and again["actions"] == ["restart"]
    frozen = run_module("lxd_instance", dict(name=name, state="frozen"))
    assert frozen["actions"] == ["freeze"] and status(primary, name) == "Frozen"
    assert not run_module("lxd_instance", dict(name=name, state="frozen"))["changed"]
    stopped = run_module("lxd_instance", dict(name=name, state="stopped"))
    assert stopped["actions"] == ["unfreeze", "stop"] and status(primary, name) == "Stopped"
    assert not run_module("lxd_instance", dict(name=name, state="stopped"))["changed"]
    frozen = run_module("lxd_instance", dict(name=name, state="frozen"))
    assert frozen["actions"] == ["start", "freeze"] and status(primary, name) == "Frozen"


def test_state_the_module_did_not_create_frozen(run_module, primary, make, unique):
    name = unique("frozen")
    make(name)
    primary.put(api_path("instances", name, "state"), {"action": "freeze", "timeout": 30})
    result = run_module("lxd_instance", dict(name=name, state="started"))
    assert result["changed"] and result["actions"] == ["unfreeze"]
    assert status(primary, name) == "Running"


def log_folder(client, name):
    """Where the daemon writes a running instance's logs: the folder of the lxc.log its monitor holds open.

    Asked of the running instance rather than guessed: LXD and Incus put it under their state folder or under
    /var/log, depending on how the daemon was started.
    """
    pid = client.get(api_path("instances", name, "state")).metadata["pid"]
    with open("/proc/%d/stat" % pid) as handle:
        monitor = handle.read().rsplit(")", 1)[1].split()[1]
    folder = "/proc/%s/fd" % monitor
    for fd in os.listdir(folder):
        target = os.readlink(os.path.join(folder, fd))
        if target.endswith("/%s/lxc.log" % name):
            return os.path.dirname(target)
    raise AssertionError("the monitor of %s holds no lxc.log open" % name)


def test_instance_in_error_state(run_module, primary, make, unique):
    """An instance the daemon reports as Error (its log folder replaced by a file) gives messages, not tracebacks."""
    name = unique("error")
    make(name)
    logs = log_folder(primary, name)
    primary.put(api_path("instances", name, "state"), {"action": "stop", "force": True, "timeout": 30})
    shutil.rmtree(logs, ignore_errors=True)
    with open(logs, "w"):
        pass
    try:
        assert status(primary, name) == "Error"
        present = run_module("lxd_instance", dict(name=name, state="present"))
        assert not present["changed"] and present["instance"]["status"] == "Error"
        update = run_module("lxd_instance", dict(name=name, state="present", description="seen in error"))
        assert update["failed"] and not update["changed"] and name in update["msg"]
        started = run_module("lxd_instance", dict(name=name, state="started"))
        assert started["failed"] and name in started["msg"] and "Traceback" not in started["msg"]
        gone = run_module("lxd_instance", dict(name=name, state="absent"))
        assert not gone.get("failed"), gone.get("msg")
        assert primary.exists(api_path("instances", name)) is None
    finally:
        if os.path.isfile(logs):
            os.remove(logs)


def test_absent_stops_gracefully_or_by_force(run_module, primary, make, unique):
    for force in (False, True):
        name = unique("absent")
        make(name)
        result = run_module("lxd_instance", dict(name=name, state="absent", force_stop=force))
        assert result["changed"] and result["actions"] == ["stop", "delete"]
        assert primary.exists(api_path("instances", name)) is None
        assert not run_module("lxd_instance", dict(name=name, state="absent"))["changed"]


def test_profiles_in_order(run_module, primary, make, unique):
    extra = unique("prof")
    primary.post("/1.0/profiles", {"name": extra, "config": {"user.from": "profile"}})
    name = unique("profiles")
    make(name, state="stopped", profiles=["default", extra])
    assert get(primary, name)["profiles"] == ["default", extra]
    result = run_module("lxd_instance", dict(name=name, state="stopped", profiles=[extra, "default"]))
    assert result["changed"] and result["diff"]["after"]["profiles"] == [extra, "default"]
    assert get(primary, name)["profiles"] == [extra, "default"]
    assert not run_module("lxd_instance", dict(name=name, state="stopped", profiles=[extra, "default"]))["changed"]


def test_devices_per_device_and_key(run_module, primary, make, unique, tmp_path):
    name = unique("devices")
    data = {"type": "disk", "source": str(tmp_path), "path": "/mnt/data"}
    make(name, state="stopped", devices={"data": data})
    assert get(primary, name)["devices"]["data"] == data
    result = run_module("lxd_instance", dict(name=name, state="stopped",
                                             devices={"data": dict(data, path="/srv/data", readonly=True)}))
    assert result["changed"]
    assert result["diff"] == {"before": {"devices": {"data": {"path": "/mnt/data"}}},
                              "after": {"devices": {"data": {"path": "/srv/data", "readonly": "true"}}}}
    result = run_module("lxd_instance", dict(name=name, state="stopped", devices={"data": None}))
    assert result["changed"] and "data" not in get(primary, name)["devices"]


def test_description_and_ephemeral(run_module, primary, make, unique):
    name = unique("eph")
    make(name, state="stopped", description="first")
    result = run_module("lxd_instance", dict(name=name, state="stopped", description="second", ephemeral=True))
    assert result["changed"]
    instance = get(primary, name)
    assert instance["description"] == "second" and instance["ephemeral"] is True


def test_wait_for_ipv4(run_module, primary, make, unique):
    name = unique("ip")
    result = make(name, wait_for_ipv4=30)
    addresses = result["addresses"]["eth0"]
    # The subnet of the bridge the default profile's nic is on, as the daemon has it.
    network = primary.get(api_path("profiles", "default")).metadata["devices"]["eth0"]["network"]
    subnet = ipaddress.ip_interface(primary.get(api_path("networks", network)).metadata["config"]["ipv4.address"])
    assert any(ipaddress.ip_address(a) in subnet.network for a in addresses), addresses


def test_wait_for_ipv4_times_out_with_the_state(run_module, primary, busybox, unique):
    name = unique("noip")
    # No nic: the default profile is left out, its root disk is given directly.
    root = primary.get(api_path("profiles", "default")).metadata["devices"]["root"]
    result = run_module("lxd_instance", dict(name=name, source=busybox, profiles=[], wait_for_ipv4=2,
                                             devices={"root": root}))
    assert result["failed"]
    assert "no IPv4 address after 2 seconds" in result["msg"] and "status Running" in result["msg"]


@pytest.mark.parametrize("config, words", [
    ({"limits.memory.enforce": "2GB"}, ["limits.memory.enforce", "'2GB'", "hard or soft"]),
    ({"limits.cpu": "0-"}, ["limits.cpu", "'0-'"]),
    ({"volatile.eth0.hwaddr": "00:16:3e:00:00:01"}, ["volatile.eth0.hwaddr", "belong to LXD"]),
    ({"user.x": {"nested": 1}}, ["user.x", "scalar"]),
])
def test_bad_config_fails_before_any_request(run_module, primary, busybox, unique, config, words):
    name = unique("bad")
    result = run_module("lxd_instance", dict(name=name, source=busybox, config=config))
    assert result["failed"] and result["_requests"] == 0
    for word in words:
        assert word in result["msg"]
    assert primary.exists(api_path("instances", name)) is None


@pytest.mark.parametrize("params, words", [
    (dict(name="9lives"), ["name", "'9lives'", "letters"]),
    (dict(name="lxdops-test-x", source={"alias": "a", "instance": "b"}), ["exactly one of"]),
    (dict(name="lxdops-test-x", source={"alias": "a", "server": "http://x"}), ["source.server", "https://"]),
    (dict(name="lxdops-test-x", devices={"eth9": {"nictype": "bridged"}}), ["eth9", "no 'type'"]),
    (dict(name="lxdops-test-x", devices={"root": {"type": "disk", "path": "/", "size": "ten"}}),
     ["root", "size", "'ten'"]),
    (dict(name="lxdops-test-x", wait_for_ipv4=-1), ["wait_for_ipv4"]),
    (dict(name="lxdops-test-x", state="sleeping"), ["state", "sleeping"]),
])
def test_bad_options_fail_before_any_request(run_module, params, words):
    result = run_module("lxd_instance", params)
    assert result["failed"] and result["_requests"] == 0
    for word in words:
        assert word in result["msg"]


def test_failed_update_leaves_the_instance_as_it_was(run_module, primary, make, unique):
    name = unique("atomic")
    make(name, state="stopped", config={"user.a": "1"})
    before = get(primary, name)
    result = run_module("lxd_instance", dict(
        name=name, state="stopped", config={"user.a": "2"},
        devices={"eth5": {"type": "nic", "network": "lxdops-test-no-such-network", "name": "eth5"}}))
    assert result["failed"] and "lxdops-test-no-such-network" in result["msg"]
    after = get(primary, name)
    assert after["config"] == before["config"] and after["devices"] == before["devices"]


def test_missing_source_for_a_new_instance(run_module, unique):
    result = run_module("lxd_instance", dict(name=unique("nosrc")))
    assert result["failed"] and "give source" in result["msg"]


def test_missing_image_is_named(run_module, primary, unique):
    """LXD answers 404, Incus "Image not provided": either way the message names the alias and says not found."""
    name = unique("noimage")
    result = run_module("lxd_instance", dict(name=name, source={"alias": "lxdops-test-no-such-image"}))
    assert result["failed"] and not result["changed"]
    assert "source.alias 'lxdops-test-no-such-image'" in result["msg"] and "not found" in result["msg"]
    assert primary.exists(api_path("instances", name)) is None


def test_copy_from_instance_and_from_snapshot(run_module, primary, make, unique):
    origin = unique("origin")
    make(origin, state="stopped", config={"user.origin": "yes"})
    primary.post(api_path("instances", origin, "snapshots"), {"name": "snap0"})
    primary.patch(api_path("instances", origin), {"config": {"user.origin": "after-snapshot"}})
    copy = unique("copy")
    result = run_module("lxd_instance", dict(name=copy, source={"instance": origin}, state="stopped"))
    assert result["changed"] and get(primary, copy)["config"]["user.origin"] == "after-snapshot"
    from_snap = unique("fromsnap")
    result = run_module("lxd_instance", dict(name=from_snap, source={"instance": origin + "/snap0"}, state="stopped"))
    assert result["changed"] and get(primary, from_snap)["config"]["user.origin"] == "yes"
    assert not run_module("lxd_instance", dict(name=from_snap, source={"instance": origin + "/snap0"},
                                               state="stopped"))["changed"]


def test_image_from_another_server(run_module, primary, remote_unix, lab, unique):
    """An image pulled from the second daemon over https, its self-signed certificate pinned."""
    alias = unique("public")
    fingerprint = lab["images"]["busybox"]["fingerprint"]
    remote_unix.patch(api_path("images", fingerprint), {"public": True})
    remote_unix.post("/1.0/images/aliases", {"name": alias, "target": fingerprint})
    try:
        name = unique("pulled")
        result = run_module("lxd_instance", dict(
            name=name, state="stopped",
            source={"alias": alias, "server": lab["daemons"]["remote"]["https_url"], "protocol": "lxd",
                    "server_cert": lab["daemons"]["remote"]["server_cert"]}))
        assert not result.get("failed"), result.get("msg")
        assert get(primary, name)["config"]["volatile.base_image"] == fingerprint
    finally:
        remote_unix.delete(api_path("images", "aliases", alias))
        remote_unix.patch(api_path("images", fingerprint), {"public": False})


def test_project_other_than_default(run_module, primary, busybox, unique, lab):
    project = unique("proj")
    primary.post("/1.0/projects", {"name": project, "config": {"features.images": "false",
                                                               "features.profiles": "false"}}, project=False)
    name = unique("inproj")
    params = dict(name=name, source=busybox, project=project, state="stopped")
    assert run_module("lxd_instance", params)["changed"]
    assert not run_module("lxd_instance", params)["changed"]
    in_project = LXDClient(url=lab["daemons"]["primary"]["url"], project=project)
    assert in_project.exists(api_path("instances", name)) is not None
    assert primary.exists(api_path("instances", name)) is None


def test_https_remote_daemon(run_module, remote_https, remote_unix, busybox, unique):
    name = unique("remote")
    params = dict(remote_https, name=name, source=busybox, wait_for_ipv4=30)
    first = run_module("lxd_instance", params)
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] and remote_unix.get(api_path("instances", name)).metadata["status"] == "Running"
    second = run_module("lxd_instance", params)
    assert not second["changed"] and second["_requests"] == 1
    assert run_module("lxd_instance", dict(remote_https, name=name, state="absent", force_stop=True))["changed"]


def test_target_on_a_server_that_is_not_clustered(run_module, busybox, unique):
    result = run_module("lxd_instance", dict(name=unique("target"), source=busybox, target="member1"))
    assert result["failed"] and "not part of a cluster" in result["msg"] and "member1" in result["msg"]


def test_virtual_machine_where_the_server_cannot_run_them(run_module, primary, busybox, unique):
    drivers = primary.server_info()["environment"]["driver"]
    if "qemu" in drivers:
        pytest.fail("this lab is expected to have no qemu driver; the test needs a server without one")
    name = unique("vm")
    result = run_module("lxd_instance", dict(name=name, source=busybox, type="virtual-machine"))
    assert result["failed"] and "cannot run virtual machines" in result["msg"]
    assert primary.exists(api_path("instances", name)) is None


def test_type_mismatch_is_refused(run_module, make, unique):
    name = unique("typed")
    make(name, state="stopped")
    result = run_module("lxd_instance", dict(name=name, type="virtual-machine", state="stopped"))
    assert result["failed"] and "exists as a container" in result["msg"]
