# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lxdops.server.lxd inventory plugin against each kind's two daemons (LXD, Incus), through ansible-inventory:
the primary over its unix socket, the remote over https."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import yaml

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient

from conftest import ROOT


def plain(value):
    """ansible-inventory marks values from plugins as unsafe in its JSON; the tests compare the values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def inventory(tmp_path, config, group_vars=None, trace=None, folder_name=None):
    """Run ansible-inventory --list on a config; return (parsed output, stderr, requests made)."""
    folder = tmp_path / (folder_name or "inventory-%d" % len(list(tmp_path.glob("inventory-*"))))
    folder.mkdir(exist_ok=True)
    path = folder / "test.lxd.yml"
    path.write_text(yaml.safe_dump(dict({"plugin": "lxdops.server.lxd"}, **config)))
    for group, values in (group_vars or {}).items():
        (folder / "group_vars").mkdir(exist_ok=True)
        (folder / "group_vars" / ("%s.yml" % group)).write_text(yaml.safe_dump(values))
    trace = trace or (tmp_path / "trace")
    if trace.exists():
        trace.unlink()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               LXDOPS_TRACE_FILE=str(trace), ANSIBLE_INVENTORY_UNPARSED_FAILED="1", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(folder),
                           "--list", "--export"], env=env, capture_output=True, text=True, timeout=300, check=False)
    requests = trace.read_text().splitlines() if trace.exists() else []
    if proc.returncode != 0:
        return None, proc.stderr, requests
    return plain(json.loads(proc.stdout)), proc.stderr, requests


def hostvars(data, host):
    return data["_meta"]["hostvars"][host]


def members(data, group):
    return sorted(data.get(group, {}).get("hosts", []))


@pytest.fixture(scope="module")
def fleet(lab):
    """Instances on both daemons: running and stopped, with profiles, config and a second project."""
    primary = LXDClient(url=lab["daemons"]["primary"]["url"])
    remote = LXDClient(url=lab["daemons"]["remote"]["url"])
    prefix = lab["prefix"] + "inv-"
    image = {"type": "image", "alias": lab["images"]["busybox"]["alias"]}
    primary.post("/1.0/profiles", {"name": prefix + "web", "config": {"user.role": "web"}})
    project_config = {"features.images": "false", "features.profiles": "false"}
    primary.post("/1.0/projects", {"name": prefix + "proj", "config": project_config}, project=False)
    specs = [
        (primary, "default", prefix + "web1", ["default", prefix + "web"], {"security.nesting": "true"}, True),
        (primary, "default", prefix + "web2", ["default", prefix + "web"], {}, False),
        (primary, "default", prefix + "db1", ["default"], {}, True),
        (primary, prefix + "proj", prefix + "other1", ["default"], {}, False),
        (remote, "default", prefix + "replica1", ["default"], {}, False),
    ]
    for client, project, name, profiles, config, running in specs:
        client.post("/1.0/instances", {"name": name, "source": image, "profiles": profiles, "config": config},
                    project=project)
        if running:
            client.put("/1.0/instances/%s/state" % name, {"action": "start"}, project=project)
    for _attempt in range(40):
        state = primary.get("/1.0/instances/%s/state" % (prefix + "web1")).metadata
        if any(a["family"] == "inet" for a in (state["network"].get("eth0") or {}).get("addresses", [])):
            break
        time.sleep(0.5)
    return prefix


def servers(lab):
    remote = lab["daemons"]["remote"]
    return [{"name": "primary", "url": lab["daemons"]["primary"]["url"]},
            {"name": "remote", "url": remote["https_url"], "server_cert": remote["server_cert"],
             "client_cert": lab["client_cert"], "client_key": lab["client_key"]}]


def subnet_prefix(daemon):
    """'10.213.57.' from the daemon's bridge subnet '10.213.57.1/24'."""
    return daemon["subnet"].rsplit(".", 1)[0] + "."


