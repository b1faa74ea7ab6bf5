"""The lxdops test lab: two real LXD daemons on this machine, test images, cleanup.

Subcommands:
  up      install packages, start and initialise both daemons, build/import images
  clean   delete every object whose name starts with the test prefix, on both daemons
  down    clean, then stop the daemons this lab started (and nothing else)
  status  print the lab description (the same JSON the tests read)

Only the standard library is used, so this runs before any virtualenv exists.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("LXDOPS_LAB_STATE", str(REPO / ".build" / "lab")))
CACHE = Path(os.environ.get("LXDOPS_CACHE", str(Path.home() / ".cache" / "lxdops")))

# Every object a test creates starts with this; `clean` removes only those.
TEST_PREFIX = "lxdops-test-"
# Host links (veth) that tests create: interface names are limited to 15 characters.
TEST_LINK_PREFIX = "lxdt"

APT_PACKAGES = ["lxd", "lxd-client", "dnsmasq-base", "iptables", "busybox-static", "debootstrap", "btrfs-progs", "openssl",
                "prometheus-node-exporter"]
# Incus 6.0 LTS comes from Debian 12's backports suite (same archive); incus-base is the daemon without VM support.
BACKPORTS_SUITE = "bookworm-backports"
BACKPORTS_PACKAGES = ["incus-base", "incus-client"]
BACKPORTS_SOURCES = Path("/etc/apt/sources.list.d/lxdops-lab-backports.sources")

# How the lab drives each daemon kind: its CLI, the variable naming its state folder, its daemon binary.
KINDS = {
    "lxd": {"cli": "lxc", "dir_env": "LXD_DIR", "daemon": ["lxd"], "admin": ["lxd"]},
    "incus": {"cli": "incus", "dir_env": "INCUS_DIR", "daemon": ["/usr/libexec/incus/incusd"], "admin": ["incus", "admin"]},
}

DAEMONS = {
    "primary": {
        "kind": "lxd",
        "dir": "/var/lib/lxd",
        "https": "127.0.0.1:8443",
        "bridge": "lxdopsbr0",
        "subnet": "10.213.57.1/24",
        "btrfs_pool": "lxdops-btrfs",
    },
    "remote": {
        "kind": "lxd",
        "dir": "/var/lib/lxdops-remote",
        "https": "127.0.0.1:8444",
        "bridge": "lxdopsbr1",
        "subnet": "10.213.58.1/24",
        "btrfs_pool": None,
    },
    "incus": {
        "kind": "incus",
        "dir": "/var/lib/incus",
        "https": "127.0.0.1:8445",
        "bridge": "lxdopsbr2",
        "subnet": "10.213.59.1/24",
        "btrfs_pool": "lxdops-btrfs",
    },
    "incus-remote": {
        "kind": "incus",
        "dir": "/var/lib/lxdops-incus-remote",
        "https": "127.0.0.1:8446",
        "bridge": "lxdopsbr3",
        "subnet": "10.213.60.1/24",
        "btrfs_pool": None,
    },
}
# Tests run once per kind: "primary" and "remote" of a kind are these daemons.
PAIRS = {"lxd": {"primary": "primary", "remote": "remote"},
         "incus": {"primary": "incus", "remote": "incus-remote"}}


BUSYBOX_ALIAS = "lxdops-lab/busybox"
BOOKWORM_ALIAS = "lxdops-lab/bookworm"

# Fixed so that the same recipe gives the same tarball, hence the same fingerprint.
IMAGE_EPOCH = 1767225600  # 2026-01-01T00:00:00Z

BUSYBOX_INIT = """#!/bin/busybox sh
# PID 1 of the test image: network up by DHCP, then wait for LXD's stop signal.
export PATH=/bin:/sbin
hostname -F /etc/hostname 2>/dev/null
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
    udhcpc -b -q -i eth0 -s /usr/share/udhcpc/default.script >/dev/null 2>&1 &
