# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What this collection knows about LXD config keys: their forms, validation, normalisation.

Pure functions, no I/O. Values come from YAML (bool, int, str, None) and leave as the
strings LXD stores; None means "remove this key". Keys this module does not know pass
through untouched: LXD itself is the judge of those.
"""

from __future__ import annotations

import re

# Keys LXD writes for itself; never compared, never sent back changed.
LXD_OWNED_PREFIXES = ("volatile.", "image.")
# LXD's internal ID maps of an instance: large, and of no use in a play (the inventory leaves them out).
IDMAP_KEYS = ("volatile.idmap.current", "volatile.idmap.next", "volatile.last_state.idmap")

# The limit options (lxd_limits, a limits entry of lxd_instance_set) -> (where the key lives, LXD key, option type).
# "config" is the instance's or profile's config, "disk" the root disk device, "nic" the named nic device.
# Each option is declared here once: limits.limit_options() derives the argument spec from this table.
LIMIT_OPTIONS = {
    "cpu": ("config", "limits.cpu", "raw"),
    "cpu_allowance": ("config", "limits.cpu.allowance", "str"),
    "cpu_priority": ("config", "limits.cpu.priority", "int"),
    "memory": ("config", "limits.memory", "str"),
    "memory_enforce": ("config", "limits.memory.enforce", "str"),
    "memory_swap": ("config", "limits.memory.swap", "bool"),
    "memory_swap_priority": ("config", "limits.memory.swap.priority", "int"),
    "processes": ("config", "limits.processes", "int"),
    "disk_priority": ("config", "limits.disk.priority", "int"),
    "network_priority": ("config", "limits.network.priority", "int"),
    "disk_size": ("disk", "size", "str"),
    "disk_read": ("disk", "limits.read", "str"),
    "disk_write": ("disk", "limits.write", "str"),
    "network_ingress": ("nic", "limits.ingress", "str"),
    "network_egress": ("nic", "limits.egress", "str"),
}
# What limits.memory.enforce accepts (also the choices of the memory_enforce option).
MEMORY_ENFORCE = ("hard", "soft")

# Server keys whose values are never echoed: the daemon shows some only as `true` (core.trust_password), others
# in clear (maas.api.key on LXD 5.0, loki.auth.password, openfga.api.token on Incus 6.0).
SERVER_SECRET_KEYS = ("core.trust_password", "loki.auth.password", "candid.api.key", "rbac.agent.private_key",
                      "maas.api.key", "oidc.client.secret", "openfga.api.token", "network.ovn.client_key")

# Server keys LXD has and Incus does not, with what to use on Incus instead.
SERVER_KEYS_NOT_ON_INCUS = {
    "core.trust_password": "Incus has no trust password: issue a trust token instead (lxdops.server.lxd_trust with "
                           "state=token, or `incus config trust add <name>`) and give it as trust_token",
}

# LXD does not store a server key set to its default: GET shows it absent. Comparing against these keeps a
# playbook that spells out a default idempotent.
SERVER_DEFAULTS = {
    "cluster.images_minimum_replica": "3",
    "cluster.max_standby": "2",
    "cluster.max_voters": "3",
    "cluster.offline_threshold": "20",
    "core.bgp_asn": "0",
    "core.trust_ca_certificates": "false",
    "images.auto_update_cached": "true",
    "images.auto_update_interval": "6",
    "images.compression_algorithm": "gzip",
    "images.remote_cache_expiry": "10",
}

# Member-specific keys of storage pools and networks in a cluster: given per member, never cluster-wide.
# volatile.initial_source is the pool's own record of its source (read, never given).
MEMBER_POOL_KEYS = ("source", "size", "zfs.pool_name", "lvm.vg_name", "lvm.thinpool_name", "volatile.initial_source")
MEMBER_NETWORK_KEYS = ("parent", "bridge.external_interfaces", "bgp.ipv4.nexthop", "bgp.ipv6.nexthop")

LXD_TRUE = ("true", "1", "yes", "on")
LXD_FALSE = ("false", "0", "no", "off")

BYTE_SUFFIXES = ("", "B", "kB", "MB", "GB", "TB", "PB", "EB", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
BIT_SUFFIXES = ("bit", "kbit", "Mbit", "Gbit", "Tbit", "Pbit", "Ebit",
                "Kibit", "Mibit", "Gibit", "Tibit", "Pibit", "Eibit")
SCHEDULE_ALIASES = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@annually", "@yearly")
EXPIRY_UNITS = "SMHdwmy"
# What Go's strings.TrimSpace removes around snapshots.expiry (Unicode White_Space; Python's strip also takes
# \x1c-\x1f, which LXD refuses).
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"
# Go's int: LXD's amounts and its nanosecond durations must fit.
INT64_MAX = 2 ** 63 - 1

_BYTES_RE = re.compile(r"^(\d+)(%s)$" % "|".join(re.escape(s) for s in BYTE_SUFFIXES if s))
_BITS_RE = re.compile(r"^(\d+)(%s)$" % "|".join(BIT_SUFFIXES))
_CPUSET_PART_RE = re.compile(r"^(\d+)(?:-(\d+))?$")
_EXPIRY_TOKEN_RE = re.compile(r"([0-9]+)([%s])" % EXPIRY_UNITS)


class ConfigError(ValueError):
    """A value that LXD would refuse, found before any request."""


# ---------------------------------------------------------------- value forms

def to_lxd_string(value):
    """YAML scalar -> the string LXD stores (True -> 'true', 2 -> '2'); None stays None (removal)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise ConfigError("a scalar (string, number or boolean) or null, not %s" % type(value).__name__)