def test_two_servers_two_requests_each(tmp_path, lab, fleet):
    data, stderr, requests = inventory(tmp_path, {"servers": servers(lab), "name_regex": fleet})
    assert data is not None, stderr
    assert requests == ["GET /1.0/instances 200", "GET /1.0 200"] * 2
    hosts = sorted(data["_meta"]["hostvars"])
    assert hosts == sorted([fleet + "web1", fleet + "web2", fleet + "db1", fleet + "replica1"])
    assert members(data, "lxd_server_primary") == sorted([fleet + "web1", fleet + "web2", fleet + "db1"])
    assert members(data, "lxd_server_remote") == [fleet + "replica1"]
    assert members(data, "lxd_status_running") == sorted([fleet + "web1", fleet + "db1"])
    assert fleet + "web2" in members(data, "lxd_status_stopped")
    assert members(data, "lxd_profile_" + (fleet + "web").replace("-", "_")) == sorted([fleet + "web1", fleet + "web2"])
    assert fleet + "web1" in members(data, "lxd_type_container")
    assert fleet + "web1" in members(data, "lxd_os_busybox")
    assert fleet + "web1" in members(data, "lxd_release_static")

    web1 = hostvars(data, fleet + "web1")
    assert web1["lxd_name"] == fleet + "web1" and web1["lxd_server"] == "primary" and web1["lxd_project"] == "default"
    assert web1["lxd_status"] == "Running" and web1["lxd_type"] == "container"
    assert web1["lxd_profiles"] == ["default", fleet + "web"]
    assert web1["lxd_config"]["user.role"] == "web" and web1["lxd_devices"]["root"]["pool"] == "default"
    assert web1["lxd_os"] == "busybox" and web1["lxd_snapshots_count"] == 0
    assert web1["ansible_host"] == web1["lxd_addresses"]["eth0"]["inet"][0]
    assert web1["ansible_host"].startswith(subnet_prefix(lab["daemons"]["primary"]))
    server_vars = data["lxd_server_primary"]["vars"]
    assert server_vars["ansible_connection"] == "lxdops.server.lxd"
    assert server_vars["ansible_lxd_url"] == lab["daemons"]["primary"]["url"]
    assert data["lxd_server_remote"]["vars"]["ansible_lxd_url"] == lab["daemons"]["remote"]["https_url"]
    # Every host says which daemon it lives on, over the socket and over https alike.
    for host in hosts:
        assert hostvars(data, host)["lxd_daemon"] == lab["kind"], host
    assert members(data, "lxd_daemon_" + lab["kind"]) == hosts


def test_filters(tmp_path, lab, fleet):
    base = {"servers": servers(lab)[:1], "name_regex": fleet}
    data, _err, _req = inventory(tmp_path, dict(base, status=["RUNNING"]))
    assert sorted(data["_meta"]["hostvars"]) == sorted([fleet + "web1", fleet + "db1"])
    data, _err, _req = inventory(tmp_path, dict(base, profiles=[fleet + "web"]))
    assert sorted(data["_meta"]["hostvars"]) == sorted([fleet + "web1", fleet + "web2"])
    data, _err, _req = inventory(tmp_path, dict(base, config_filter={"security.nesting": True}))
    assert sorted(data["_meta"]["hostvars"]) == [fleet + "web1"]
    data, _err, _req = inventory(tmp_path, dict(base, type="virtual-machine"))
    assert data["_meta"]["hostvars"] == {}
    data, _err, _req = inventory(tmp_path, dict(base, name_regex=fleet + "db"))
    assert sorted(data["_meta"]["hostvars"]) == [fleet + "db1"]


def test_all_projects_and_project_filter(tmp_path, lab, fleet):
    config = {"servers": servers(lab)[:1], "name_regex": fleet, "all_projects": True,
              "host_format": "{project}-{name}"}
    data, stderr, requests = inventory(tmp_path, config)
    assert data is not None, stderr
    assert len(requests) == 2
    assert "%sproj-%sother1" % (fleet, fleet) in data["_meta"]["hostvars"]
    assert members(data, "lxd_project_" + (fleet + "proj").replace("-", "_")) == ["%sproj-%sother1" % (fleet, fleet)]
    data, _err, _req = inventory(tmp_path, dict(config, projects=[fleet + "proj"]))
    assert list(data["_meta"]["hostvars"]) == ["%sproj-%sother1" % (fleet, fleet)]