fi
trap 'exit 0' PWR TERM INT
while :; do sleep 1 & wait $!; done
"""

# udhcpc only reports a lease; this applies it (address only: no route out of the bridge).
BUSYBOX_DHCP_SCRIPT = """#!/bin/sh
case "$1" in
    deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
    bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface" ;;
esac
exit 0
"""

BOOKWORM_RECIPE = {
    "suite": "bookworm",
    "variant": "minbase",
    "packages": [
        "lxd", "lxd-client", "dnsmasq-base", "iptables", "nftables", "python3", "python3-yaml", "python3-apt",
        "systemd", "systemd-sysv", "udev", "kmod", "iproute2",
        "openssh-server", "sudo", "cron", "btrfs-progs", "zfs-fuse", "ca-certificates",
        # The firewalld backend's scenario (the service is disabled until the role enables it); libpam-systemd
        # stands for polkitd's virtual default-logind, which debootstrap does not resolve.
        "firewalld", "dbus", "libpam-systemd",
        # Check mode against EL facts: the real dnf module, an rpm database and a local repository.
        "dnf", "python3-dnf", "rpm", "createrepo-c",
    ],
    # Package lists in the image, so that apt resolves packages in check mode without a network.
    "apt_sources": "Types: deb\nURIs: {mirror}\nSuites: bookworm bookworm-updates bookworm-backports\n"
                   "Components: main contrib\n"
                   "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    "files": {
        "etc/systemd/network/10-eth0.network": "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n",
        "etc/machine-id": "",
        "etc/hostname": "bookworm\n",
    },
    # Incus beside LXD, off until a role turns it on (lxd_host/lxd_init with lxdops_daemon: incus).
    "backports_packages": ["incus-base", "incus-client"],
    "enable": ["systemd-networkd.service"],
    "disable": ["firewalld.service", "incus.socket", "incus.service", "incus-startup.service", "incus-user.socket",
                "incus-user.service"],
    "metadata": {
        "architecture": "x86_64",
        "properties": {"os": "debian", "release": "bookworm", "description": "lxdops lab Debian bookworm with LXD"},
        "templates": {
            "/etc/hostname": {"when": ["create", "copy"], "template": "hostname.tpl"},
            "/etc/hosts": {"when": ["create", "copy"], "template": "hosts.tpl"},
        },
    },
    "templates": {
        "hostname.tpl": "{{ container.name }}\n",
        "hosts.tpl": "127.0.0.1 localhost\n127.0.1.1 {{ container.name }}\n",
    },
}


def log(msg):
    print(f"[lab] {msg}", flush=True)


def run(cmd, env=None, check=True, input_text=None, capture=True, timeout=None):
    result = subprocess.run(
        cmd, env=env, input=input_text, text=True, timeout=timeout, check=False,
        stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None,
    )
    if check and result.returncode != 0:
        raise SystemExit(f"[lab] command failed ({result.returncode}): {' '.join(cmd)}\n{result.stderr or ''}")
    return result


def kind_of(name):
    return KINDS[DAEMONS[name]["kind"]]


def daemon_env(name):
    env = dict(os.environ)
    env[kind_of(name)["dir_env"]] = DAEMONS[name]["dir"]
    return env


def socket_path(name):
    return os.path.join(DAEMONS[name]["dir"], "unix.socket")


def answering(name):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2)
    try:
        sock.connect(socket_path(name))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def query(name, path, method="GET", data=None, check=True):
    cmd = [kind_of(name)["cli"], "query", "--wait", "-X", method]
    if data is not None:
        cmd += ["-d", json.dumps(data)]
    cmd.append(path)
    result = run(cmd, env=daemon_env(name), check=check)
    if result.returncode != 0:
        return None
    out = result.stdout.strip()
    return json.loads(out) if out else None


def exists(name, path):
    return run([kind_of(name)["cli"], "query", path], env=daemon_env(name), check=False).returncode == 0


# ---------------------------------------------------------------- packages

def ensure_packages():
    missing = []
    for pkg in APT_PACKAGES:
        status = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False).stdout or ""
        if "install ok installed" not in status:
            missing.append(pkg)
    backports = []
    for pkg in BACKPORTS_PACKAGES:
        status = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False).stdout or ""
        if "install ok installed" not in status:
            backports.append(pkg)
    if not missing and not backports:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if backports and BACKPORTS_SUITE not in run(["apt-cache", "policy"], check=False).stdout:
        BACKPORTS_SOURCES.write_text(backports_source(apt_mirror()))
    run(["apt-get", "update", "-q"], env=env, capture=False)
    if missing:
        log(f"installing {' '.join(missing)}")
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing, env=env, capture=False)
    if backports:
        log(f"installing {' '.join(backports)} from {BACKPORTS_SUITE}")
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "-t", BACKPORTS_SUITE] + backports,
            env=env, capture=False)


def backports_source(mirror):
    return (f"Types: deb\nURIs: {mirror}\nSuites: {BACKPORTS_SUITE}\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")


# ---------------------------------------------------------------- daemons

def load_started():
    path = STATE / "started.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_started(started):
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "started.json").write_text(json.dumps(started, indent=2))


def start_daemon(name):
    if answering(name):
        return
    conf = DAEMONS[name]
    os.makedirs(conf["dir"], mode=0o711, exist_ok=True)
    logfile = STATE / f"{conf['kind']}-{name}.log"
    log(f"starting {conf['kind']} daemon '{name}' ({kind_of(name)['dir_env']}={conf['dir']})")
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(
            kind_of(name)["daemon"] + ["--group", "root", "--logfile", str(logfile)],
            env=daemon_env(name), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    started = load_started()
    started[name] = proc.pid
    save_started(started)
    result = run(kind_of(name)["admin"] + ["waitready", "--timeout", "60"], env=daemon_env(name), check=False)
    if result.returncode != 0:
        raise SystemExit(f"[lab] daemon '{name}' did not come up; see {logfile}")


def preseed(name):
    conf = DAEMONS[name]
    pools = [{"name": "default", "driver": "dir"}]
    if conf["btrfs_pool"]:
        pools.append({"name": conf["btrfs_pool"], "driver": "btrfs", "config": {"size": "2GiB"}})
    return {
        "config": {"core.https_address": conf["https"]},
        "networks": [{
            "name": conf["bridge"], "type": "bridge",
            "config": {"ipv4.address": conf["subnet"], "ipv4.nat": "false", "ipv6.address": "none"},
        }],
        "storage_pools": pools,
        "profiles": [{
            "name": "default",
            "devices": {
                "root": {"type": "disk", "path": "/", "pool": "default"},
                "eth0": {"type": "nic", "name": "eth0", "network": conf["bridge"]},
            },
        }],
    }


def initialise(name):
    """Preseed an empty daemon; on one already set up, add only the lab's own objects."""
    seed = preseed(name)
    if not query(name, "/1.0/storage-pools"):
        log(f"initialising daemon '{name}' by preseed")
        run(kind_of(name)["admin"] + ["init", "--preseed"], env=daemon_env(name), input_text=json.dumps(seed))
        return
    for net in seed["networks"]:
        if not exists(name, f"/1.0/networks/{net['name']}"):
            query(name, "/1.0/networks", "POST", net)
    for pool in seed["storage_pools"]:
        if not exists(name, f"/1.0/storage-pools/{pool['name']}"):
            query(name, "/1.0/storage-pools", "POST", pool)
    server = query(name, "/1.0")
    if not server["config"].get("core.https_address"):
        query(name, "/1.0", "PATCH", {"config": {"core.https_address": DAEMONS[name]["https"]}})


