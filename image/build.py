"""Build the Kasir SD image: `kasir-<version>-arm64.img.xz` for Raspberry Pi 3/3+/4/400/Zero 2 W.

    # python3 image/build.py --out dist/           (as root, on Debian bookworm, amd64 or arm64)

Debian bookworm arm64 from Debian's own archive (mmdebstrap, with qemu-user-static through
binfmt when the build machine is not arm64), the till from the project's wheel and PyPI's
aarch64 wheels installed as a signed release bundle, then three partitions assembled into an
image file without loop devices. Next to the image: its sha256, the release bundle it holds
and a manifest of every package and wheel in it. Each step prints its progress and time.

Needs: mmdebstrap qemu-user-static binfmt-support dosfstools mtools e2fsprogs fdisk xz-utils
(scripts/apt-test.txt lists them); network access to Debian's archive and PyPI.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "image"

from image import assemble, layout, make_bundle

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
RECIPE = HERE / "recipe.toml"
UNITS = HERE / "units"
OVERLAY = HERE / "overlay"
# Every key with its default and what it does: the same file the till reads anywhere.
EXAMPLE_CONFIG = PROJECT / "config" / "kasir.example.toml"
LIB = "usr/lib/kasir"
ENABLED_UNITS = {
    "multi-user.target": [
        "kasir-till.service",
        "kasir-sync.service",
        "kasir-firstboot.service",
        "kasir-enrol.service",
        "kasir-growdata.service",
        "kasir-update.path",
        "kasir-update-guard.service",
        "systemd-networkd.service",
        "systemd-resolved.service",
    ],
    "timers.target": ["kasir-security-update.timer"],
}
# Units that would write to the read-only root or wait for a network that may never come.
MASKED_UNITS = [
    "apt-daily.service",
    "apt-daily.timer",
    "apt-daily-upgrade.service",
    "apt-daily-upgrade.timer",
    "dpkg-db-backup.service",
    "dpkg-db-backup.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "systemd-networkd-wait-online.service",
    "getty@tty1.service",
]
KASIR_GROUPS = ["dialout", "lp", "gpio", "video", "input", "render", "audio"]
BINFMT_ARM64 = (
    ":qemu-aarch64:M::"
    "\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:"
    "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:"
    "/usr/libexec/qemu-binfmt/aarch64-binfmt-P:PF"
)


class BuildError(RuntimeError):
    pass


class Steps:
    """Numbered progress lines with each step's time; the times go into the manifest."""

    def __init__(self, total: int):
        self.total = total
        self.n = 0
        self.times: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, title: str):
        self.n += 1
        print(f"[{self.n}/{self.total}] {title} ...", flush=True)
        started = time.monotonic()
        yield
        elapsed = time.monotonic() - started
        self.times[title] = round(elapsed, 1)
        print(f"[{self.n}/{self.total}] {title}: done in {elapsed:.0f} s", flush=True)


def sh(*command: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(list(command), capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise BuildError(
            f"{' '.join(command)[:200]} failed ({done.returncode}):\n"
            f"{(done.stderr or done.stdout).strip()[-3000:]}"
        )
    return done


def load_recipe(path: Path = RECIPE) -> dict:
    return tomllib.loads(path.read_text())


# -- host checks ----------------------------------------------------------------------------------

HOST_TOOLS = {
    "mmdebstrap": "mmdebstrap",
    "mkfs.vfat": "dosfstools",
    "mcopy": "mtools",
    "mkfs.ext4": "e2fsprogs",
    "debugfs": "e2fsprogs",
    "sfdisk": "fdisk",
    "blkid": "util-linux",
    "xz": "xz-utils",
}


def check_host() -> None:
    if os.geteuid() != 0:
        raise BuildError("run as root: mmdebstrap and chroot need it")
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None})
    emulated = platform.machine() not in ("aarch64", "arm64")
    if emulated and not Path("/usr/libexec/qemu-binfmt/aarch64-binfmt-P").exists():
        missing.append("qemu-user-static")
    if missing:
        raise BuildError(f"missing on this machine: apt-get install {' '.join(missing)}")
    if platform.machine() not in ("aarch64", "arm64"):
        ensure_binfmt()


