# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Clustering without a daemon: join tokens, member_config, addresses, member updates, pools and networks split
per member, and bad input refused before any request."""

from __future__ import annotations

import base64
import datetime
import json

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, split_address
from ansible_collections.lxdops.server.plugins.module_utils.cluster import (
    ClusterMemberManager,
    check_address,
    check_member_name,
    create_on_cluster,
    decode_join_token,
    encode_join_token,
    evacuation_action,
    is_clustered,
    join_request,
    member_names,
    normalize_member_config,
    normalize_member_overrides,
    pending_join_tokens,
    plan_member_update,
    public_member,
    split_for_members,
    uses_explicit_token,
)
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    MEMBER_NETWORK_KEYS,
    MEMBER_POOL_KEYS,
    ConfigError,
)
from ansible_collections.lxdops.server.plugins.module_utils.diff import DifferenceTracker

SECRET = "9f2c" * 16
# The metadata of a join-token operation, in the shape LXD 5.0 gives it.
TOKEN_OPERATION = {
    "id": "5a4c0e6e-1f1c-4b55-8b8c-1c0f1c2b3d4e",
    "class": "token",
    "status": "Running",
    "metadata": {
        "serverName": "lxd2",
        "secret": SECRET,
        "fingerprint": "ab" * 32,
        "addresses": ["10.0.0.11:8443"],
        "expiresAt": "2999-01-01T03:00:00.123456789Z",
    },
}


def make_token(**fields):
    token = {"server_name": "lxd2", "fingerprint": "ab" * 32, "addresses": ["10.0.0.11:8443"], "secret": SECRET,
             "expires_at": "2999-01-01T03:00:00Z"}
    token.update(fields)
    return base64.b64encode(json.dumps(token).encode()).decode()


# ---------------------------------------------------------------- tokens

def test_token_from_operation_decodes_back():
    token = encode_join_token(TOKEN_OPERATION["metadata"])
    decoded = decode_join_token(token)
    assert decoded["server_name"] == "lxd2"
    assert decoded["secret"] == SECRET
    assert decoded["addresses"] == ["10.0.0.11:8443"]
    assert decoded["fingerprint"] == "ab" * 32
    assert decoded["expires_at"] == "2999-01-01T03:00:00.123456789Z"


def test_operation_without_secret_is_an_error():
    with pytest.raises(LXDError) as err:
        encode_join_token({"serverName": "lxd2"})
    assert "clustering_join_token" in str(err.value)


@pytest.mark.parametrize("bad", [
    "not base64 !",
    base64.b64encode(b"[1, 2]").decode(),
    make_token(secret=""),
    make_token(addresses=[]),
    # A trust token (lxc config trust add) is not a join token.
    base64.b64encode(json.dumps({"client_name": "x", "fingerprint": "ab", "addresses": ["a:1"],
                                 "secret": "s"}).encode()).decode(),
])
def test_bad_tokens_are_refused_without_echoing_them(bad):
    with pytest.raises(ConfigError) as err:
        decode_join_token(bad)
    assert "cluster_token" in str(err.value)
    assert "lxc cluster add" in str(err.value)
    if bad.strip():
        assert bad not in str(err.value)


def test_pending_tokens_are_found_by_member_name():
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    expired = json.loads(json.dumps(TOKEN_OPERATION))
    expired["id"] = "expired"
    expired["metadata"]["expiresAt"] = "2029-12-31T23:00:00Z"
    other = json.loads(json.dumps(TOKEN_OPERATION))
    other["id"] = "other"
    other["metadata"]["serverName"] = "lxd3"
    trust = {"id": "trust", "class": "token", "metadata": {"request": {"name": "lxd2"}, "secret": "s"}}
    task = {"id": "task", "class": "task", "metadata": {"serverName": "lxd2", "secret": "s"}}
    operations = {"running": [expired, other, trust, task, TOKEN_OPERATION]}
    assert [op["id"] for op in pending_join_tokens(operations, "lxd2", now)] == [TOKEN_OPERATION["id"]]
    assert [op["id"] for op in pending_join_tokens(operations, "lxd3", now)] == ["other"]
    assert pending_join_tokens({}, "lxd2", now) == []
    assert pending_join_tokens({"running": None}, "lxd2", now) == []


# ---------------------------------------------------------------- joining

def test_member_config_entries():
    entries = [{"entity": "storage-pool", "name": "local", "key": "source", "value": "/dev/sdb"},
               {"entity": "network", "name": "uplink", "key": "parent", "value": "eno2"},
               {"entity": "storage-pool", "name": "loop", "key": "size", "value": 10}]
    assert normalize_member_config(entries) == [
        {"entity": "storage-pool", "name": "local", "key": "source", "value": "/dev/sdb"},
        {"entity": "network", "name": "uplink", "key": "parent", "value": "eno2"},
        {"entity": "storage-pool", "name": "loop", "key": "size", "value": "10"},
    ]
    assert normalize_member_config(None) == []


@pytest.mark.parametrize("entry, words", [
    ({"entity": "profile", "name": "p", "key": "source", "value": "x"}, ["entity", "'profile'", "storage-pool"]),
    ({"entity": "storage-pool", "name": "p", "key": "volume.size", "value": "1GiB"},
     ["'volume.size'", "not member-specific", "source"]),
    ({"entity": "network", "name": "n", "key": "ipv4.address", "value": "10.0.0.1/24"}, ["'ipv4.address'", "parent"]),
    ({"entity": "network", "name": "", "key": "parent", "value": "eno1"}, ["member_config[0].name"]),
    ({"entity": "network", "name": "n", "key": "parent", "value": "eno1", "extra": 1}, ["unknown field extra"]),
    ("source=/dev/sdb", ["mapping"]),
])
def test_member_config_refused(entry, words):
    with pytest.raises(ConfigError) as err:
        normalize_member_config([entry])
    for word in words:
        assert word in str(err.value)


def test_join_request_old_and_new_token_fields():
    entries = [{"entity": "storage-pool", "name": "local", "key": "source", "value": "/dev/sdb"}]
    old = join_request("lxd2", "10.0.0.11:8443", "PEM", "10.0.0.12:8443", "TOKEN", entries, explicit_token=False)
    assert old == {"server_name": "lxd2", "enabled": True, "cluster_address": "10.0.0.11:8443",
                   "cluster_certificate": "PEM", "server_address": "10.0.0.12:8443", "member_config": entries,
                   "cluster_password": "TOKEN"}
    new = join_request("lxd2", "10.0.0.11:8443", "PEM", None, "TOKEN", [], explicit_token=True)
    assert new["cluster_token"] == "TOKEN" and "cluster_password" not in new and "server_address" not in new


@pytest.mark.parametrize("value, expected", [
    ("10.0.0.2", "10.0.0.2:8443"),
    ("10.0.0.2:9443", "10.0.0.2:9443"),
    ("[fd00::2]:8443", "[fd00::2]:8443"),
    ("fd00::2", "[fd00::2]:8443"),
    ("lxd2.example.net", "lxd2.example.net:8443"),
    ("https://10.0.0.2:8443/", "10.0.0.2:8443"),
])
def test_addresses(value, expected):
    assert check_address("server_address", value) == expected


@pytest.mark.parametrize("value, words", [
    ("10.0.0.2:http", ["'10.0.0.2:http'", "host:port"]),
    ("10.0.0.2:70000", ["70000"]),
    ("[::]:8443", ["wildcard"]),
    ("0.0.0.0:8443", ["wildcard"]),
    ("", ["host:port"]),
])
def test_bad_addresses(value, words):
    with pytest.raises(ConfigError) as err:
        check_address("server_address", value)
    for word in words:
        assert word in str(err.value)


def test_split_address():
    assert split_address("[fd00::1]") == ("fd00::1", 8443)
    with pytest.raises(ValueError):
        split_address("[fd00::1")


@pytest.mark.parametrize("name", ["lxd1", "node-2.rack1", "7"])
def test_member_names_accepted(name):
    check_member_name("name", name)


@pytest.mark.parametrize("name", ["", "-lxd", "lxd-", "lxd.", "a b", "a/b", "x" * 64, None])
def test_member_names_refused(name):
    with pytest.raises(ConfigError) as err:
        check_member_name("name", name)
    assert "name %r" % (name,) in str(err.value)


# ---------------------------------------------------------------- members

MEMBER = {
    "server_name": "lxd2", "url": "https://10.0.0.12:8443", "database": True, "status": "Online",
    "message": "Fully operational", "architecture": "x86_64", "roles": ["database"], "failure_domain": "default",
    "description": "", "config": {}, "groups": ["default"],
}


def test_public_member():
    assert public_member(MEMBER) == {
        "name": "lxd2", "url": "https://10.0.0.12:8443", "status": "Online", "message": "Fully operational",
        "roles": ["database"], "failure_domain": "default", "description": "", "database": True,
        "architecture": "x86_64", "config": {}, "groups": ["default"]}


def test_member_without_changes():
    body, tracker = plan_member_update(MEMBER, description="", failure_domain="default", roles=[], config={})
    assert body is None and not tracker.has_changes
    assert plan_member_update(MEMBER)[0] is None


def test_member_update_keeps_database_roles_and_groups():
    body, tracker = plan_member_update(MEMBER, description="rack 2, top", failure_domain="rack2",
                                       roles=["event-hub"], config={"scheduler.instance": "manual"})
    assert body == {"description": "rack 2, top", "failure_domain": "rack2", "roles": ["database", "event-hub"],
                    "config": {"scheduler.instance": "manual"}, "groups": ["default"]}
    assert tracker.diff() == {
        "before": {"description": "", "failure_domain": "default", "roles": []},
        "after": {"description": "rack 2, top", "failure_domain": "rack2", "roles": ["event-hub"],
                  "config": {"scheduler.instance": "manual"}},
    }


def test_member_config_key_removed():
    current = dict(MEMBER, config={"scheduler.instance": "manual", "user.note": "x"})
    body, tracker = plan_member_update(current, config={"scheduler.instance": None})
    assert body["config"] == {"user.note": "x"}
    assert tracker.paths() == ["config.scheduler.instance"]


def test_managed_roles_removed():
    current = dict(MEMBER, roles=["database", "event-hub"])
    body, _tracker = plan_member_update(current, roles=[])
    assert body["roles"] == ["database"]


@pytest.mark.parametrize("state, status, action", [
    ("evacuated", "Online", "evacuate"),
    ("evacuated", "Evacuated", None),
    ("evacuated", "Offline", "evacuate"),
    ("restored", "Evacuated", "restore"),
    ("restored", "Online", None),
    ("restored", "Offline", None),
])
def test_evacuation_actions(state, status, action):
    assert evacuation_action(state, status) == action


# ---------------------------------------------------------------- pools and networks on a cluster

def test_member_names_at_both_recursions():
    assert member_names(["/1.0/cluster/members/lxd1", "/1.0/cluster/members/lxd2"]) == ["lxd1", "lxd2"]
    assert member_names([MEMBER]) == ["lxd2"]
    assert member_names(None) == []


def test_pool_split_per_member():
    config = {"source": "/srv/fast", "size": None, "rsync.bwlimit": "10MB", "volume.size": "5GiB"}
    overrides = {"lxd3": {"source": "/srv/other"}}
    cluster_wide, per_member = split_for_members(config, MEMBER_POOL_KEYS, ["lxd1", "lxd2", "lxd3"], overrides)
    assert cluster_wide == {"rsync.bwlimit": "10MB", "volume.size": "5GiB"}
    assert per_member == {"lxd1": {"source": "/srv/fast"}, "lxd2": {"source": "/srv/fast"},
                          "lxd3": {"source": "/srv/other"}}


def test_network_split_without_member_keys():
    config = {"ipv4.address": "10.213.60.1/24", "ipv4.nat": "false"}
    cluster_wide, per_member = split_for_members(config, MEMBER_NETWORK_KEYS, ["a", "b"])
    assert cluster_wide == config
    assert per_member == {"a": {}, "b": {}}


class _Recorder:
    """A manager whose writes are recorded: (action, path, body, params, project)."""

    def __init__(self, members):
        self.writes = []
        self.tracker = DifferenceTracker()
        self.client = self
        self.members = members

    def get(self, path, project=True):
        assert path == "/1.0/cluster/members"
        return type("R", (), {"metadata": ["/1.0/cluster/members/%s" % m for m in self.members]})()

    def post(self):
        raise AssertionError("create_on_cluster writes through the manager")

    def write(self, action, _method, path, body, params=None, project=True):
        self.writes.append((action, path, body, params, project))


def test_pool_created_on_every_member_then_cluster_wide():
    manager = _Recorder(["lxd1", "lxd2"])
    body = {"name": "fast", "driver": "zfs", "description": "d",
            "config": {"source": "/dev/sdb", "zfs.clone_copy": "false"}}
    create_on_cluster(manager, "/1.0/storage-pools", body, MEMBER_POOL_KEYS, {"lxd2": {"source": "/dev/sdc"}},
                      "pool", "storage pool 'fast'")
    assert manager.writes == [
        ("define on lxd1", "/1.0/storage-pools", {"name": "fast", "driver": "zfs", "config": {"source": "/dev/sdb"}},
         {"target": "lxd1"}, False),
        ("define on lxd2", "/1.0/storage-pools", {"name": "fast", "driver": "zfs", "config": {"source": "/dev/sdc"}},
         {"target": "lxd2"}, False),
        ("create", "/1.0/storage-pools", {"name": "fast", "driver": "zfs", "description": "d",
                                          "config": {"zfs.clone_copy": "false"}}, None, False),
    ]
    assert manager.tracker.diff()["after"]["pool"]["members"] == {"lxd1": {"source": "/dev/sdb"},
                                                                  "lxd2": {"source": "/dev/sdc"}}


def test_network_defined_in_the_project_of_the_client():
    manager = _Recorder(["a"])
    body = {"name": "br1", "type": "bridge", "config": {"ipv4.address": "10.213.60.1/24"}}
    create_on_cluster(manager, "/1.0/networks", body, MEMBER_NETWORK_KEYS, {}, "network", "network 'br1'", project=True)
    assert [w[0] for w in manager.writes] == ["define on a", "create"]
    assert manager.writes[0][2] == {"name": "br1", "type": "bridge", "config": {}}
    assert manager.writes[1][2] == body and manager.writes[1][4] is True


def test_split_refuses_strangers():
    with pytest.raises(ConfigError) as err:
        split_for_members({}, MEMBER_NETWORK_KEYS, ["lxd1", "lxd2"], {"lxd9": {"parent": "eno1"}})
    assert "lxd9 is not a member" in str(err.value)
    assert "lxd1, lxd2" in str(err.value)


def test_member_overrides():
    assert normalize_member_overrides({"lxd2": {"size": 10, "source": "/dev/sdb"}}, MEMBER_POOL_KEYS, "pool") == \
        {"lxd2": {"size": "10", "source": "/dev/sdb"}}
    assert normalize_member_overrides(None, MEMBER_POOL_KEYS, "pool") == {}


@pytest.mark.parametrize("value, words", [
    ({"lxd2": {"ipv4.address": "10.0.0.1/24"}}, ["'ipv4.address'", "not member-specific", "give them in config"]),
    ({"lxd2": "eno1"}, ["member_config.lxd2", "mapping"]),
    (["lxd2"], ["mapping of member names"]),
    ({"-bad": {"parent": "eno1"}}, ["'-bad'", "cluster member name"]),
])
def test_member_overrides_refused(value, words):
    with pytest.raises(ConfigError) as err:
        normalize_member_overrides(value, MEMBER_NETWORK_KEYS, "network")
    for word in words:
        assert word in str(err.value)


# ---------------------------------------------------------------- the manager refuses bad input before any request

class Failed(Exception):
    pass


class FakeModule:
    check_mode = False
    _diff = False

    def __init__(self, **params):
        self.params = dict(name=None, state="present", cluster_token=None, cluster_address=None, server_address=None,
                           member_config=None, description=None, failure_domain=None, roles=None, config=None,
                           force=False, mode=None, timeout=60)
        self.params.update(params)
        self.given = frozenset(params)

    @property
    def client(self):
        raise AssertionError("no request may be made for bad input")

    def fail_json(self, msg, **_kwargs):
        raise Failed(msg)


@pytest.mark.parametrize("params, words", [
    (dict(state="joined"), ["state=joined needs cluster_token"]),
    (dict(state="joined", cluster_token="garbage"), ["cluster_token is not accepted"]),
    (dict(state="joined", cluster_token=make_token(), name="lxd3"), ["'lxd3'", "issued for 'lxd2'"]),
    (dict(state="joined", cluster_token=make_token(), server_address="[::]:8443"), ["wildcard"]),
    (dict(state="present"), ["state=present needs name"]),
    (dict(state="evacuated", name="lxd2", mode="sideways"), ["mode 'sideways'", "stop, migrate, live-migrate"]),
    (dict(state="restored", name="lxd2", mode="stop"), ["mode 'stop'", "skip"]),
    (dict(state="present", name="lxd2", cluster_token=make_token()), ["cluster_token is not accepted with "
                                                                      "state=present", "state=joined"]),
    (dict(state="absent", name="lxd2", failure_domain="rack1"), ["failure_domain", "state=present"]),
    (dict(state="present", name="lxd2", force=True), ["force", "state=absent"]),
    (dict(state="present", name="lxd2", roles=["database-leader"]), ["'database-leader'", "event-hub"]),
    (dict(state="present", name="lxd_2"), ["'lxd_2'"]),
    (dict(state="joined", cluster_token=make_token(), member_config=[{"entity": "network", "name": "n",
                                                                      "key": "mtu", "value": 1}]),
     ["'mtu'", "parent"]),
])
def test_bad_input_fails_before_any_request(params, words):
    with pytest.raises(Failed) as err:
        ClusterMemberManager(FakeModule(**params))
    for word in words:
        assert word in str(err.value)
    token = params.get("cluster_token")
    if token:
        assert token not in str(err.value) and SECRET not in str(err.value)


def test_good_join_input_takes_the_name_from_the_token():
    manager = ClusterMemberManager(FakeModule(state="joined", cluster_token=make_token(), server_address="10.0.0.12"))
    assert manager.name == "lxd2"
    assert manager.server_address == "10.0.0.12:8443"


class ModuleWithUrl(FakeModule):
    client = type("UrlOnly", (), {"url": "https://10.0.0.1:8443"})()


def test_a_member_under_another_name_is_neither_bootstrapped_nor_joined():
    manager = ClusterMemberManager(ModuleWithUrl(state="joined", cluster_token=make_token()))
    assert manager.already_member({"enabled": False}, "join") is False
    assert manager.already_member({"enabled": True, "server_name": "lxd2"}, "join") is True
    for step in ("join", "bootstrap the cluster"):
        with pytest.raises(LXDError, match="named 'lxd1'; it cannot %s as 'lxd2'" % step):
            manager.already_member({"enabled": True, "server_name": "lxd1"}, step)


class NoClient:
    def server_info(self):
        raise AssertionError("the locations tell it")


def test_clustered_from_locations():
    assert not is_clustered(NoClient(), {"locations": ["none"]})
    assert is_clustered(NoClient(), {"locations": ["lxd1", "lxd2"]})


def test_join_token_field_by_extension_and_on_incus():
    # Incus has no cluster password and no extension that says so; LXD says it with explicit_trust_token.
    assert uses_explicit_token({"environment": {"server": "incus"}, "api_extensions": []})
    assert uses_explicit_token({"api_extensions": ["restrict_dev_incus"]})
    assert uses_explicit_token({"environment": {"server": "lxd"}, "api_extensions": ["explicit_trust_token"]})
    assert not uses_explicit_token({"environment": {"server": "lxd"}, "api_extensions": ["clustering_join_token"]})
    body = join_request("n2", "10.0.0.1:8443", "PEM", None, "tok", [], True)
    assert body["cluster_token"] == "tok" and "cluster_password" not in body
