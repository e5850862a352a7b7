"""A real single-node Slurm cluster for the tests: munged, slurmctld and slurmd started by hand (no systemd).

Uses Debian's ``slurm-wlm`` and ``munge``. Everything the daemons write lives in one temporary folder, the
configuration is passed through ``SLURM_CONF``, so nothing under /etc/slurm is touched. If a cluster already
answers ``sinfo`` (``SLURM_CONF`` set by the caller), it is used as is and left running. Otherwise ``stop`` ends
every process the cluster started, job steps included, and says which (if any) survived.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from pipeline.liveness import process_start

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo")

CONF = """\
ClusterName=curate
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def missing_binaries() -> list[str]:
    return [b for b in DAEMONS if shutil.which(b) is None]


def _answers(env: dict) -> bool:
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and any(s.strip() in ("idle", "mixed", "allocated") for s in out.stdout.split())


def _munge_running() -> bool:
    return subprocess.run(["sh", "-c", "munge -n | unmunge"], capture_output=True).returncode == 0


MARKER = "CURATE_TEST_SLURM_CLUSTER"  # in the daemons' environment, inherited by every slurmstepd they start


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or not ours to read
        return {}
    return dict(item.split("=", 1) for item in raw.decode("utf-8", "replace").split("\0") if "=" in item)


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (dead, only not yet reaped)."""
    return process_start(pid) is not None


def _stop_pids(pids: list[int], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL what is still alive after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + grace
        while any(_alive(p) for p in pids) and time.time() < deadline:
            time.sleep(0.2)
        pids = [p for p in pids if _alive(p)]
        if not pids:
            return


class SlurmCluster:
    """Starts munged (unless one runs), slurmctld and slurmd; ``stop`` ends every process it started.

    The processes are found by id, never by name: the daemons' pid files, and for the job steps (``slurmstepd``
    and what it runs), the marker variable ``CURATE_TEST_SLURM_CLUSTER=<folder>`` that the daemons are started
    with and that their children inherit, or the cluster's ``SLURM_CONF`` together with a ``SLURM_JOB_ID``.
    """

    def __init__(self, folder: Path, ports: tuple[int, int] = (16817, 16818)):
        self.folder = folder
        self.started: list[str] = []
        self.conf = folder / "slurm.conf"
        self.ports = ports
        self.env = {**os.environ, "SLURM_CONF": str(self.conf), MARKER: str(folder)}

    def start(self) -> dict:
        if os.environ.get("SLURM_CONF") and _answers(dict(os.environ)):
            return {}
        try:
            return self._start()
        except BaseException:
            self.stop()  # a cluster that did not come up leaves nothing behind either
            raise

    def _start(self) -> dict:
        d = self.folder
        for sub in ("state", "spool"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        self.conf.write_text(
            CONF.format(
                host=socket.gethostname().split(".")[0],
                d=d,
                cpus=os.cpu_count() or 1,
                mem=int(mem_mb * 0.8),
                ctld_port=self.ports[0],
                d_port=self.ports[1],
            )
        )
        if not _munge_running():
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            if not Path("/etc/munge/munge.key").exists():
                subprocess.run(["mungekey", "--create"], check=True)
            self.started.append("munged")
            subprocess.run(
                ["munged", "--force", f"--pid-file={d}/munged.pid", f"--log-file={d}/munged.log"],
                check=True,
                capture_output=True,
                env=self.env,
            )
        self.started.append("slurmctld")
        subprocess.run(["slurmctld", "-f", str(self.conf)], check=True, env=self.env)
        self.started.append("slurmd")
        subprocess.run(["slurmd", "-f", str(self.conf)], check=True, env=self.env)
        deadline = time.time() + 60
        while not _answers(self.env):
            if time.time() > deadline:
                log = (d / "slurmctld.log").read_text()[-2000:] if (d / "slurmctld.log").exists() else ""
                raise RuntimeError(f"the Slurm cluster did not come up; slurmctld.log ends with:\n{log}")
            time.sleep(0.5)
        return {"SLURM_CONF": str(self.conf)}

    def _pidfile(self, name: str) -> int | None:
        try:
            return int((self.folder / f"{name}.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def processes(self) -> list[int]:
        """Every live process of this cluster: its daemons, job steps and the jobs' own processes."""
        pids = {p for p in (self._pidfile(n) for n in self.started) if p is not None}
        me = os.getpid()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            env = _environ(int(entry.name))
            if env.get(MARKER) == str(self.folder) or (
                env.get("SLURM_CONF") == str(self.conf) and "SLURM_JOB_ID" in env
            ):
                pids.add(int(entry.name))
        return sorted(p for p in pids if _alive(p))

    def stop(self) -> list[int]:
        """Cancel the jobs, shut the daemons down, end whatever is left; return the ids still alive (none)."""
        if not self.started:
            return []  # an existing cluster, used as is: not ours to stop
        if "slurmctld" in self.started and self._pidfile("slurmctld"):
            subprocess.run(
                ["scancel", "--full", "--user", os.environ.get("USER", "root")], env=self.env, capture_output=True
            )
            deadline = time.time() + 30
            while time.time() < deadline:
                queue = subprocess.run(["squeue", "-h"], env=self.env, capture_output=True, text=True)
                if queue.returncode != 0 or not queue.stdout.strip():
                    break
                time.sleep(0.5)
            subprocess.run(["scontrol", "shutdown"], env=self.env, capture_output=True)
        daemons = [p for p in (self._pidfile(n) for n in ("slurmd", "slurmctld")) if p is not None]
        deadline = time.time() + 15
        while any(_alive(p) for p in daemons) and time.time() < deadline:
            time.sleep(0.2)
        _stop_pids([p for p in self.processes() if p != self._pidfile("munged")])  # steps, jobs, daemons
        if "munged" in self.started and self._pidfile("munged"):
            _stop_pids([self._pidfile("munged")])
        return self.processes()


def wait_for(path: Path, timeout: float, env: dict) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if time.time() > deadline:
            queue = subprocess.run(["squeue"], env=env, capture_output=True, text=True).stdout
            raise TimeoutError(f"{path} did not appear within {timeout}s; squeue:\n{queue}")
        time.sleep(0.5)