def ensure_binfmt() -> None:
    """Register qemu-aarch64 with binfmt_misc (F: the kernel opens the interpreter now, so it
    works inside the chroot without copying qemu there)."""
    binfmt = Path("/proc/sys/fs/binfmt_misc")
    if not (binfmt / "register").exists():
        sh("mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt))
    if not (binfmt / "qemu-aarch64").exists():
        (binfmt / "register").write_text(BINFMT_ARM64)
    if "enabled" not in (binfmt / "qemu-aarch64").read_text():
        raise BuildError("binfmt_misc has qemu-aarch64 but it is disabled")


# -- Debian ----------------------------------------------------------------------------------------


def apt_sources(recipe: dict) -> list[str]:
    deb = recipe["debian"]
    comps = " ".join(deb["components"])
    suite = deb["suite"]
    return [
        f"deb {deb['mirror']} {suite} {comps}",
        f"deb {deb['mirror']} {suite}-updates {comps}",
        f"deb {deb['security_mirror']} {suite}-security {comps}",
    ]


def package_list(recipe: dict) -> list[str]:
    pinned = [f"{name}={version}" for name, version in recipe["pins"].items()]
    return pinned + list(recipe["packages"]["include"])


def setup_hook_script(recipe: dict) -> str:
    """Run by mmdebstrap before any package is installed: initramfs with a module list,
    and no SSH host keys made at build time (each card makes its own)."""
    modules = "\n".join(recipe["initramfs"]["modules"]) + "\n"
    return "\n".join(
        [
            'set -e; R="$1"',
            'mkdir -p "$R/etc/initramfs-tools/conf.d" "$R/usr/share/initramfs-tools/modules.d"',
            'printf "MODULES=list\\nCOMPRESS=zstd\\n" > "$R/etc/initramfs-tools/conf.d/kasir.conf"',
            f"cat > \"$R/usr/share/initramfs-tools/modules.d/kasir\" <<'EOF'\n{modules}EOF",
            'mkdir -p "$R/etc/ssh"',
            'for k in rsa ecdsa ed25519; do : > "$R/etc/ssh/ssh_host_${k}_key"; done',
        ]
    )


# update-initramfs is diverted to a no-op while packages install: the kernel's postinst and
# initramfs-tools' trigger would each build the initrd (a minute and a half apiece under
# emulation); it is built once, afterwards, by build_initramfs().
ESSENTIAL_HOOK = """set -e; R="$1"
chroot "$R" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
printf '#!/bin/sh\\nexit 0\\n' > "$R/usr/sbin/update-initramfs"
chmod 755 "$R/usr/sbin/update-initramfs"
"""


def build_initramfs(rootfs: Path) -> None:
    (rootfs / "usr/sbin/update-initramfs").unlink()
    chroot(
        rootfs,
        "dpkg-divert",
        "--quiet",
        "--local",
        "--rename",
        "--remove",
        "/usr/sbin/update-initramfs",
    )
    chroot(rootfs, "update-initramfs", "-c", "-k", "all")


def bootstrap(recipe: dict, rootfs: Path) -> None:
    assemble.rmtree(rootfs)
    hook = rootfs.parent / "setup-hook.sh"
    hook.write_text(setup_hook_script(recipe))
    essential = rootfs.parent / "essential-hook.sh"
    essential.write_text(ESSENTIAL_HOOK)
    command = [
        "mmdebstrap",
        "--mode=root",
        "--variant=minbase",
        "--architectures=arm64",
        f"--components={','.join(recipe['debian']['components'])}",
        '--aptopt=Apt::Install-Recommends "false"',
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        "--dpkgopt=path-exclude=/usr/share/info/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        "--dpkgopt=path-include=/usr/share/locale/locale.alias",
        "--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata",
        f'--setup-hook=sh {hook} "$1"',
        f'--essential-hook=sh {essential} "$1"',
        f"--include={','.join(package_list(recipe))}",
        recipe["debian"]["suite"],
        str(rootfs),
        *apt_sources(recipe),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        text = done.stderr + done.stdout
        for name, version in recipe["pins"].items():
            if f"'{version}' for '{name}' was not found" in text:
                raise BuildError(
                    f"the archive no longer has {name} {version} (pinned in image/recipe.toml): "
                    "run image/build.py --show-latest and update the pins"
                )
        raise BuildError(f"mmdebstrap failed:\n{text.strip()[-4000:]}")


def show_latest(recipe: dict) -> dict[str, str]:
    """The newest version of each pinned package in the archive, read from its Packages
    index (apt-get on the host cannot see arm64 without adding the architecture)."""
    import gzip
    import urllib.request

    found: dict[str, str] = {}
    deb = recipe["debian"]
    suite = deb["suite"]
    for base, dist in (
        (deb["mirror"], suite),
        (deb["mirror"], f"{suite}-updates"),
        (deb["security_mirror"], f"{suite}-security"),
    ):
        for comp in deb["components"]:
            url = f"{base}/dists/{dist}/{comp}/binary-arm64/Packages.gz"
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    text = gzip.decompress(response.read()).decode()
            except OSError:
                continue
            for stanza in text.split("\n\n"):
                fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line)
                name = fields.get("Package")
                if name in recipe["pins"]:
                    version = fields["Version"]
                    if name not in found or _dpkg_newer(version, found[name]):
                        found[name] = version
    return found


def _dpkg_newer(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0


# -- inside the root file system ---------------------------------------------------------------


@contextlib.contextmanager
def mounted(rootfs: Path):
    """proc, sys, dev and a resolv.conf for commands run in the chroot; always undone."""
    targets = []
    try:
        for kind, source, target in (
            ("proc", "proc", rootfs / "proc"),
            ("sysfs", "sysfs", rootfs / "sys"),
        ):
            sh("mount", "-t", kind, source, str(target))
            targets.append(target)
        sh("mount", "--rbind", "/dev", str(rootfs / "dev"))
        sh("mount", "--make-rslave", str(rootfs / "dev"))
        targets.append(rootfs / "dev")
        yield
    finally:
        for target in reversed(targets):
            subprocess.run(["umount", "-R", "-l", str(target)], capture_output=True)


def chroot(rootfs: Path, *command: str, **kwargs) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "DEBIAN_FRONTEND": "noninteractive",
        "HOME": "/root",
    }
    return sh("chroot", str(rootfs), *command, env=env, **kwargs)


def install_overlay(rootfs: Path) -> None:
    shutil.copytree(OVERLAY, rootfs, dirs_exist_ok=True, symlinks=True)
    unit_dir = rootfs / "usr/lib/systemd/system"
    for unit in sorted(UNITS.iterdir()):
        shutil.copy2(unit, unit_dir / unit.name)
    lib = rootfs / LIB
    lib.mkdir(parents=True, exist_ok=True)
    shutil.copy2(PROJECT / "appliance" / "update.py", lib / "update.py")
    shutil.copy2(HERE / "firstboot.py", lib / "firstboot.py")
    shutil.copy2(HERE / "layout.py", lib / "layout.py")
    for path in (rootfs / "etc/kernel/postinst.d/z50-raspi-firmware",):
        path.chmod(0o755)


def configure_system(rootfs: Path, recipe: dict) -> None:
    (rootfs / "etc/hostname").write_text("kasir\n")
    (rootfs / "etc/hosts").write_text(
        "127.0.0.1\tlocalhost\n127.0.1.1\tkasir\n::1\t\tlocalhost ip6-localhost ip6-loopback\n"
    )
    (rootfs / "etc/fstab").write_text(layout.fstab())
    # systemd makes a machine id at each boot until first boot commits one.
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    resolv = rootfs / "etc/resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    resolv.symlink_to("../run/systemd/resolve/stub-resolv.conf")
    (rootfs / "etc/locale.gen").write_text("\n".join(recipe["packages"]["locales"]) + "\n")
    chroot(rootfs, "locale-gen")
    (rootfs / "etc/default/locale").write_text("LANG=C.UTF-8\n")
    localtime = rootfs / "etc/localtime"
    localtime.unlink(missing_ok=True)
    localtime.symlink_to("/usr/share/zoneinfo/Asia/Jakarta")
    (rootfs / "etc/timezone").write_text("Asia/Jakarta\n")
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    # User and groups of the till.
    for group in KASIR_GROUPS:
        chroot(rootfs, "groupadd", "-f", "--system", group)
    chroot(
        rootfs,
        "useradd",
        "--system",
        "--user-group",
        "--home-dir",
        "/var/lib/kasir/home",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "--groups",
        ",".join(KASIR_GROUPS),
        "kasir",
    )
    # Units.
    system = rootfs / "etc/systemd/system"
    for target, units in ENABLED_UNITS.items():
        wants = system / f"{target}.wants"
        wants.mkdir(parents=True, exist_ok=True)
        for unit in units:
            link = wants / unit
            link.unlink(missing_ok=True)
            link.symlink_to(f"/usr/lib/systemd/system/{unit}")
    for unit in MASKED_UNITS:
        link = system / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    for unit in ("ssh.service", "sshd.service"):
        (system / "multi-user.target.wants" / unit).unlink(missing_ok=True)
        (system / unit).unlink(missing_ok=True)
    (system / "sockets.target.wants" / "ssh.socket").unlink(missing_ok=True)


def install_release(rootfs: Path, bundle: Path) -> str:
    """The image's release goes in exactly as an update would: verified, into a venv."""
    data = rootfs / "var/lib/kasir"
    data.mkdir(parents=True, exist_ok=True)
    target = rootfs / "tmp" / bundle.name
    shutil.copy2(bundle, target)
    try:
        chroot(
            rootfs,
            "/usr/bin/python3",
            f"/{LIB}/update.py",
            "--data-dir",
            "/var/lib/kasir",
            "--keys-dir",
            "/usr/share/kasir/keys",
            "--config",
            "/nonexistent",
            "install",
            f"/tmp/{bundle.name}",
        )
    finally:
        target.unlink(missing_ok=True)
    version = os.readlink(data / "releases" / "current")
    done = chroot(rootfs, "/var/lib/kasir/releases/current/bin/kasir", "--version")
    print(f"  {done.stdout.strip()} installed in /var/lib/kasir/releases/{version}")
    return version


def data_permissions(rootfs: Path) -> None:
    """/var/lib/kasir: the till's user writes its store here, but the sticky bit keeps it
    from replacing releases/ (root's), whose code it runs."""
    data = rootfs / "var/lib/kasir"
    uid, gid = _ids(rootfs, "kasir")
    os.chown(data, 0, gid)
    data.chmod(0o1775)
    for sub, owner, mode in (
        ("run", (uid, gid), 0o755),
        ("home", (uid, gid), 0o750),
        ("updates", (0, gid), 0o775),
        ("updates/incoming", (uid, gid), 0o770),
        ("system", (0, 0), 0o755),
    ):
        path = data / sub
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, *owner)
        path.chmod(mode)