def stop_daemon(name, pid=None):
    """Stop one daemon: LXD's own shutdown, then its process and the dnsmasq it leaves behind."""
    if answering(name):
        log(f"stopping daemon '{name}'")
        run(kind_of(name)["admin"] + ["shutdown", "--timeout", "60"], env=daemon_env(name), check=False, timeout=90)
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
            time.sleep(1)
        except ProcessLookupError:
            pass
    pidfile = Path(DAEMONS[name]["dir"]) / "networks" / DAEMONS[name]["bridge"] / "dnsmasq.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            pass


def stop_daemons():
    started = load_started()
    for name, pid in list(started.items()):
        stop_daemon(name, pid)
        del started[name]
    save_started(started)


# ---------------------------------------------------------------- certificates

def ensure_client_cert():
    crt, key = STATE / "client.crt", STATE / "client.key"
    if not (crt.exists() and key.exists()):
        STATE.mkdir(parents=True, exist_ok=True)
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1",
             "-nodes", "-days", "3650", "-subj", "/CN=lxdops-lab", "-keyout", str(key), "-out", str(crt)])
        key.chmod(0o600)
    return crt, key


def cert_fingerprint(pem_text):
    import ssl
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem_text)).hexdigest()


def trust_client(name, crt):
    pem = crt.read_text()
    fingerprint = cert_fingerprint(pem)
    if exists(name, f"/1.0/certificates/{fingerprint}"):
        return
    body = "".join(line for line in pem.splitlines() if "-----" not in line)
    query(name, "/1.0/certificates", "POST", {"type": "client", "name": "lxdops-lab", "certificate": body})


