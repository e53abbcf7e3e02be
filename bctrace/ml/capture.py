"""Automatic capture of a run's code and environment, cheaply (target: well under 200 ms).

Everything here reads files, environment variables and four ``git`` calls; nothing imports a
heavy library. torch, CUDA and cuDNN facts are read only when torch is already imported, and
thread pools only from the libraries already loaded (threadpoolctl inspects, it does not load).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
from pathlib import Path
from typing import Any

from .._internal.gitstate import run_git_state, strip_credentials
from .._internal.hexutil import to_0x

__all__ = ["ENV_VARS", "LOCKFILES", "capture_code", "capture_environment", "capture_runtime"]

ENV_VARS = (
    "PYTHONHASHSEED",
    "CUBLAS_WORKSPACE_CONFIG",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "CUDA_LAUNCH_BLOCKING",
)
"""Environment variables that change numerical results or their determinism."""

LOCKFILES = (
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "requirements.txt",
    "requirements.lock",
    "requirements-dev.txt",
    "conda-lock.yml",
    "environment.yml",
    "pixi.lock",
    "pyproject.toml",
    "package-lock.json",
)
"""Files that pin dependencies; hashed when present in the project folder."""

CONFIG_SUFFIXES = frozenset(".yaml .yml .json .toml .cfg .ini .conf".split())


# -- code -------------------------------------------------------------------------------------


def capture_code(root: str | os.PathLike[str], *, argv: list[str] | None = None) -> dict[str, Any]:
    """Git state of ``root`` (commit, branch, remote without credentials, sha256 of the
    uncommitted diff and of untracked source files), the entry point with its sha256, the
    arguments, and the sha256 of config files named in the arguments."""
    root_path = Path(root)
    args = list(argv) if argv is not None else [sys.argv[0], *sys.argv[1:]]
    return {
        "git": run_git_state(root_path),
        "entry_point": _entry_point(args, root_path),
        "argv": args,
        "config_files": _config_files(args, root_path),
        "cwd": os.getcwd(),
    }


def _entry_point(args: list[str], root: Path) -> dict[str, Any]:
    script, module = _script_of(args)
    out: dict[str, Any] = {"script": None, "module": module, "sha256": None}
    if script is not None:
        p = Path(script)
        out["script"] = _rel(p, root)
        if p.is_file():
            out["sha256"] = _sha256_file(p)
    return out


def _script_of(args: list[str]) -> tuple[str | None, str | None]:
    """The script (or ``-m`` module) a command runs: ``python [opts] train.py ...`` or
    ``train.py ...`` when the script itself is the command."""
    if not args:
        return None, None
    first = Path(args[0]).name
    if re.fullmatch(r"python[0-9.]*", first):
        rest = args[1:]
        i = 0
        while i < len(rest):
            a = rest[i]
            if a == "-m" and i + 1 < len(rest):
                return None, rest[i + 1]
            if a in ("-c", "-"):
                return None, None
            if a in ("-X", "-W"):
                i += 2
                continue
            if not a.startswith("-"):
                return a, None
            i += 1
        return None, None
    return args[0], None


def _config_files(args: list[str], root: Path) -> list[dict[str, Any]]:
    found = []
    for a in args[1:]:
        candidate = a.split("=", 1)[1] if a.startswith("-") and "=" in a else a
        p = Path(candidate)
        if p.suffix.lower() in CONFIG_SUFFIXES and p.is_file():
            found.append({"path": _rel(p, root), "sha256": _sha256_file(p)})
    return found


# -- environment ------------------------------------------------------------------------------


def capture_environment(root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Interpreter, OS, libc, every installed distribution, lockfiles, container, the
    environment variables in :data:`ENV_VARS`, hardware, and (from :func:`capture_runtime`)
    thread pools and torch/CUDA facts of what is loaded now."""
    packages, direct = _distributions()
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "prefix": sys.prefix,
        },
        "os": {"system": platform.system(), "release": platform.release(), "version": platform.version(), "machine": platform.machine()},
        "libc": _libc(),
        "packages": packages,
        "packages_direct": direct,
        "packages_sha256": to_0x(hashlib.sha256("\n".join(f"{k}=={v}" for k, v in packages.items()).encode()).digest()),
        "lockfiles": _lockfiles(Path(root) if root is not None else Path.cwd()),
        "container": _container(),
        "env_vars": {name: os.environ.get(name) for name in ENV_VARS},
        "hardware": _hardware(),
        **capture_runtime(),
    }


def capture_runtime() -> dict[str, Any]:
    """What depends on the libraries loaded at this moment: BLAS/OpenMP pools and torch."""
    return {"threadpools": _threadpools(), "torch": _torch_info()}


