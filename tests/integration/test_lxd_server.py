# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops.server.lxd_server against the lab's second daemon (its config is restored afterwards)."""

from __future__ import annotations

import pytest

KEYS = ("images.remote_cache_expiry", "images.auto_update_interval", "images.auto_update_cached",
        "core.proxy_ignore_hosts", "core.trust_password")


def server_config(client):
    return client.get("/1.0", project=False).metadata["config"]


@pytest.fixture
def remote(remote_unix, lab):
    """Module options for the second daemon, and its config restored after the test."""
    before = server_config(remote_unix)
    yield dict(url=lab["daemons"]["remote"]["url"])
    restore = dict((key, before.get(key, "")) for key in KEYS if key != "core.trust_password")
    if lab["kind"] == "lxd":
        restore["core.trust_password"] = ""
    remote_unix.patch("/1.0", {"config": restore}, project=False)


def test_set_then_nothing_to_do(run_module, remote_unix, remote):
    params = dict(remote, config={"images.remote_cache_expiry": 1, "images.auto_update_interval": 12,
                                  "images.auto_update_cached": False, "core.proxy_ignore_hosts": "10.0.0.0/8"})
    first = run_module("lxd_server", params)
    assert first["changed"]
    config = server_config(remote_unix)
    assert config["images.remote_cache_expiry"] == "1" and config["images.auto_update_interval"] == "12"
    assert config["images.auto_update_cached"] == "false"
    second = run_module("lxd_server", params)
    assert not second["changed"] and second["_requests"] == 1
    assert second["config"]["core.proxy_ignore_hosts"] == "10.0.0.0/8"


def test_default_values_are_not_a_change(run_module, remote_unix, remote):
    """LXD drops a key set to its default; spelling the default out must still be idempotent."""
    params = dict(remote, config={"images.auto_update_interval": 6, "images.auto_update_cached": True,
                                  "images.remote_cache_expiry": 10})
    run_module("lxd_server", params)
    assert "images.auto_update_interval" not in server_config(remote_unix)
    assert not run_module("lxd_server", params)["changed"]


def test_null_removes_and_other_keys_stay(run_module, remote_unix, remote):
    run_module("lxd_server", dict(remote, config={"images.remote_cache_expiry": 2,
                                                  "images.auto_update_interval": 8}))
    result = run_module("lxd_server", dict(remote, config={"images.remote_cache_expiry": None}))
    assert result["changed"]
    config = server_config(remote_unix)
    assert "images.remote_cache_expiry" not in config
    assert config["images.auto_update_interval"] == "8"
    assert config["core.https_address"]
    assert not run_module("lxd_server", dict(remote, config={"images.remote_cache_expiry": None}))["changed"]


def test_check_mode_and_diff(run_module, remote_unix, remote):
    before = server_config(remote_unix)
    result = run_module("lxd_server", dict(remote, config={"images.auto_update_interval": 3}), check=True)
    assert result["changed"]
    assert result["diff"]["after"] == {"config": {"images.auto_update_interval": "3"}}
    assert server_config(remote_unix) == before


# Incus has no trust password (nor another secret server key that works without an outside service).
@pytest.mark.daemons("lxd")
def test_secret_is_set_once_and_never_shown(run_module, remote_unix, remote):
    secret = "lxdops-test-Sup3rSecret"
    first = run_module("lxd_server", dict(remote, config={"core.trust_password": secret}))
    assert first["changed"]
    assert server_config(remote_unix)["core.trust_password"] is True
    assert secret not in first["_stdout"]
    second = run_module("lxd_server", dict(remote, config={"core.trust_password": secret}))
    assert not second["changed"] and secret not in second["_stdout"]
    forced = run_module("lxd_server", dict(remote, config={"core.trust_password": secret}, update_secrets=True))
    assert forced["changed"] and secret not in forced["_stdout"]
    removed = run_module("lxd_server", dict(remote, config={"core.trust_password": None}))
    assert removed["changed"] and "core.trust_password" not in server_config(remote_unix)


def test_bad_value_fails_before_any_request(run_module, remote):
    result = run_module("lxd_server", dict(remote, config={"core.proxy_http": ["a", "b"]}))
    assert result["failed"] and result["_requests"] == 0
    assert "core.proxy_http" in result["msg"] and "scalar" in result["msg"]


def test_key_lxd_refuses_leaves_the_server_as_it_was(run_module, remote_unix, remote):
    before = server_config(remote_unix)
    result = run_module("lxd_server", dict(remote, config={"images.auto_update_interval": 5,
                                                           "lxdops.no.such.key": "x"}))
    assert result["failed"] and "lxdops.no.such.key" in result["msg"]
    assert server_config(remote_unix) == before


def test_over_https(run_module, remote_https, remote_unix, remote):
    params = dict(remote_https, config={"images.auto_update_interval": 7})
    assert run_module("lxd_server", params)["changed"]
    assert not run_module("lxd_server", params)["changed"]
    assert server_config(remote_unix)["images.auto_update_interval"] == "7"


@pytest.mark.daemons("incus")
def test_trust_password_is_refused_on_incus_before_any_write(run_module, remote_unix, remote):
    before = server_config(remote_unix)
    secret = "lxdops-test-Sup3rSecret"
    result = run_module("lxd_server", dict(remote, config={"images.auto_update_interval": 5,
                                                           "core.trust_password": secret}))
    assert result["failed"] and result["actions"] == [] and result["_requests"] == 1
    assert "core.trust_password" in result["msg"] and "Incus" in result["msg"] and "trust token" in result["msg"]
    assert secret not in result["_stdout"]
    assert server_config(remote_unix) == before
    # null (remove) is nothing to do on a daemon without the key: a play for both daemons may say it.
    removed = run_module("lxd_server", dict(remote, config={"core.trust_password": None}))
    assert not removed.get("failed"), removed.get("msg")
    assert not removed["changed"]