def parse_bytes(value):
    """LXD's byte sizes: '512', '512B', '256MB', '2GiB' (whole numbers, exact suffix case)."""
    if value.isdigit():
        return int(value)
    match = _BYTES_RE.match(value)
    if not match:
        raise ValueError(value)
    suffix = match.group(2)
    power = {"B": 0, "k": 1, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}[suffix[0]]
    base = 1024 if "i" in suffix else 1000
    return int(match.group(1)) * base ** power


def _is_bool(value):
    return value.lower() in LXD_TRUE + LXD_FALSE


def _is_int(value, low=None, high=None):
    if not re.match(r"^-?\d+$", value):
        return False
    number = int(value)
    return (low is None or number >= low) and (high is None or number <= high)


def _is_bytes(value):
    try:
        parse_bytes(value)
    except ValueError:
        return False
    return True


def _is_cpu(value):
    if re.match(r"^\d+$", value):
        return int(value) >= 1
    parts = value.split(",")
    for part in parts:
        match = _CPUSET_PART_RE.match(part)
        if not match:
            return False
        if match.group(2) is not None and int(match.group(2)) < int(match.group(1)):
            return False
    return True


def _is_cpu_allowance(value):
    match = re.match(r"^(\d+)%$", value)
    if match:
        return 1 <= int(match.group(1)) <= 100
    match = re.match(r"^(\d+)ms/(\d+)ms$", value)
    return bool(match) and int(match.group(1)) > 0 and int(match.group(2)) > 0


def _is_memory(value):
    match = re.match(r"^(\d+)%$", value)
    if match:
        return 1 <= int(match.group(1)) <= 100
    return _is_bytes(value) and parse_bytes(value) > 0


def _is_io_limit(value):
    return bool(re.match(r"^\d+iops$", value)) or _is_bytes(value)


def _is_bit_rate(value):
    return bool(_BITS_RE.match(value))


def parse_expiry(value):
    """snapshots.expiry as LXD 5.0 reads it -> {unit: amount}, {} for no expiry; raise ConfigError.

    LXD's rules: outer white space ignored, fields split on single spaces, each digits and one unit of
    EXPIRY_UNITS, a unit may follow only its own zero (0d 1d is 1d; 1d 0d and 1d 2d are refused), amounts
    within Go's int64.
    """
    amounts = {}
    text = value.strip(_GO_SPACE)
    for token in text.split(" ") if text else ():
        match = _EXPIRY_TOKEN_RE.fullmatch(token)
        if not match:
            raise ConfigError("%r is not an amount with a unit" % token)
        digits, unit = match.groups()
        if amounts.get(unit):
            raise ConfigError("unit %s is given twice" % unit)
        # Length first: int() refuses very long digit strings.
        if len(digits.lstrip("0")) > 19 or int(digits) > INT64_MAX:
            raise ConfigError("%s is out of range" % digits)
        amounts[unit] = int(digits)
    return amounts


