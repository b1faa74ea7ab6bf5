# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Snapshot expiry arithmetic and the limits planner's pure parts."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError
from ansible_collections.lxdops.server.plugins.module_utils.limits import (
    LIMIT_OPTIONS,
    normalize_limits,
    plan_device,
    unknown_config_keys,
    usage,
)
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import format_rfc3339
from ansible_collections.lxdops.server.plugins.module_utils.snapshot import (
    expiry_to_timestamp,
    parse_expires_at,
    same_moment,
    summarize,
)

NOW = datetime.datetime(2026, 1, 31, 12, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("expiry, expected", [
    ("30M", "2026-01-31T12:30:00Z"),
    ("6H", "2026-01-31T18:00:00Z"),
    ("1d", "2026-02-01T12:00:00Z"),
    ("2w", "2026-02-14T12:00:00Z"),
    ("1m", "2026-03-03T12:00:00Z"),
    ("1y", "2027-01-31T12:00:00Z"),
    ("1M 2H 3d", "2026-02-03T14:01:00Z"),
])
def test_expiry(expiry, expected):
    assert format_rfc3339(expiry_to_timestamp(expiry, NOW)) == expected


@pytest.mark.parametrize("expiry", ["1x", "1 d", "d", "1D", "1d 2d"])
def test_bad_expiry(expiry):
    with pytest.raises(ConfigError):
        expiry_to_timestamp(expiry, NOW)


def test_empty_expiry_is_never():
    assert expiry_to_timestamp("", NOW) is None


def test_timestamps_as_lxd_writes_them():
    moment = parse_expires_at("2026-11-29T20:00:00.123456789Z")
    assert moment.tzinfo is not None and moment.microsecond == 123456
    assert same_moment("2026-11-29T20:00:00.4Z", parse_expires_at("2026-11-29T20:00:00Z"))
    assert same_moment("0001-01-01T00:00:00Z", None)
    assert not same_moment("0001-01-01T00:00:00Z", NOW)
    with pytest.raises(ConfigError) as err:
        parse_expires_at("tomorrow")
    assert "expires_at 'tomorrow'" in str(err.value) and "RFC 3339" in str(err.value)


def test_summarize_never_expiring():
    assert summarize({"name": "s", "created_at": "x", "expires_at": "0001-01-01T00:00:00Z"})["expires_at"] is None


def test_limits_only_given_options():
    params = dict((option, None) for option in LIMIT_OPTIONS)
    params.update(cpu=2, memory_swap=False, disk_size="10GiB")
    assert normalize_limits(params, {"cpu", "memory_swap", "disk_size", "memory"}) == \
        {"cpu": "2", "memory_swap": "false", "disk_size": "10GiB", "memory": None}


def test_limits_messages_name_option_and_key():
    params = dict((option, None) for option in LIMIT_OPTIONS)
    params["memory"] = "2 GB"
    with pytest.raises(ConfigError) as err:
        normalize_limits(params, {"memory"})
    assert "memory (limits.memory)" in str(err.value) and "'2 GB'" in str(err.value)


def test_plan_device_copies_inherited_and_removes_only_own():
    inherited = {"type": "disk", "path": "/", "pool": "default"}
    new, diffs = plan_device(None, inherited, "root", {"size": "10GiB"})
    assert new == dict(inherited, size="10GiB") and diffs == [("size", None, "10GiB")]
    assert plan_device(None, inherited, "root", {"size": None}) == (None, [])
    own = dict(inherited, size="10GiB")
    new, diffs = plan_device(own, inherited, "root", {"size": None})
    assert new == inherited and diffs == [("size", "10GiB", None)]
    assert plan_device(own, inherited, "root", {"size": "10GiB"}) == (None, [])


def test_usage_like_lxc_info():
    state = {"state": {"memory": {"usage": 10, "usage_peak": 20, "swap_usage": 0, "swap_usage_peak": 0},
                       "cpu": {"usage": 2500000000}, "processes": 3, "disk": {"root": {"usage": 1024}},
                       "network": {"eth0": {"counters": {"bytes_received": 1, "bytes_sent": 2,
                                                         "packets_received": 3, "packets_sent": 4}}}}}
    assert usage(state) == {"memory": 10, "memory_peak": 20, "swap": 0, "swap_peak": 0, "cpu_seconds": 2.5,
                            "processes": 3, "disk": {"root": 1024},
                            "network": {"eth0": {"bytes_received": 1, "bytes_sent": 2, "packets_received": 3,
                                                 "packets_sent": 4}}}


class _ListingClient:
    """Stands in for a server: has_extension and the config keys it lists under /1.0/metadata/configuration."""

    def __init__(self, extensions, instance_keys=()):
        self.extensions = extensions
        self.instance_keys = instance_keys
        self.requests = []

    def has_extension(self, name):
        return name in self.extensions

    def get(self, path, **_kwargs):
        self.requests.append(path)
        keys = [dict((key, {"type": "string"}) for key in self.instance_keys)]
        return type("R", (), {"metadata": {"configs": {"instance": {"resource-limits": {"keys": keys}}}}})()


def test_unknown_keys_only_from_a_server_that_lists_its_keys():
    incus = _ListingClient(["metadata_configuration"], ["limits.cpu", "limits.disk.priority"])
    assert unknown_config_keys(incus, ["limits.cpu", "limits.network.priority"]) == ["limits.network.priority"]
    assert incus.requests == ["/1.0/metadata/configuration"]
    # A server that lists nothing (LXD 5.0) is not second-guessed: its answer to the write is the check.
    lxd = _ListingClient([])
    assert unknown_config_keys(lxd, ["limits.network.priority"]) == [] and lxd.requests == []
    # Nothing to set, nothing asked.
    assert unknown_config_keys(incus, []) == [] and len(incus.requests) == 1
