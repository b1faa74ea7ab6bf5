# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What differs between the two daemons of the family, LXD and Incus: the one place for it.

The REST API is shared; what differs is where each daemon lives on a host (state folder, socket, services), what
its tools are called (CLI, admin group, the CLI's config folder) and which environment variables point at it.
The client's discovery, the roles (through the `daemon_layout` filter) and the playbooks read it from here.
No I/O here.
"""

from __future__ import annotations

DAEMON_KINDS = ("lxd", "incus")

# The host variable that chooses the daemon for a host (group_vars: lxdops_daemon: incus).
DAEMON_VARIABLE = "lxdops_daemon"
DEFAULT_DAEMON = "lxd"

# How each daemon is installed and laid out. LXD: Debian packages it (apt), elsewhere it is the snap.
# Incus: packaged by Debian (12 from bookworm-backports), Ubuntu 24.04 and EL 9 (EPEL + COPR), all the same layout.
LAYOUTS = {
    ("lxd", "apt"): {
        "dir": "/var/lib/lxd",
        "service": "lxd",
        "socket_unit": "lxd.socket",
        # The unit that starts the instances with boot.autostart at boot.
        "startup_service": "lxd-containers",
        "log_dir": "/var/log/lxd",
        "cli_config_dir": ".config/lxc",
    },
    ("lxd", "snap"): {
        "dir": "/var/snap/lxd/common/lxd",
        "service": "snap.lxd.daemon",
        "socket_unit": "snap.lxd.daemon.unix.socket",
        "startup_service": "snap.lxd.activate",
        "log_dir": "/var/snap/lxd/common/lxd/logs",
        "cli_config_dir": "snap/lxd/common/config",
    },
    ("incus", "package"): {
        "dir": "/var/lib/incus",
        "service": "incus",
        "socket_unit": "incus.socket",
        "startup_service": "incus-startup",
        "log_dir": "/var/log/incus",
        "cli_config_dir": ".config/incus",
    },
}

KIND_FACTS = {
    "lxd": {
        "name": "LXD",
        "cli": "lxc",
        "admin_group": "lxd",
        "dir_env": "LXD_DIR",
        "socket_env": None,
        # The variable that points the CLI at another configuration folder (remotes, client certificate).
        "cli_conf_env": "LXD_CONF",
        # What `init` names the bridge of the default profile, and the API's https port.
        "bridge": "lxdbr0",
        "https_port": 8443,
        # The command that waits until the daemon has started (argv, without --timeout).
        "waitready": ["lxd", "waitready"],
        # The prefix of the API's own request headers (image upload: fingerprint, public, properties).
        "header_prefix": "X-LXD-",
        # What the daemon calls a server of the family as an image source (POST /1.0/images, source.protocol).
        "image_protocol": "lxd",
    },
    "incus": {
        "name": "Incus",
        "cli": "incus",
        "admin_group": "incus-admin",
        "dir_env": "INCUS_DIR",
        "socket_env": "INCUS_SOCKET",
        "cli_conf_env": "INCUS_CONF",
        "bridge": "incusbr0",
        "https_port": 8443,
        "waitready": ["incus", "admin", "waitready"],
        # Incus reads its image upload headers under its own name only (X-LXD-public is ignored there).
        "header_prefix": "X-Incus-",
        # Incus refuses "lxd" there ("Invalid protocol: lxd") once it looks an alias up.
        "image_protocol": "incus",
    },
}

# The local sockets a client tries when nothing names one: LXD's (snap, then package), then Incus's.
DEFAULT_SOCKETS = (
    "/var/snap/lxd/common/lxd/unix.socket",
    "/var/lib/lxd/unix.socket",
    "/var/lib/incus/unix.socket",
    "/run/incus/unix.socket",
)


class DaemonError(ValueError):
    pass


def check_kind(kind, option=DAEMON_VARIABLE):
    if kind not in DAEMON_KINDS:
        raise DaemonError("%s: %r is not a daemon this collection drives; use one of %s"
                          % (option, kind, ", ".join(DAEMON_KINDS)))
    return kind


def install_method(kind, distribution=None):
    """How the daemon is installed on a host of this distribution (Ansible's ansible_facts['distribution'])."""
    check_kind(kind)
    if kind == "incus":
        return "package"
    return "apt" if distribution == "Debian" else "snap"


def layout(kind, distribution=None):
    """Everything the roles and playbooks need to know of the daemon on one host."""
    method = install_method(kind, distribution)
    facts = dict(KIND_FACTS[kind])
    facts.update(LAYOUTS[(kind, method)])
    facts["kind"] = kind
    facts["install_method"] = method
    facts["socket"] = facts["dir"] + "/unix.socket"
    facts["url"] = "unix:" + facts["socket"]
    facts["server_cert"] = facts["dir"] + "/server.crt"
    return facts


# API extensions only Incus has (LXD names them devlxd_*): they tell an untrusted client, which sees no
# environment in GET /1.0, which daemon answers.
INCUS_EXTENSIONS = ("restrict_dev_incus", "dev_incus_events")


def kind_from_server(server_info):
    """'lxd' or 'incus' from GET /1.0 (environment.server; LXD before it named itself says nothing)."""
    environment = (server_info or {}).get("environment") or {}
    if environment.get("server") == "incus":
        return "incus"
    extensions = (server_info or {}).get("api_extensions") or []
    return "incus" if any(name in extensions for name in INCUS_EXTENSIONS) else "lxd"


def name_of(kind):
    return KIND_FACTS[kind]["name"] if kind in KIND_FACTS else str(kind)
