# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Export and import a 200 MB instance with lxdops.server.lxd_backup and with the daemon's CLI, same run.

Each daemon kind (--daemon: lxd, incus or both, the default) runs on its lab primary: one busybox instance from the
lab image holding --size-mb MB of random data (stopped, so every contender backs up the same bytes), then, for each
compression (none and gzip, the daemons' default): lxd_backup exports it (create the backup on the server and stream
it to a file; the module runs as Ansible runs it, one Python process) against `lxc export` (`incus export`), then
lxd_backup imports each file as a new instance (the module reads the file through first) against `lxc import`.
The CLI deletes its server-side backup itself; lxd_backup's is deleted outside the timing. Each contender runs twice
(exports in swapped order the second time); the best of two is reported.

Every object is named with the lab prefix + $LXDOPS_TEST_SESSION + "bbak-" + a tag of this run and deleted at the
end. Results: bench/results/backup.json and stdout. Not a test: nothing is asserted beyond each import holding the
data's checksum.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import benchlib  # first: it puts the built collection on sys.path
from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient, LXDError, api_path

PREFIX = benchlib.run_prefix("bbak")
DATA = "/root/data"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    benchlib.add_daemon_argument(parser, "primary")
    parser.add_argument("--size-mb", type=int, default=int(os.environ.get("LXDOPS_BENCH_BACKUP_MB", "200")),
                        help="random data in the instance, MB (default 200)")
    parser.add_argument("--compressions", default="none,gzip", help="comma separated (default none,gzip)")
    args = parser.parse_args()
    args.kinds = benchlib.daemon_kinds(args.daemon)
    args.compressions = [c for c in args.compressions.split(",") if c]
    if args.size_mb < 1:
        parser.error("--size-mb must be 1 or more")
    return args


class Primary:
    def __init__(self, kind):
        self.kind = kind
        self.daemon = benchlib.LAB["daemons"][benchlib.LAB["pairs"][kind]["primary"]]
        self.cli = self.daemon["cli"]
        self.env = dict((k, v) for k, v in os.environ.items()
                        if k not in ("LXD_DIR", "INCUS_DIR", "LXD_URL", "INCUS_SOCKET"))
        self.env[self.daemon["dir_env"]] = self.daemon["dir"]

    def client(self):
        return LXDClient(url=self.daemon["url"], timeout=600)


def timed(command, env):
    started = time.monotonic()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    if proc.returncode:
        raise RuntimeError("%s failed: %s%s" % (" ".join(command[:6]), proc.stdout[-2000:], proc.stderr[-2000:]))
    return took, proc.stdout


def module(primary, folder, params):
    args = folder / ("args-%s.json" % uuid.uuid4().hex[:6])
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": params}))
    env = dict(primary.env, PYTHONPATH=str(benchlib.COLLECTIONS))
    took, out = timed([sys.executable, "-m", "ansible_collections.lxdops.server.plugins.modules.lxd_backup",
                       str(args)], env)
    result = json.loads(out)
    if result.get("failed"):
        raise RuntimeError("lxd_backup failed: %s" % result.get("msg"))
    return took, result


def checksum(client, name):
    """The data's md5 in an instance, started for the reading and stopped again."""
    if client.get(api_path("instances", name, "state")).metadata["status"] != "Running":
        client.put(api_path("instances", name, "state"), {"action": "start", "timeout": 60})
    code, out, err = client.execute(name, ["md5sum", DATA])
    client.put(api_path("instances", name, "state"), {"action": "stop", "force": True, "timeout": 60})
    if code:
        raise RuntimeError("md5sum in %s: %s" % (name, err.decode()))
    return out.split()[0].decode()


def delete(client, name):
    try:
        benchlib.delete_instance(client, name)
    except LXDError:
        pass


def measure(primary, args, folder):
    client = primary.client()
    source = PREFIX + primary.kind
    client.post("/1.0/instances", {"name": source, "source": {"type": "image", "alias": benchlib.IMAGE}})
    made = [source]
    rows = []
    try:
        client.put(api_path("instances", source, "state"), {"action": "start", "timeout": 60})
        code, _out, err = client.execute(source, ["sh", "-c", "dd if=/dev/urandom of=%s bs=1M count=%d 2>/dev/null "
                                                  "&& sync" % (DATA, args.size_mb)], timeout=600)
        if code:
            raise RuntimeError("writing the data failed: %s" % err.decode())
        wanted = checksum(client, source)
        for compression in args.compressions:
            ours_file = folder / ("ours-%s" % compression)
            peer_file = folder / ("peer-%s" % compression)
            times = {"export_ours_s": [], "export_cli_s": [], "import_ours_s": [], "import_cli_s": []}

            def export_ours():
                ours_file.unlink(missing_ok=True)
                took, _result = module(primary, folder, {"instance": source, "name": "bench-" + compression,
                                                         "compression_algorithm": compression,
                                                         "dest": str(ours_file)})
                client.delete(api_path("instances", source, "backups", "bench-" + compression))
                times["export_ours_s"].append(took)

            def export_cli():
                peer_file.unlink(missing_ok=True)
                took, _out = timed([primary.cli, "export", source, str(peer_file), "--compression", compression],
                                   primary.env)
                times["export_cli_s"].append(took)

            # Each contender twice, the order swapped in the second round (the first reader of the data warms
            # the page cache for the next); the best of two is kept.
            for contenders in ((export_ours, export_cli), (export_cli, export_ours)):
                for contender in contenders:
                    contender()
            for round_number in range(2):
                ours_name = "%s-o%s%d" % (source, compression[:2], round_number)
                peer_name = "%s-p%s%d" % (source, compression[:2], round_number)
                made.extend((ours_name, peer_name))
                took, _result = module(primary, folder, {"instance": ours_name, "state": "imported",
                                                         "source": str(ours_file)})
                times["import_ours_s"].append(took)
                took, _out = timed([primary.cli, "import", str(peer_file), peer_name], primary.env)
                times["import_cli_s"].append(took)
                # The CLI's copy keeps the original's MAC address, and Incus will not start it beside the original
                # (lxd_backup gives a copy addresses of its own): unset it, outside the timing.
                timed([primary.cli, "config", "unset", peer_name, "volatile.eth0.hwaddr"], primary.env)
                if round_number == 0:
                    for name in (ours_name, peer_name):
                        if checksum(client, name) != wanted:
                            raise RuntimeError("%s does not hold the data" % name)
                for name in (ours_name, peer_name):
                    delete(client, name)
            row = {"daemon": primary.kind, "compression": compression, "data_mb": args.size_mb,
                   "file_mb": round(ours_file.stat().st_size / 1e6, 1)}
            row.update((key, round(min(values), 2)) for key, values in times.items())
            rows.append(row)
            print(json.dumps(dict(row, all=times)), flush=True)
            for path in (ours_file, peer_file):
                path.unlink()
    finally:
        for name in made:
            delete(client, name)
    return rows


def main():
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lxdops-bench-backup-"))
    rows = []
    try:
        for kind in args.kinds:
            rows += measure(Primary(kind), args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    header = ("daemon", "compression", "data_mb", "file_mb", "export_ours_s", "export_cli_s", "import_ours_s",
              "import_cli_s")
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row[h]) for h in header))
    benchlib.write_results("backup", {"rows": rows, "command": " ".join(sys.argv)})


if __name__ == "__main__":
    main()
