"""A real single-node Slurm cluster for the tests: munged, slurmctld and slurmd started by hand (no systemd).

Uses Debian's ``slurm-wlm`` and ``munge``. Everything the daemons write lives in one temporary folder, the
configuration is passed through ``SLURM_CONF``, so nothing under /etc/slurm is touched. If a cluster already
answers ``sinfo`` (``SLURM_CONF`` set by the caller), it is used as is and left running.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

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


class SlurmCluster:
    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[str] = []
        self.conf = folder / "slurm.conf"

    def start(self) -> dict:
        if os.environ.get("SLURM_CONF") and _answers(dict(os.environ)):
            return {}
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
                ctld_port=16817,
                d_port=16818,
            )
        )
        env = {"SLURM_CONF": str(self.conf)}
        if not _munge_running():
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            if not Path("/etc/munge/munge.key").exists():
                subprocess.run(["mungekey", "--create"], check=True)
            subprocess.run(["munged", "--force"], check=True, capture_output=True)
            self.started.append("munged")
        subprocess.run(["slurmctld", "-f", str(self.conf)], check=True)
        subprocess.run(["slurmd", "-f", str(self.conf)], check=True)
        self.started += ["slurmctld", "slurmd"]
        full_env = {**os.environ, **env}
        deadline = time.time() + 60
        while not _answers(full_env):
            if time.time() > deadline:
                log = (d / "slurmctld.log").read_text()[-2000:] if (d / "slurmctld.log").exists() else ""
                raise RuntimeError(f"the Slurm cluster did not come up; slurmctld.log ends with:\n{log}")
            time.sleep(0.5)
        return env

    def stop(self) -> None:
        env = {**os.environ, "SLURM_CONF": str(self.conf)}
        if "slurmctld" in self.started:
            subprocess.run(["scancel", "--user", os.environ.get("USER", "root")], env=env, capture_output=True)
            subprocess.run(["scontrol", "shutdown"], env=env, capture_output=True)
            for pidfile in ("slurmd.pid", "slurmctld.pid"):
                p = self.folder / pidfile
                if p.exists():
                    subprocess.run(["kill", p.read_text().strip()], capture_output=True)


def wait_for(path: Path, timeout: float, env: dict) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if time.time() > deadline:
            queue = subprocess.run(["squeue"], env=env, capture_output=True, text=True).stdout
            raise TimeoutError(f"{path} did not appear within {timeout}s; squeue:\n{queue}")
        time.sleep(0.5)
