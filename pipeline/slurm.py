"""datatrove's ``SlurmPipelineExecutor`` with the cluster's defaults left to the cluster.

datatrove always writes ``#SBATCH --partition=<partition>`` (its ``partition`` argument is required) and, unless
``qos`` is empty, ``#SBATCH --qos=<qos>`` (``normal`` by default, which clusters without that QOS reject). Here
both are written only when the recipe gives them: without ``partition`` Slurm uses the cluster's default
partition, without ``qos`` the account's default QOS. Everything else is datatrove's.
"""

from __future__ import annotations

from typing import Any

from datatrove.executor import SlurmPipelineExecutor


class SlurmExecutor(SlurmPipelineExecutor):
    def __init__(self, *args: Any, partition: str | None = None, qos: str | None = None, **kwargs: Any):
        super().__init__(*args, partition=partition or "", qos=qos or "", **kwargs)

    def get_sbatch_args(self, max_array: int = 1) -> dict:
        args = super().get_sbatch_args(max_array)
        for key in ("partition", "qos"):
            if not args.get(key):
                args.pop(key, None)  # datatrove would write a bare `#SBATCH --partition`
        return args
