"""The recipe's ``executor`` section turned into datatrove executors, one per phase, chained by ``depends``.

* ``local``: ``LocalPipelineExecutor`` (a process pool of ``workers``).
* ``slurm``: ``SlurmPipelineExecutor``; each phase is a Slurm job array, later phases depend on earlier ones, and
  a last one-task job writes the manifest and stats. Logs (datatrove's and Slurm's) go under ``OUTPUT/logs``.
  ``partition`` and ``qos`` are passed to ``sbatch`` only when the recipe gives them (``pipeline/slurm.py``).
* ``ray``: ``RayPipelineExecutor`` on the cluster at ``address`` (or ``$RAY_ADDRESS``); with neither, a local Ray
  instance is started.
"""

from __future__ import annotations

import os
from typing import Any

from datatrove.pipeline.base import PipelineStep

from pipeline.liveness import TaskHeartbeat
from pipeline.plan import LOGS_DIR, RunPlan, default_workers
from pipeline.recipe import ExecutorConfig


def build_executors(
    plan: RunPlan, cfg: ExecutorConfig, workers: int | None = None, finalize_step: PipelineStep | None = None
) -> list[Any]:
    """One executor per phase, each depending on the one before; the last one is what ``run()`` is called on."""
    executors: list[Any] = []
    previous = None
    phases = [(p.name, p.steps, p.tasks) for p in plan.phases]
    if finalize_step is not None:
        phases.append(("99_finalize", [finalize_step], 1))
    for name, phase_steps, tasks in phases:
        logging_dir = f"{plan.output_dir}/{LOGS_DIR}/{name}"
        steps = [TaskHeartbeat(logging_dir), *phase_steps]  # `curate status` tells a killed task from a running one
        if cfg.kind == "local":
            from datatrove.executor import LocalPipelineExecutor

            executor = LocalPipelineExecutor(
                pipeline=steps,
                tasks=tasks,
                workers=min(tasks, workers or cfg.workers or default_workers(tasks)),
                logging_dir=logging_dir,
                depends=previous,
            )
        elif cfg.kind == "slurm":
            from pipeline.slurm import SlurmExecutor

            sbatch_args = {k: str(v) for k, v in cfg.sbatch_args.items()}
            executor = SlurmExecutor(
                pipeline=steps,
                tasks=tasks,
                workers=workers or cfg.workers or -1,
                time=cfg.time,
                partition=cfg.partition,
                cpus_per_task=cfg.cpus_per_task,
                mem_per_cpu_gb=cfg.mem_per_cpu_gb,
                qos=cfg.qos,
                job_name=f"{cfg.job_name or plan.recipe.name}_{name}",
                env_command=cfg.env_command,
                sbatch_args=sbatch_args or None,
                logging_dir=logging_dir,
                slurm_logs_folder=f"{plan.output_dir}/{LOGS_DIR}/slurm/{name}",
                depends=previous,
                mail_type="NONE",
            )
        elif cfg.kind == "ray":
            from datatrove.executor import RayPipelineExecutor

            executor = RayPipelineExecutor(
                pipeline=steps,
                tasks=tasks,
                workers=workers or cfg.workers or -1,
                logging_dir=logging_dir,
                depends=previous,
                cpus_per_task=cfg.cpus_per_task,
                mem_per_cpu_gb=cfg.mem_per_cpu_gb,
            )
        else:  # pragma: no cover - the recipe model only allows the three kinds
            raise ValueError(f"unknown executor kind {cfg.kind!r}")
        executors.append(executor)
        previous = executor
    return executors


def init_ray(cfg: ExecutorConfig) -> None:
    """Connect to ``address`` / ``$RAY_ADDRESS``, or start a local Ray instance."""
    import ray

    if ray.is_initialized():
        return
    address = cfg.address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address)
    else:
        ray.init(include_dashboard=False)