# ---------------------------------------------------------------- images

def _tar_add(tar, name, data=None, mode=0o644, kind=tarfile.REGTYPE, target=None):
    info = tarfile.TarInfo(name)
    info.mtime = IMAGE_EPOCH
    info.mode = mode
    info.type = kind
    if target is not None:
        info.linkname = target
    if data is not None:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def busybox_recipe_key():
    h = hashlib.sha256()
    h.update(Path("/bin/busybox").read_bytes())
    h.update(BUSYBOX_INIT.encode())
    h.update(BUSYBOX_DHCP_SCRIPT.encode())
    return h.hexdigest()[:16]


def build_busybox():
    out = CACHE / "images" / f"busybox-{busybox_recipe_key()}.tar.gz"
    if out.exists():
        return out
    log("building the busybox test image")
    out.parent.mkdir(parents=True, exist_ok=True)
    applets = sorted(set(run(["/bin/busybox", "--list-full"]).stdout.split()))
    metadata = (
        "architecture: x86_64\n"
        f"creation_date: {IMAGE_EPOCH}\n"
        "properties:\n  architecture: x86_64\n  os: busybox\n  release: static\n"
        "  description: lxdops lab busybox\n"
        "templates:\n  /etc/hostname:\n    when: [create, copy]\n    template: hostname.tpl\n"
    )
    tmp = out.with_suffix(".tmp")
    # gzip with mtime 0 keeps the tarball (and so its fingerprint) reproducible.
    import gzip
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
        _tar_add(tar, "metadata.yaml", metadata.encode())
        _tar_add(tar, "templates", kind=tarfile.DIRTYPE, mode=0o755)
        _tar_add(tar, "templates/hostname.tpl", b"{{ container.name }}\n")
        for directory in ["rootfs", "rootfs/bin", "rootfs/sbin", "rootfs/usr", "rootfs/usr/bin",
                          "rootfs/usr/sbin", "rootfs/usr/share", "rootfs/usr/share/udhcpc", "rootfs/etc",
                          "rootfs/dev", "rootfs/proc", "rootfs/sys", "rootfs/root", "rootfs/run",
                          "rootfs/var", "rootfs/var/log"]:
            _tar_add(tar, directory, kind=tarfile.DIRTYPE, mode=0o755)
        _tar_add(tar, "rootfs/tmp", kind=tarfile.DIRTYPE, mode=0o1777)
        _tar_add(tar, "rootfs/bin/busybox", Path("/bin/busybox").read_bytes(), mode=0o755)
        for applet in applets:
            rel = applet.lstrip("/")
            if rel in ("bin/busybox", "sbin/init"):
                continue
            _tar_add(tar, "rootfs/" + rel, kind=tarfile.SYMTYPE, target="/bin/busybox", mode=0o777)
        _tar_add(tar, "rootfs/sbin/init", BUSYBOX_INIT.encode(), mode=0o755)
        _tar_add(tar, "rootfs/usr/share/udhcpc/default.script", BUSYBOX_DHCP_SCRIPT.encode(), mode=0o755)
        _tar_add(tar, "rootfs/etc/hostname", b"busybox\n")
        _tar_add(tar, "rootfs/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        _tar_add(tar, "rootfs/etc/group", b"root:x:0:\n")
    tmp.rename(out)
    return out


def bookworm_recipe_key():
    return hashlib.sha256(json.dumps(BOOKWORM_RECIPE, sort_keys=True).encode()).hexdigest()[:16]


def apt_mirror():
    for path in ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]:
        if os.path.exists(path):
            for line in Path(path).read_text().splitlines():
                words = line.split()
                if words[:1] == ["URIs:"] and "security" not in words[1]:
                    return words[1]
                if words[:1] == ["deb"] and "security" not in line:
                    return next(w for w in words[1:] if "://" in w)
    return "http://deb.debian.org/debian"