def _is_expiry(value):
    try:
        parse_expiry(value)
    except ConfigError:
        return False
    return True


# Cron fields: (low, high, names)
_CRON_FIELDS = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)


def _cron_number(token, low, names):
    if names and token in names:
        return names.index(token) + (1 if low == 1 else 0)
    if not token.isdigit():
        raise ValueError(token)
    return int(token)


def _check_cron_field(field, low, high, names):
    for item in field.split(","):
        body, _sep, step = item.partition("/")
        if _sep and (not step.isdigit() or int(step) == 0):
            return False
        if body in ("*", "?"):
            continue
        start, _dash, end = body.partition("-")
        try:
            first = _cron_number(start, low, names)
            last = _cron_number(end, low, names) if _dash else first
        except ValueError:
            return False
        if not (low <= first <= high and low <= last <= high and first <= last):
            return False
    return True


def _is_schedule(value):
    # LXD splits triggers on ", " (a bare comma belongs to a cron field) and lowercases.
    for trigger in value.lower().split(", "):
        if trigger in SCHEDULE_ALIASES:
            continue
        fields = trigger.split(" ")
        if len(fields) != 5:
            return False
        for field, (_name, low, high, names) in zip(fields, _CRON_FIELDS):
            if not _check_cron_field(field, low, high, names):
                return False
    return True


def _is_snapshot_pattern(value):
    return bool(value) and "/" not in value


def _one_of(*choices):
    def check(value):
        return value in choices
    return check


def _int_range(low, high=None):
    def check(value):
        return _is_int(value, low, high)
    return check


BOOL_FORM = "true or false"

# key -> (check, accepted forms shown to the user)
INSTANCE_KEYS = {
    "limits.cpu": (_is_cpu, "a CPU count (2), a list (1,3), ranges (0-3,7-11) or a single pinned CPU (0-0)"),
    "limits.cpu.allowance": (_is_cpu_allowance, "a percentage 1-100% (20%) or a time slice (25ms/100ms)"),
    "limits.cpu.priority": (_int_range(0, 10), "an integer 0-10"),
    "limits.memory": (_is_memory, "a size with LXD's suffixes (256MB, 2GiB) or a percentage 1-100% (10%)"),
    "limits.memory.enforce": (_one_of(*MEMORY_ENFORCE), " or ".join(MEMORY_ENFORCE)),
    "limits.memory.swap": (_is_bool, BOOL_FORM),
    "limits.memory.swap.priority": (_int_range(0, 10), "an integer 0-10"),
    "limits.processes": (_int_range(1), "a positive integer"),
    "limits.disk.priority": (_int_range(0, 10), "an integer 0-10"),
    "limits.network.priority": (_int_range(0, 10), "an integer 0-10"),
    "snapshots.schedule": (_is_schedule, "a five-field cron expression (50 20 * * *), a list of them joined by "
                                         "', ', or one of " + ", ".join(SCHEDULE_ALIASES)),
    "snapshots.schedule.stopped": (_is_bool, BOOL_FORM),
    "snapshots.pattern": (_is_snapshot_pattern, "a non-empty name template without '/' "
                                                "(snap%d, or a pongo2 template such as "
                                                "{{ creation_date|date:'2006-01-02_15-04-05' }})"),
    "snapshots.expiry": (_is_expiry, "amounts separated by single spaces, each unit at most once: S (seconds), "
                                     "M (minutes), H (hours), d (days), w (weeks), m (months), y (years): "
                                     "1d, 2w, 6H, 1M 2H 3d"),
    "boot.autostart": (_is_bool, BOOL_FORM),
    "boot.autostart.delay": (_int_range(0), "a number of seconds (0 or more)"),
    "boot.autostart.priority": (_is_int, "an integer"),
    "boot.stop.priority": (_is_int, "an integer"),
    "boot.host_shutdown_timeout": (_int_range(0), "a number of seconds (0 or more)"),
    "security.nesting": (_is_bool, BOOL_FORM),
    "security.privileged": (_is_bool, BOOL_FORM),
    "security.protection.delete": (_is_bool, BOOL_FORM),
}