def test_one_project(tmp_path, lab, fleet):
    data, _err, requests = inventory(tmp_path, {"servers": [dict(servers(lab)[0], project=fleet + "proj")]})
    assert list(data["_meta"]["hostvars"]) == [fleet + "other1"] and len(requests) == 2
    data, stderr, _req = inventory(tmp_path, {"servers": [dict(servers(lab)[0], project=fleet + "missing")],
                                              "strict": True})
    assert data is None and "does not exist" in stderr


def test_constructed_options(tmp_path, lab, fleet):
    config = {"servers": servers(lab)[:1], "name_regex": fleet,
              "compose": {"role": "lxd_config['user.role'] | default('none')"},
              "groups": {"nested": "lxd_config['security.nesting'] | default('false') == 'true'"},
              "keyed_groups": [{"key": "lxd_config['user.role'] | default('none')", "prefix": "role"}]}
    data, stderr, _req = inventory(tmp_path, config)
    assert data is not None, stderr
    assert hostvars(data, fleet + "web1")["role"] == "web" and hostvars(data, fleet + "db1")["role"] == "none"
    assert members(data, "nested") == [fleet + "web1"]
    assert members(data, "role_web") == sorted([fleet + "web1", fleet + "web2"])


def test_connection_is_overridable_by_group_vars(tmp_path, lab, fleet):
    data, _err, _req = inventory(tmp_path, {"servers": servers(lab)[:1], "name_regex": fleet},
                                 group_vars={"lxd_server_primary": {"ansible_connection": "ssh"}})
    # group_vars files outrank the plugin's group variables.
    assert data["lxd_server_primary"]["vars"]["ansible_connection"] == "ssh"
    data, _err, _req = inventory(tmp_path, {"servers": servers(lab)[:1], "name_regex": fleet,
                                            "connection": "community.general.lxd"})
    assert data["lxd_server_primary"]["vars"]["ansible_connection"] == "community.general.lxd"


def test_cache_makes_no_request(tmp_path, lab, fleet):
    config = {"servers": servers(lab), "name_regex": fleet, "cache": True,
              "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache"),
              "cache_timeout": 3600}
    first, _err, requests = inventory(tmp_path, config, folder_name="cached")
    assert len(requests) == 4
    second, _err, requests = inventory(tmp_path, config, folder_name="cached")
    assert requests == []
    assert sorted(second["_meta"]["hostvars"]) == sorted(first["_meta"]["hostvars"])
    assert hostvars(second, fleet + "web1")["lxd_daemon"] == lab["kind"]


def test_unreachable_server(tmp_path, lab, fleet):
    dead = {"name": "dead", "url": "unix:/run/lxdops-test-no-such.socket"}
    data, stderr, _req = inventory(tmp_path, {"servers": [dead] + servers(lab)[:1], "name_regex": fleet,
                                              "strict": True})
    assert data is None and "'dead'" in stderr and "does not exist" in stderr
    data, stderr, _req = inventory(tmp_path, {"servers": [dead] + servers(lab)[:1], "name_regex": fleet,
                                              "strict": False})
    assert data is not None and "'dead'" in stderr
    assert fleet + "web1" in data["_meta"]["hostvars"]


def test_untrusted_server_is_named(tmp_path, lab, fleet, new_cert):
    remote = dict(servers(lab)[1], client_cert=new_cert[0], client_key=new_cert[1])
    data, stderr, _req = inventory(tmp_path, {"servers": [remote], "strict": True})
    assert data is None and "'remote'" in stderr and "not trusted" in stderr


def test_name_collisions_are_reported(tmp_path, lab, fleet):
    both = [servers(lab)[0], dict(servers(lab)[0], name="again")]
    data, stderr, _req = inventory(tmp_path, {"servers": both, "name_regex": fleet})
    assert data is None and "host_format" in stderr
    data, stderr, _req = inventory(tmp_path, {"servers": both, "name_regex": fleet, "host_format": "{server}-{name}"})
    assert "again-" + fleet + "web1" in data["_meta"]["hostvars"]