def build_bookworm():
    key = bookworm_recipe_key()
    out = CACHE / "images" / f"bookworm-lxd-{key}.tar"
    if out.exists():
        log(f"reusing cached system-container image {out.name}")
        return out
    recipe = BOOKWORM_RECIPE
    work = CACHE / "build" / f"bookworm-{key}"
    if work.exists():
        shutil.rmtree(work)
    rootfs = work / "rootfs"
    rootfs.mkdir(parents=True)
    log(f"debootstrap {recipe['suite']} (recipe {key}); this takes a few minutes")
    started = time.monotonic()
    run(["debootstrap", f"--variant={recipe['variant']}", "--include=" + ",".join(recipe["packages"]),
         recipe["suite"], str(rootfs), apt_mirror()], capture=False)
    for rel, content in recipe["files"].items():
        path = rootfs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    sources = rootfs / "etc/apt/sources.list"
    if sources.exists():
        sources.unlink()
    (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(recipe["apt_sources"].format(mirror=apt_mirror()))
    run(["chroot", str(rootfs), "apt-get", "update", "-q"], capture=False)
    chroot_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["mount", "-t", "proc", "proc", str(rootfs / "proc")])
    try:
        run(["chroot", str(rootfs), "apt-get", "install", "-y", "-q", "--no-install-recommends",
             "-t", BACKPORTS_SUITE] + recipe["backports_packages"], env=chroot_env, capture=False)
    finally:
        run(["umount", str(rootfs / "proc")], check=False)
    for unit in recipe["enable"]:
        run(["chroot", str(rootfs), "systemctl", "enable", unit])
    for unit in recipe["disable"]:
        run(["chroot", str(rootfs), "systemctl", "disable", unit])
    run(["chroot", str(rootfs), "apt-get", "clean"])
    templates = work / "templates"
    templates.mkdir()
    for name, content in recipe["templates"].items():
        (templates / name).write_text(content)
    meta = dict(recipe["metadata"], creation_date=IMAGE_EPOCH)
    (work / "metadata.yaml").write_text(json.dumps(meta, indent=2))  # JSON is YAML
    tmp = out.with_suffix(".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    run(["tar", "--numeric-owner", "--xattrs", "-cf", str(tmp), "-C", str(work),
         "metadata.yaml", "templates", "rootfs"])
    tmp.rename(out)
    shutil.rmtree(work)
    log(f"built {out.name} in {time.monotonic() - started:.0f}s")
    return out


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_image(name, tarball, alias):
    fingerprint = file_sha256(tarball)
    current = query(name, f"/1.0/images/aliases/{alias}", check=False)
    if current and current.get("target") == fingerprint:
        return fingerprint
    if current:
        query(name, f"/1.0/images/aliases/{alias}", "DELETE")
        query(name, f"/1.0/images/{current['target']}", "DELETE", check=False)
    if exists(name, f"/1.0/images/{fingerprint}"):
        query(name, "/1.0/images/aliases", "POST", {"name": alias, "target": fingerprint})
    else:
        log(f"importing {tarball.name} into '{name}' as {alias}")
        run([kind_of(name)["cli"], "image", "import", str(tarball), "--alias", alias], env=daemon_env(name))
    return fingerprint


