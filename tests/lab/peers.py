# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The peer collections benchmarks compare against, fetched from PyPI (the `ansible` package carries them).

Only the collections asked for are unpacked (community.general; ansible.posix for its profile_tasks
callback), into ~/.cache/lxdops/peers/<ansible version>, beside (never inside) this collection's own path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ANSIBLE_PACKAGE = "ansible==12.3.0"  # community.general 11.4.2
CACHE = Path(os.environ.get("LXDOPS_CACHE", str(Path.home() / ".cache" / "lxdops")))


def community_general():
    """Return a collections path holding community.general."""
    return peer_collection("community", "general")


def peer_collection(namespace, name):
    """Return a collections path holding namespace.name, as the pinned `ansible` package carries it."""
    version = ANSIBLE_PACKAGE.split("==")[1]
    root = CACHE / "peers" / version
    marker = root / "ansible_collections" / namespace / name / "MANIFEST.json"
    if marker.exists():
        return str(root)
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    wheel = wheels / ("ansible-%s-py3-none-any.whl" % version)
    if not wheel.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels),
                        ANSIBLE_PACKAGE], check=True)
    with zipfile.ZipFile(wheel) as archive:
        prefix = "ansible_collections/%s/%s/" % (namespace, name)
        members = [m for m in archive.namelist() if m.startswith(prefix)]
        archive.extractall(root, members)
    return str(root)


if __name__ == "__main__":
    # peers.py [namespace.name ...]: the collections path holding them (community.general by default).
    wanted = sys.argv[1:] or ["community.general"]
    print(sorted(set(peer_collection(*full.split(".", 1)) for full in wanted))[0])