# Custom storage volumes: every key the collection accepts (others are refused, user.* is free).
VOLUME_KEYS = {
    "size": (lambda v: _is_bytes(v) and parse_bytes(v) > 0, "a size with LXD's suffixes (10GiB, 500MB)"),
    "snapshots.schedule": INSTANCE_KEYS["snapshots.schedule"],
    "snapshots.pattern": INSTANCE_KEYS["snapshots.pattern"],
    "snapshots.expiry": INSTANCE_KEYS["snapshots.expiry"],
    "security.shifted": (_is_bool, BOOL_FORM),
    "security.unmapped": (_is_bool, BOOL_FORM),
    "security.shared": (_is_bool, BOOL_FORM),
    "block.filesystem": (_one_of("ext4", "xfs", "btrfs"), "ext4, xfs or btrfs"),
    "block.mount_options": (lambda v: bool(v.strip()), "mount options, comma separated (discard,noatime)"),
    "initial.uid": (_int_range(0), "a user id (0 or more)"),
    "initial.gid": (_int_range(0), "a group id (0 or more)"),
    "initial.mode": (lambda v: bool(re.match(r"^[0-7]{3,4}$", v)), "an octal mode (0755)"),
}

# Volume keys of one pool driver, by the driver's prefix.
VOLUME_DRIVER_KEYS = {
    "zfs": {
        "zfs.blocksize": (lambda v: _is_bytes(v) and 512 <= parse_bytes(v) <= 16 * 1024 ** 2
                          and parse_bytes(v) & (parse_bytes(v) - 1) == 0,
                          "a power of two from 512 to 16MiB (128KiB)"),
        "zfs.block_mode": (_is_bool, BOOL_FORM),
        "zfs.delegate": (_is_bool, BOOL_FORM),
        "zfs.remove_snapshots": (_is_bool, BOOL_FORM),
        "zfs.reserve_space": (_is_bool, BOOL_FORM),
        "zfs.use_refquota": (_is_bool, BOOL_FORM),
    },
    "lvm": {
        "lvm.stripes": (_int_range(1), "a positive number of stripes"),
        "lvm.stripes.size": (lambda v: _is_bytes(v) and parse_bytes(v) > 0, "a size with LXD's suffixes (64KiB)"),
    },
    "btrfs": {},
    "dir": {},
    "ceph": {},
}


def normalize_volume_config(config, driver=None, where="config"):
    """Validate a custom volume's config; return {key: lxd string or None}.

    Unknown keys are refused (user.* is free). With the pool's driver, another driver's keys are refused too.
    """
    normalized = normalize_config(config, where=where) or {}
    driver_keys = {}
    for keys in VOLUME_DRIVER_KEYS.values():
        driver_keys.update(keys)
    for key, value in normalized.items():
        if key.startswith("user."):
            continue
        prefix = key.split(".", 1)[0]
        known = VOLUME_KEYS.get(key) or driver_keys.get(key)
        if known is None:
            raise ConfigError("%s key %r is not a custom volume key; accepted: %s, %s, or user.*"
                              % (where, key, ", ".join(sorted(VOLUME_KEYS)),
                                 ", ".join(sorted(driver_keys))))
        if driver and prefix in VOLUME_DRIVER_KEYS and prefix != driver:
            raise ConfigError("%s key %r is for volumes on a %s pool; this pool's driver is %s"
                              % (where, key, prefix, driver))
        if value and not known[0](value):
            raise ConfigError("%s key %r: value %s is not accepted; accepted: %s"
                              % (where, key, _show(value), known[1]))
    return normalized


DEVICE_KEYS = {
    "disk": {
        "size": (lambda v: _is_bytes(v) and parse_bytes(v) > 0, "a size with LXD's suffixes (10GiB, 500MB)"),
        "limits.read": (_is_io_limit, "a rate in bytes (30MB) or operations (20iops) per second"),
        "limits.write": (_is_io_limit, "a rate in bytes (30MB) or operations (20iops) per second"),
        "limits.max": (_is_io_limit, "a rate in bytes (30MB) or operations (20iops) per second"),
        "readonly": (_is_bool, BOOL_FORM),
        "required": (_is_bool, BOOL_FORM),
    },
    "nic": {
        "limits.ingress": (_is_bit_rate, "a bit rate with a unit: " + ", ".join(BIT_SUFFIXES) + " (100Mbit)"),
        "limits.egress": (_is_bit_rate, "a bit rate with a unit: " + ", ".join(BIT_SUFFIXES) + " (100Mbit)"),
        "limits.max": (_is_bit_rate, "a bit rate with a unit: " + ", ".join(BIT_SUFFIXES) + " (100Mbit)"),
    },
}