# ---------------------------------------------------------------- cleanup

CLEAN_PARALLEL = 8


def delete_instance(name, project, inst):
    if inst["status"] != "Stopped":
        query(name, f"/1.0/instances/{inst['name']}/state?project={project}", "PUT",
              {"action": "stop", "force": True, "timeout": 30}, check=False)
    query(name, f"/1.0/instances/{inst['name']}?project={project}", "DELETE", check=False)


def clean_daemon(name, prefix=None):
    """Remove test objects; a longer prefix (one test session's) leaves the others' objects and networks."""
    prefix = prefix or TEST_PREFIX
    if not answering(name):
        return
    project_info = query(name, "/1.0/projects?recursion=1")
    projects = [p["name"] for p in project_info]
    # A project without its own images lists (and would delete) the default project's.
    own_images = dict((p["name"], p["config"].get("features.images") == "true") for p in project_info)
    for project in projects:
        owned_project = project.startswith(prefix)
        if project.startswith(TEST_PREFIX) and not owned_project:
            # Another test session's project: it may be deleted under this loop.
            continue
        doomed = [inst for inst in query(name, f"/1.0/instances?recursion=1&project={project}")
                  if owned_project or inst["name"].startswith(prefix)]
        # A session leaves hundreds of instances; each delete mostly waits on the daemon, so several at once.
        with ThreadPoolExecutor(CLEAN_PARALLEL) as pool:
            list(pool.map(lambda inst: delete_instance(name, project, inst), doomed))
        for img in query(name, f"/1.0/images?recursion=1&project={project}"):
            aliases = [a["name"] for a in img.get("aliases", [])]
            if (owned_project and own_images[project]) or any(a.startswith(prefix) for a in aliases):
                query(name, f"/1.0/images/{img['fingerprint']}?project={project}", "DELETE", check=False)
        for prof in query(name, f"/1.0/profiles?recursion=1&project={project}"):
            if prof["name"].startswith(prefix):
                query(name, f"/1.0/profiles/{prof['name']}?project={project}", "DELETE", check=False)
    for pool in query(name, "/1.0/storage-pools?recursion=1"):
        for vol in query(name, f"/1.0/storage-pools/{pool['name']}/volumes?recursion=1&all-projects=true") or []:
            if vol["type"] == "custom" and (vol["name"].startswith(prefix)
                                            or vol.get("project", "").startswith(prefix)):
                query(name, f"/1.0/storage-pools/{pool['name']}/volumes/custom/{vol['name']}"
                            f"?project={vol.get('project', 'default')}", "DELETE", check=False)
    for project in projects:
        if project.startswith(prefix):
            query(name, f"/1.0/projects/{project}", "DELETE", check=False)
    for pool in query(name, "/1.0/storage-pools?recursion=1"):
        if pool["name"].startswith(prefix):
            query(name, f"/1.0/storage-pools/{pool['name']}", "DELETE", check=False)
    for net in query(name, "/1.0/networks?recursion=1"):
        # Network names are short: only a full clean (no session prefix) removes test networks.
        if (prefix == TEST_PREFIX and net["name"].startswith(TEST_PREFIX[:8]) and net["managed"]
                and net["name"] != DAEMONS[name]["bridge"]):
            query(name, f"/1.0/networks/{net['name']}", "DELETE", check=False)
    for cert in query(name, "/1.0/certificates?recursion=1"):
        if cert["name"].startswith(prefix):
            query(name, f"/1.0/certificates/{cert['fingerprint']}", "DELETE", check=False)
    server = query(name, "/1.0")
    for key in server["config"]:
        if key.startswith("user." + prefix):
            query(name, "/1.0", "PATCH", {"config": {key: None}}, check=False)


def clean_links():
    links = run(["ip", "-o", "link", "show"], check=False).stdout.splitlines()
    for line in links:
        ifname = line.split(":")[1].strip().split("@")[0]
        if ifname.startswith(TEST_LINK_PREFIX):
            run(["ip", "link", "delete", ifname], check=False)