def _distributions() -> tuple[dict[str, str], dict[str, str]]:
    """Every installed distribution and its version, the first on ``sys.path`` winning (as for
    ``importlib.metadata``). Names and versions come from the ``*.dist-info`` folder names, which
    the wheel spec fixes as ``{name}-{version}``; parsing every METADATA file instead costs ten
    times as much. Folders whose name lacks a version are read through ``importlib.metadata``.

    Also returns where distributions not installed from an index came from (PEP 610
    ``direct_url.json``: an editable folder, a local file, a VCS commit)."""
    from importlib import metadata

    found: dict[str, str] = {}
    direct: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for folder in names:
            if not folder.endswith((".dist-info", ".egg-info")):
                continue
            name, _, rest = folder.rsplit(".", 1)[0].partition("-")
            version = rest.split("-")[0]
            if not version:
                meta = metadata.PathDistribution(Path(entry or ".") / folder)
                name, version = meta.metadata["Name"] or "", meta.version or ""
            key = re.sub(r"[-_.]+", "-", name).lower()
            if name and key not in found:
                found[key] = version
                origin = _direct_url(Path(entry or ".") / folder / "direct_url.json")
                if origin:
                    direct[key] = origin
    return dict(sorted(found.items())), direct


def _direct_url(path: Path) -> str | None:
    """Where a distribution came from when not from an index (PEP 610), without credentials."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = strip_credentials(str(data.get("url", "")))
    if (data.get("dir_info") or {}).get("editable"):
        return f"an editable folder ({url})"
    vcs = data.get("vcs_info")
    if vcs:
        return f"{vcs.get('vcs')}+{url}@{vcs.get('commit_id')}"
    return url or None


def _libc() -> dict[str, str | None]:
    try:
        name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")
        if name:
            return {"name": name, "version": version}
    except (AttributeError, ValueError, OSError):
        pass
    lib, ver = platform.libc_ver()  # scans the interpreter binary: only when confstr cannot say
    return {"name": lib or None, "version": ver or None}


def _lockfiles(root: Path) -> list[dict[str, Any]]:
    return [{"path": name, "sha256": _sha256_file(root / name)} for name in LOCKFILES if (root / name).is_file()]


def _container() -> dict[str, Any]:
    """Whether we run in a container and, where the runtime exposes it, the image digest.

    Docker does not show the image inside the container; set ``BCTRACE_IMAGE_DIGEST`` (or
    ``CONTAINER_IMAGE``) from the outside to have it recorded. Podman writes it to
    ``/run/.containerenv``.
    """
    info: dict[str, Any] = {"detected": False, "runtime": None, "image": None, "image_digest": None}
    if Path("/.dockerenv").exists():
        info.update(detected=True, runtime="docker")
    containerenv = Path("/run/.containerenv")
    if containerenv.is_file():
        info.update(detected=True, runtime="podman")
        try:
            for line in containerenv.read_text().splitlines():
                key, _, value = line.partition("=")
                if key == "image":
                    info["image"] = value.strip('"') or None
                elif key == "imageid":
                    info["image_digest"] = value.strip('"') or None
        except OSError:
            pass
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        info.update(detected=True, runtime=info["runtime"] or "kubernetes")
    info["image"] = os.environ.get("CONTAINER_IMAGE") or info["image"]
    info["image_digest"] = os.environ.get("BCTRACE_IMAGE_DIGEST") or info["image_digest"]
    return info


def _hardware() -> dict[str, Any]:
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    return {"cpu_model": _cpu_model(), "cpu_count": os.cpu_count(), "cpu_affinity": affinity, "ram_bytes": _ram_bytes(), "gpus": _gpus_from_proc()}


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "processor\t: ")) and ":" in line:
                value = line.split(":", 1)[1].strip()
                if value and not value.isdigit():
                    return value
    except OSError:
        pass
    return platform.processor() or None


def _ram_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _gpus_from_proc() -> list[dict[str, Any]]:
    """NVIDIA GPUs and driver from /proc (no CUDA initialisation, no nvidia-smi process)."""
    gpus: list[dict[str, Any]] = []
    driver = None
    try:
        text = Path("/proc/driver/nvidia/version").read_text()
        m = re.search(r"Kernel Module\s+([0-9.]+)", text)
        driver = m.group(1) if m else None
    except OSError:
        return gpus
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        try:
            fields = dict(line.split(":", 1) for line in info.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        gpus.append({"name": fields.get("Model", "").strip() or None, "bus": info.parent.name, "driver": driver})
    return gpus


def _threadpools() -> list[dict[str, Any]] | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    keep = ("user_api", "internal_api", "version", "num_threads", "threading_layer", "architecture")
    return [{k: pool.get(k) for k in keep} for pool in threadpool_info()]


def _torch_info() -> dict[str, Any] | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    cuda_available = bool(torch.cuda.is_available())
    cudnn_version = None
    try:
        cudnn_version = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    except RuntimeError:
        pass
    return {
        "version": torch.__version__,
        "cuda_build": torch.version.cuda,
        "cudnn": cudnn_version,
        "cuda_available": cuda_available,
        "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda_available else [],
        "num_threads": torch.get_num_threads(),
    }


# -- helpers ----------------------------------------------------------------------------------


def _sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return to_0x(h.digest())


def _rel(p: Path, root: Path) -> str:
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return str(p)