DEVICE_TYPES = ("disk", "nic", "unix-char", "unix-block", "usb", "gpu", "infiniband", "proxy",
                "unix-hotplug", "tpm", "pci", "none")


def _show(value):
    return repr(value) if isinstance(value, str) else str(value)


def is_lxd_owned(key):
    return key.startswith(LXD_OWNED_PREFIXES)


def is_volatile(key):
    """LXD's per-instance state (MAC addresses, idmaps, last power state): never carried to another instance."""
    return key.startswith(LXD_OWNED_PREFIXES[0])


def without_volatile(config):
    """A copy of an instance's config without its volatile keys, as a copy of the instance takes it."""
    return dict((k, v) for k, v in (config or {}).items() if not is_volatile(k))


def normalize_config(config, where="config", allow_owned=False):
    """Validate a config dict from the user; return {key: lxd string or None}.

    Raises ConfigError naming the key, the value and the accepted forms.
    """
    if config is None:
        return None
    if not isinstance(config, dict):
        raise ConfigError("%s must be a mapping of LXD config keys to values, not %s" % (where, type(config).__name__))
    normalized = {}
    for key, raw in config.items():
        key = str(key)
        if not allow_owned and is_lxd_owned(key):
            raise ConfigError("%s key %r: keys under volatile.* and image.* belong to LXD; they are never "
                              "compared nor written by this collection" % (where, key))
        try:
            value = to_lxd_string(raw)
        except ConfigError as exc:
            raise ConfigError("%s key %r: value %s is not accepted; give %s" % (where, key, _show(raw), exc))
        # An empty string is LXD's "unset" for every key it validates.
        if value and key in INSTANCE_KEYS:
            check, forms = INSTANCE_KEYS[key]
            if not check(value):
                raise ConfigError("%s key %r: value %s is not accepted; accepted: %s" % (where, key, _show(raw), forms))
        normalized[key] = value
    return normalized


def normalize_devices(devices, where="devices"):
    """Validate devices from the user; return {name: {key: lxd string} or None (removal)}."""
    if devices is None:
        return None
    if not isinstance(devices, dict):
        raise ConfigError("%s must be a mapping of device names to device definitions" % where)
    normalized = {}
    for name, device in devices.items():
        name = str(name)
        if device is None:
            normalized[name] = None
            continue
        if not isinstance(device, dict):
            raise ConfigError("%s: device %r must be a mapping of keys (with at least 'type'), or null to remove it"
                              % (where, name))
        values = {}
        for key, raw in device.items():
            try:
                value = to_lxd_string(raw)
            except ConfigError as exc:
                raise ConfigError("%s: device %r key %r: value %s is not accepted; give %s"
                                  % (where, name, key, _show(raw), exc))
            if value is not None:
                values[str(key)] = value
        dev_type = values.get("type")
        if not dev_type:
            raise ConfigError("%s: device %r has no 'type' (accepted: %s)" % (where, name, ", ".join(DEVICE_TYPES)))
        if dev_type not in DEVICE_TYPES:
            raise ConfigError("%s: device %r type %r is not accepted; accepted: %s"
                              % (where, name, dev_type, ", ".join(DEVICE_TYPES)))
        for key, value in values.items():
            known = DEVICE_KEYS.get(dev_type, {}).get(key)
            if known and value and not known[0](value):
                raise ConfigError("%s: device %r key %r: value %s is not accepted; accepted: %s"
                                  % (where, name, key, _show(device[key]), known[1]))
        normalized[name] = values
    return normalized


def validate_value(key, value, where="config"):
    """Validate one instance/profile config value (already an LXD string); raise ConfigError."""
    normalize_config({key: value}, where=where)


def owned_view(config):
    """The config without LXD's own keys (what this collection compares)."""
    return dict((k, v) for k, v in (config or {}).items() if not is_lxd_owned(k))