def _ids(rootfs: Path, user: str) -> tuple[int, int]:
    for line in (rootfs / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise BuildError(f"user {user} missing from the image")


def boot_files(rootfs: Path, recipe: dict) -> tuple[str, str]:
    """Kernel, initrd and device trees on the boot partition, with our config.txt and
    cmdline.txt (the same code writes them after a kernel update on the till)."""
    done = chroot(rootfs, "/usr/bin/python3", f"/{LIB}/layout.py", "boot-files", "/boot/firmware")
    kernel, initrd = done.stdout.split()[:2]
    return kernel, initrd


def clean(rootfs: Path) -> None:
    chroot(rootfs, "apt-get", "clean")
    for pattern in (
        "var/lib/apt/lists/*",
        "var/cache/apt/*.bin",
        "var/cache/debconf/*-old",
        "var/log/*.log",
        "var/log/apt/*",
        "tmp/*",
        "var/tmp/*",
        "root/.cache",
        "run/systemd/resolve/*",
    ):
        for path in rootfs.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for stale in (rootfs / "boot").glob("*.dpkg-bak"):
        stale.unlink()


# -- manifest -------------------------------------------------------------------------------------


def dpkg_packages(rootfs: Path) -> dict[str, str]:
    found = {}
    name = None
    status = None
    for line in (rootfs / "var/lib/dpkg/status").read_text().splitlines():
        if line.startswith("Package: "):
            name, status = line.split(": ", 1)[1], None
        elif line.startswith("Status: "):
            status = line.split(": ", 1)[1]
        elif line.startswith("Version: ") and name and status and status.endswith(" installed"):
            found[name] = line.split(": ", 1)[1]
    return dict(sorted(found.items()))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- the build --------------------------------------------------------------------------------------


def split_partitions(rootfs: Path, work: Path) -> tuple[Path, Path]:
    """Move /boot/firmware and /var/lib/kasir out of the root tree into their own trees (a
    rename on the same file system), leaving the empty mount points behind."""
    boot, data = work / "boot", work / "data"
    for tree, mount_point in ((boot, rootfs / "boot/firmware"), (data, rootfs / "var/lib/kasir")):
        assemble.rmtree(tree)
        mount_point.rename(tree)
        mount_point.mkdir()
        st = tree.stat()
        os.chown(mount_point, st.st_uid, st.st_gid)
        mount_point.chmod(st.st_mode & 0o7777)
    return boot, data


def build(args: argparse.Namespace) -> Path:
    recipe = load_recipe(args.recipe)
    version = make_bundle.project_version(PROJECT)
    out: Path = args.out.resolve()
    work: Path = (args.work or out / "work").resolve()
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    name = f"kasir-{version}-arm64"
    rootfs = work / "rootfs"
    steps = Steps(8)
    print(f"Building {name}.img.xz in {out} (work directory {work})", flush=True)

    with steps.step("checking the build machine"):
        check_host()

    with steps.step("collecting the till's wheels and signing the release bundle"):
        key_path = args.key
        if key_path is None:
            key_path = out / "kasir-dev-release.key"
            if not key_path.exists():
                make_bundle.generate_key(key_path.with_suffix(""))
            print(
                f"  no --key given: signing with a development key {key_path}; this image "
                "will only accept updates signed by it"
            )
        private_key = make_bundle.load_private_key(key_path)
        wheels = work / "wheels"
        assemble.rmtree(wheels)
        if args.wheels:
            shutil.copytree(args.wheels, wheels)
        else:
            project_wheel = make_bundle.build_project_wheel(wheels)
            make_bundle.download_wheels(project_wheel, wheels)
        bundle = make_bundle.write_bundle(
            wheels, version, private_key, out / f"kasir-{version}.bundle"
        )
        print(f"  {len(list(wheels.glob('*.whl')))} wheels in {bundle.name}")

    with steps.step("debootstrap: Debian bookworm arm64 with kernel and firmware (mmdebstrap)"):
        bootstrap(recipe, rootfs)

    with steps.step("configuring the system and installing the till"), mounted(rootfs):
        install_overlay(rootfs)
        keys = rootfs / "usr/share/kasir/keys"
        keys.mkdir(parents=True, exist_ok=True)
        (keys / "release.pub").write_text(make_bundle.public_key_text(private_key) + "\n")
        for extra in args.trust or []:
            shutil.copy2(extra, keys / Path(extra).name)
        configure_system(rootfs, recipe)
        release = install_release(rootfs, bundle)
        data_permissions(rootfs)

    with steps.step("kernel, initramfs and boot files"), mounted(rootfs):
        example = args.kasir_toml or EXAMPLE_CONFIG
        shutil.copyfile(example, rootfs / "boot/firmware/kasir.toml")
        build_initramfs(rootfs)
        kernel, initrd = boot_files(rootfs, recipe)
        print(f"  {kernel}, {initrd}")
        clean(rootfs)

    with steps.step("manifest"):
        manifest = {
            "image": f"{name}.img.xz",
            "kasir": release,
            "debian": recipe["debian"],
            "pins": recipe["pins"],
            "kernel": kernel,
            "initrd": initrd,
            "packages": dpkg_packages(rootfs),
            "wheels": {w.name: sha256(w) for w in sorted(wheels.glob("*.whl"))},
            "release_key": make_bundle.public_key_text(private_key),
        }

    with steps.step("assembling the image (no loop devices)"):
        boot, data = split_partitions(rootfs, work)
        image = out / f"{name}.img"
        disk = assemble.build_disk(image, boot, rootfs, data, workdir=work)
        manifest["partitions"] = [
            {"number": p.number, "label": p.label, "fs": p.fs, "start": p.start, "size": p.size}
            for p in disk.partitions
        ]

    with steps.step(f"compressing with xz -{args.xz_level}"):
        if args.keep_raw:
            shutil.copy2(image, out / f"{name}.raw.img")
        final = assemble.xz(image, level=args.xz_level)
        digest = sha256(final)
        (out / f"{final.name}.sha256").write_text(f"{digest}  {final.name}\n")
        manifest["sha256"] = digest
        manifest["build_seconds"] = steps.times
        (out / f"{name}.manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if not args.keep_work:
        assemble.rmtree(work)
    print(f"Done: {final} ({final.stat().st_size // (1024 * 1024)} MiB)")
    return final


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="image/build.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("dist"), help="where the image goes")
    p.add_argument("--work", type=Path, help="scratch directory (default OUT/work)")
    p.add_argument("--key", type=Path, help="release signing key (default: a development key)")
    p.add_argument("--trust", action="append", help="another release public key (.pub) to bake in")
    p.add_argument("--kasir-toml", type=Path, help="kasir.toml for the boot partition")
    p.add_argument("--wheels", type=Path, help="use these aarch64 wheels instead of fetching")
    p.add_argument("--recipe", type=Path, default=RECIPE)
    p.add_argument("--xz-level", type=int, default=6, choices=range(10))
    p.add_argument("--keep-raw", action="store_true", help="also keep the uncompressed image")
    p.add_argument("--keep-work", action="store_true", help="keep the root tree (debugging)")
    p.add_argument("--show-latest", action="store_true", help="print the pins' newest versions")
    args = p.parse_args(argv)
    try:
        if args.show_latest:
            recipe = load_recipe(args.recipe)
            for name, version in show_latest(recipe).items():
                mark = "" if version == recipe["pins"].get(name) else "   (recipe pins another)"
                print(f'{name} = "{version}"{mark}')
            return 0
        build(args)
        return 0
    except (BuildError, assemble.AssemblyError, make_bundle.BundleError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
