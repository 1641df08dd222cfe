"""Node images without a registry: a Debian bookworm base made online or offline, plus the node programs.

Tags carry a digest of their inputs, so an unchanged tree rebuilds nothing and a changed one rebuilds.
The base comes from `debian:bookworm-slim` when that image is on the host (or SOCKLAB_BASE=online), and
otherwise from debootstrap against the Debian mirror named in the host's apt sources (SOCKLAB_BASE=offline).
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker.errors

from orchestrator import labels
from orchestrator.errors import ImageBuildFailed, LabError
from orchestrator.i18n import _

NODES = Path(__file__).resolve().parent.parent / "nodes"
RECIPES = NODES / "image"
ONLINE_BASE = "debian:bookworm-slim"


def digest(paths, root):
    """A short sha256 over the files under `paths` (names relative to root, and contents)."""
    h = hashlib.sha256()
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*"))
                   if f.is_file() and "__pycache__" not in f.parts)
    for f in files:
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def base_tag():
    recipes = [RECIPES / "packages.txt", RECIPES / "base.Dockerfile", RECIPES / "mkbase-offline.sh"]
    return f"socklab-base:{digest(recipes, NODES)}"


def node_tag():
    return f"socklab-node:{digest([NODES], NODES)}"


def debian_mirror(apt_dir=Path("/etc/apt")):
    """The first Debian archive URI in the host's apt sources (one-line .list or deb822 .sources)."""
    if mirror := os.environ.get("SOCKLAB_MIRROR"):
        return mirror
    entries = []  # (uri, suites)
    for path in sorted([apt_dir / "sources.list", *(apt_dir / "sources.list.d").glob("*.list")]):
        for line in path.read_text().splitlines() if path.is_file() else []:
            words = re.sub(r"\[[^\]]*\]", " ", line.split("#")[0]).split()  # drop [option=value ...]
            if len(words) >= 3 and words[0] == "deb":
                entries.append((words[1], words[2:3]))
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(line.split(":", 1) for line in stanza.splitlines()
                          if ":" in line and not line.startswith(("#", " ")))
            fields = {k.strip().lower(): v.split() for k, v in fields.items()}
            if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"]) != ["no"]:
                entries += [(uri, fields.get("suites", [])) for uri in fields.get("uris", [])]
    for uri, suites in entries:
        if "debian" in uri and "security" not in uri and any("-" not in s for s in suites):
            return uri
    raise LabError(_("no Debian mirror in the host's apt sources: set SOCKLAB_MIRROR, or SOCKLAB_BASE=online"))


class Images:
    """Builds the lab's node image if its tag is missing; `progress(text)` hears about long steps."""

    def __init__(self, engine, progress=lambda text: None):
        self.engine = engine
        self.progress = progress

    def exists(self, tag):
        try:
            self.engine.images.get(tag)
            return True
        except docker.errors.ImageNotFound:
            return False

    def ensure(self):
        """The node image's tag, built (with its base) only if missing."""
        tag = node_tag()
        if not self.exists(tag):
            base = self.ensure_base()
            self._build(NODES, "image/Dockerfile", tag, {"BASE": base})
        return tag

    def ensure_machine(self, recipe):
        """The image of a simulated machine (`make swarm-local`): a Docker engine on the base, from recipe/."""
        base = self.ensure_base()
        tag = f"socklab-machine:{digest([recipe], recipe)}-{base.split(':')[1]}"
        if not self.exists(tag):
            self._build(recipe, "Dockerfile", tag, {"BASE": base})
        return tag

    def ensure_base(self):
        tag = base_tag()
        if self.exists(tag):
            return tag
        mode = os.environ.get("SOCKLAB_BASE", "auto")
        if mode not in ("auto", "online", "offline"):
            raise LabError(_("SOCKLAB_BASE={mode!r}: expected auto, online or offline").format(mode=mode))
        if mode == "online" or (mode == "auto" and self.exists(ONLINE_BASE)):
            self._build(RECIPES, "base.Dockerfile", tag, {})
        else:
            self._debootstrap(tag)
        return tag

    def standin(self):
        """A bare debootstrap of bookworm (minbase, nothing added), imported as a stand-in for
        debian:bookworm-slim where no registry is reachable: CI builds the online recipe on it."""
        tag = f"socklab-standin:{digest([RECIPES / 'mkbase-offline.sh'], NODES)}"
        if not self.exists(tag):
            self._debootstrap(tag, packages=os.devnull)
        return tag

    def online_base(self, debian=ONLINE_BASE):
        """The online recipe (base.Dockerfile) built FROM debian: the registry's image or a stand-in."""
        tag = f"socklab-base-online:{base_tag().split(':')[1]}"
        self._build(RECIPES, "base.Dockerfile", tag, {"DEBIAN": debian})
        return tag

    def packages(self, tag):
        """{package: version} installed in an image, as dpkg-query -W lists them."""
        out = self.engine.containers.run(tag, ["dpkg-query", "-W", "-f", "${Package} ${Version}\n"], remove=True)
        return dict(line.split(" ", 1) for line in out.decode().splitlines() if line.strip())

    def _build(self, context, dockerfile, tag, buildargs):
        self.progress(_("building {tag}").format(tag=tag))
        stream = self.engine.api.build(path=str(context), dockerfile=dockerfile, tag=tag, buildargs=buildargs,
                                       labels={labels.IMAGE: tag.split(":")[0]}, rm=True, forcerm=True, decode=True)
        for event in stream:
            if "error" in event:
                raise ImageBuildFailed(_("building {tag} failed: {error}").format(tag=tag,
                                                                                   error=event["error"].strip()))
            if line := event.get("stream", "").strip():
                self.progress(f"{tag}: {line}")

    def _debootstrap(self, tag, packages=None):
        mirror = debian_mirror()
        if os.geteuid() != 0:
            raise LabError(_("the offline base image needs root for debootstrap: run as root, or SOCKLAB_BASE=online"))
        self._install_debootstrap()
        with tempfile.TemporaryDirectory(prefix="socklab-base-") as tmp:
            tarball = Path(tmp) / "rootfs.tar"
            self.progress(_("debootstrap bookworm from {mirror} (about a minute)").format(mirror=mirror))
            script = subprocess.Popen([str(RECIPES / "mkbase-offline.sh"), mirror, str(tarball),
                                       *([packages] if packages else [])], text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            last = ""
            for line in script.stdout:
                last = line.strip() or last
                self.progress(f"debootstrap: {last}")
            if script.wait():
                raise ImageBuildFailed(_("debootstrap from {mirror} failed: {output}").format(mirror=mirror,
                                                                                               output=last))
            self.progress(_("importing {tag}").format(tag=tag))
            repository, version = tag.split(":")
            self.engine.api.import_image_from_file(str(tarball), repository=repository, tag=version,
                                                   changes=["ENV LANG=C.UTF-8", f"LABEL {labels.IMAGE}={repository}"])

    def _install_debootstrap(self):
        if shutil.which("debootstrap"):
            return
        if not shutil.which("apt-get"):
            raise LabError(_("the offline base image needs debootstrap, and this host has no apt-get to install it"))
        self.progress(_("installing debootstrap from Debian's packages"))
        install = ["apt-get", "install", "-y", "-q", "debootstrap"]
        if subprocess.run(install, capture_output=True).returncode:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
            done = subprocess.run(install, capture_output=True, text=True)
            if done.returncode:
                raise ImageBuildFailed(_("could not install debootstrap: {output}").format(
                    output=done.stderr.strip().splitlines()[-1:]))