# Runs of ./dev that brought the lab up, by the process id of the ./dev shell (lab.py's parent): a full clean
# while another run is using the lab would delete that run's instances under it.
SESSIONS = Path("/run/lxdops-lab/sessions")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def register_session(pid=None):
    SESSIONS.mkdir(parents=True, exist_ok=True)
    (SESSIONS / str(pid or os.getppid())).touch()


def other_sessions(own=None):
    """Process ids of other live runs using the lab; entries of ended runs are removed."""
    own = own or os.getppid()
    others = []
    for entry in SESSIONS.glob("*") if SESSIONS.exists() else []:
        pid = int(entry.name) if entry.name.isdigit() else 0
        if pid == own:
            continue
        if pid and _alive(pid):
            others.append(pid)
        else:
            entry.unlink(missing_ok=True)
    return others


def clean(prefix=None):
    with ThreadPoolExecutor(len(DAEMONS)) as pool:
        list(pool.map(lambda name: clean_daemon(name, prefix), DAEMONS))
    if prefix in (None, TEST_PREFIX):
        clean_links()


# ---------------------------------------------------------------- description

def describe(images):
    crt, key = STATE / "client.crt", STATE / "client.key"
    info = {
        "prefix": TEST_PREFIX,
        "link_prefix": TEST_LINK_PREFIX,
        "client_cert": str(crt),
        "client_key": str(key),
        "images": images,
        "daemons": {},
        "pairs": PAIRS,
    }
    for name, conf in DAEMONS.items():
        info["daemons"][name] = {
            "kind": conf["kind"],
            "cli": kind_of(name)["cli"],
            "dir_env": kind_of(name)["dir_env"],
            "dir": conf["dir"],
            "socket": socket_path(name),
            "url": "unix:" + socket_path(name),
            "https_url": "https://" + conf["https"],
            "server_cert": os.path.join(conf["dir"], "server.crt"),
            "bridge": conf["bridge"],
            "subnet": conf["subnet"],
            "btrfs_pool": conf["btrfs_pool"],
        }
    return info


def up(with_system_image=True):
    t0 = time.monotonic()
    STATE.mkdir(parents=True, exist_ok=True)
    ensure_packages()
    crt = ensure_client_cert()[0]
    for name in DAEMONS:
        start_daemon(name)
        initialise(name)
        trust_client(name, crt)
    busybox = build_busybox()
    images = {"busybox": {"alias": BUSYBOX_ALIAS, "file": str(busybox)}}
    for name in DAEMONS:
        images["busybox"]["fingerprint"] = import_image(name, busybox, BUSYBOX_ALIAS)
    if with_system_image:
        bookworm = build_bookworm()
        images["bookworm"] = {"alias": BOOKWORM_ALIAS, "fingerprint": import_image("primary", bookworm, BOOKWORM_ALIAS)}
    # Leftovers of earlier runs go, unless this run shares the lab with others running now.
    register_session()
    if not os.environ.get("LXDOPS_TEST_SESSION") and not other_sessions():
        clean()
    info = describe(images)
    (STATE / "lab.json").write_text(json.dumps(info, indent=2))
    log(f"lab is up in {time.monotonic() - t0:.0f}s; description in {STATE / 'lab.json'}")
    return info


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "clean", "down", "status"])
    parser.add_argument("--no-system-image", action="store_true",
                        help="skip the Debian system-container image (quick lab for module work)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("[lab] the lab runs LXD daemons and must run as root")
    if args.command == "up":
        up(with_system_image=not args.no_system_image)
    elif args.command == "clean":
        clean()
    elif args.command == "down":
        clean()
        stop_daemons()
    else:
        path = STATE / "lab.json"
        print(path.read_text() if path.exists() else "{}")
        for name in DAEMONS:
            print(f"{name}: {'answering' if answering(name) else 'not answering'}", file=sys.stderr)


if __name__ == "__main__":
    main()
