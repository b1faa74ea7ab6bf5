# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The config knowledge layer: forms LXD accepts, and the message for those it does not."""

from __future__ import annotations

import pytest

from bad_config_values import BAD, GOOD

from ansible_collections.lxdops.server.plugins.module_utils.config import (
    ConfigError,
    normalize_config,
    normalize_devices,
    owned_view,
    parse_bytes,
    to_lxd_string,
    without_volatile,
)


@pytest.mark.parametrize("key, value", GOOD)
def test_accepted(key, value):
    assert normalize_config({key: value})[key] == to_lxd_string(value)


@pytest.mark.parametrize("key, value, form", BAD)
def test_refused_with_key_value_and_forms(key, value, form):
    with pytest.raises(ConfigError) as err:
        normalize_config({key: value})
    message = str(err.value)
    assert repr(key) in message
    assert (repr(value) if isinstance(value, str) else str(value)) in message
    assert form in message


def test_bad_table_is_large_enough():
    assert len(BAD) >= 25


def test_scalars_become_lxd_strings():
    assert normalize_config({"a": True, "b": False, "c": 2, "d": 1.5, "e": "x", "f": None}) == \
        {"a": "true", "b": "false", "c": "2", "d": "1.5", "e": "x", "f": None}


@pytest.mark.parametrize("value", [[1], {"a": 1}])
def test_non_scalars_are_refused(value):
    with pytest.raises(ConfigError) as err:
        normalize_config({"user.x": value})
    assert "user.x" in str(err.value) and "scalar" in str(err.value)


@pytest.mark.parametrize("key", ["volatile.eth0.hwaddr", "image.os"])
def test_lxd_owned_keys_are_refused(key):
    with pytest.raises(ConfigError) as err:
        normalize_config({key: "x"})
    assert key in str(err.value)


def test_owned_view_drops_lxd_keys():
    assert owned_view({"volatile.a": "1", "image.os": "x", "user.a": "2"}) == {"user.a": "2"}


def test_config_must_be_a_mapping():
    with pytest.raises(ConfigError):
        normalize_config(["limits.cpu=2"])


def test_parse_bytes():
    assert parse_bytes("512") == 512
    assert parse_bytes("512B") == 512
    assert parse_bytes("1kB") == 1000
    assert parse_bytes("2KiB") == 2048
    assert parse_bytes("3GiB") == 3 * 1024 ** 3
    assert parse_bytes("1EB") == 10 ** 18
    for bad in ("1kb", "1 MB", "MB", "1.5MB", "-1MB"):
        with pytest.raises(ValueError):
            parse_bytes(bad)


class TestDevices:
    def test_values_become_strings_and_none_removes(self):
        assert normalize_devices({"root": {"type": "disk", "path": "/", "pool": "default", "size": "10GiB"},
                                  "old": None, "eth0": {"type": "nic", "limits.ingress": "100Mbit", "mtu": 1500}}) == {
            "root": {"type": "disk", "path": "/", "pool": "default", "size": "10GiB"},
            "old": None,
            "eth0": {"type": "nic", "limits.ingress": "100Mbit", "mtu": "1500"},
        }

    @pytest.mark.parametrize("device, words", [
        ({"path": "/"}, ["'d'", "no 'type'"]),
        ({"type": "floppy"}, ["'floppy'", "accepted"]),
        ({"type": "disk", "size": "10 GB"}, ["'size'", "'10 GB'"]),
        ({"type": "disk", "limits.read": "fast"}, ["'limits.read'", "iops"]),
        ({"type": "disk", "limits.write": "20iop"}, ["'limits.write'", "iops"]),
        ({"type": "nic", "limits.egress": "100MB"}, ["'limits.egress'", "Mbit"]),
        ({"type": "nic", "limits.ingress": "fast"}, ["'limits.ingress'", "bit"]),
        ("eth0", ["'d'", "mapping"]),
    ])
    def test_refused(self, device, words):
        with pytest.raises(ConfigError) as err:
            normalize_devices({"d": device})
        for word in words:
            assert word in str(err.value)

    def test_io_limits_accept_bytes_and_iops(self):
        normalize_devices({"root": {"type": "disk", "limits.read": "30MB", "limits.write": "20iops"}})


def test_a_copy_takes_everything_but_volatile_keys():
    config = {"volatile.eth0.hwaddr": "00:16:3e:00:00:01", "volatile.last_state.power": "RUNNING",
              "image.os": "Debian", "limits.cpu": "2", "user.volatile.note": "kept"}
    assert without_volatile(config) == {"image.os": "Debian", "limits.cpu": "2", "user.volatile.note": "kept"}
    assert without_volatile(None) == {}
