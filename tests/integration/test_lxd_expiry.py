# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""snapshots.expiry: the collection's reading against the lab daemon's, value by value (tests/lxd_expiry_table.py).

Runs against LXD and Incus alike: both read the expression the same way (asked of both on the lab).
"""

from __future__ import annotations

import pytest

from lxd_expiry_table import ACCEPTED, BEYOND, NEVER, REFUSED

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError, parse_expiry, validate_value
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import parse_lxd_time, parse_rfc3339
from ansible_collections.lxdops.server.plugins.module_utils.snapshot import expiry_to_timestamp

# LXD reads its clock for the expiry and again for created_at; ours counts from created_at.
SLACK = 2.0


def lxd_snapshot_with(client, name, value, snap):
    """Set the instance's snapshots.expiry, take a snapshot without expires_at: LXD's (created_at, expires_at)."""
    client.patch(api_path("instances", name), {"config": {"snapshots.expiry": value}})
    client.post(api_path("instances", name, "snapshots"), {"name": snap})
    found = client.get(api_path("instances", name, "snapshots", snap)).metadata
    return parse_rfc3339(found["created_at"]), parse_lxd_time(found["expires_at"])


def zero(value):
    """An expiry of nothing but zeros: the snapshot expires as it is taken (LXD's pruning may be that quick)."""
    amounts = parse_expiry(value)
    return bool(amounts) and not any(amounts.values())


def test_accepted_values_give_lxds_expiry(primary, instance):
    name = instance(state="stopped")
    wrong = []
    for index, (value, _created, _expires) in enumerate(ACCEPTED + [(v, None, None) for v in NEVER]):
        validate_value("snapshots.expiry", value)
        try:
            created, lxd = lxd_snapshot_with(primary, name, value, "a%d" % index)
        except LXDNotFound:
            # Pruned between the POST and the GET: LXD's expiry was already past, as ours would be.
            assert zero(value), value
            continue
        ours = expiry_to_timestamp(value, created)
        if (lxd is None) != (ours is None) or (lxd is not None and abs((ours - lxd).total_seconds()) > SLACK):
            wrong.append((value, lxd, ours))
    assert wrong == []


def test_refused_values_are_refused_by_both(primary, instance):
    name = instance(state="stopped")
    primary.patch(api_path("instances", name), {"config": {"snapshots.expiry": "1d"}})
    agree = []
    for value in REFUSED:
        with pytest.raises(LXDError) as err:
            primary.patch(api_path("instances", name), {"config": {"snapshots.expiry": value}})
        lxd_said = str(err.value)
        with pytest.raises(ConfigError):
            validate_value("snapshots.expiry", value)
        agree.append("Invalid expiry expression" in lxd_said or "value out of range" in lxd_said)
    assert all(agree)
    assert primary.get(api_path("instances", name)).metadata["config"]["snapshots.expiry"] == "1d"


def test_overflowing_values_lxd_takes_but_gets_wrong(primary, instance):
    """LXD stores these; its answer is before the snapshot, or no snapshot at all. lxd_snapshot refuses them."""
    name = instance(state="stopped")
    for index, (value, _created, _expires) in enumerate(BEYOND):
        validate_value("snapshots.expiry", value)
        try:
            created, lxd = lxd_snapshot_with(primary, name, value, "b%d" % index)
        except LXDError as exc:
            assert "10000" in str(exc), exc
        else:
            assert lxd is not None and lxd < created, (value, created, lxd)
        with pytest.raises(ConfigError):
            expiry_to_timestamp(value, parse_rfc3339(ACCEPTED[0][1]))


@pytest.mark.parametrize("value", ["2w", "1m", "1S 1M 1H 1d 1w 1m 1y", "13m", "0d 1d", " 6H "])
def test_the_module_sends_what_lxd_would_compute(run_module, primary, instance, value):
    name = instance(state="stopped")
    _created, lxd = lxd_snapshot_with(primary, name, value, "by-lxd")
    result = run_module("lxd_snapshot", dict(instance=name, name="by-module", expiry=value))
    assert result["changed"], result.get("msg")
    ours = parse_lxd_time(primary.get(api_path("instances", name, "snapshots", "by-module")).metadata["expires_at"])
    assert abs((ours - lxd).total_seconds()) < 30


def test_empty_expiry_is_never_not_the_instances(run_module, primary, instance):
    name = instance(state="stopped")
    primary.patch(api_path("instances", name), {"config": {"snapshots.expiry": "1d"}})
    run_module("lxd_snapshot", dict(instance=name, name="kept", expiry=""))
    run_module("lxd_snapshot", dict(instance=name, name="daily"))
    listed = primary.get(api_path("instances", name, "snapshots"), params={"recursion": 1}).metadata
    snaps = dict((s["name"], s) for s in listed)
    assert parse_lxd_time(snaps["kept"]["expires_at"]) is None
    assert parse_lxd_time(snaps["daily"]["expires_at"]) is not None


@pytest.mark.parametrize("value", ["1d 2d", "1d  2H", "2562048H", "7974y"])
def test_the_module_refuses_before_any_request(run_module, value):
    result = run_module("lxd_snapshot", dict(instance="web1", name="s", expiry=value))
    assert result["failed"] and result["_requests"] == 0
    assert repr(value) in result["msg"]
