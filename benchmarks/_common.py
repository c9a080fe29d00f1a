"""Shared by the benchmarks: whole-process CPU time, peak memory, medians and ratios.

Every figure is the CPU time (user + system) of one finished child process, read from the
kernel's own accounting (``os.wait4``), so other load on the machine inflates it far less than
wall-clock time. Cases run alternately (A B C A B C ...): a drift in machine speed hits all
of them alike. A ratio of two costs is the ratio of their medians; its range is that of the
ratios taken run by run (on this shared machine single runs scatter widely, medians far less).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Run:
    cpu: float  # user + system seconds
    peak_rss_mb: float


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    @property
    def cpu(self) -> list[float]:
        return [run.cpu for run in self.runs]

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    @property
    def median_rss(self) -> float:
        return statistics.median(run.peak_rss_mb for run in self.runs)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}, Python {platform.python_version()}"


def bench_env() -> dict[str, str]:
    """The children's environment: bytecode caching on, in a private folder.

    With ``PYTHONDONTWRITEBYTECODE`` set every run would compile every module again, a cost
    no developer's machine pays after the first run.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(
        Path(os.environ.get("TMPDIR", "/tmp")) / "sessionmem-bench-pyc"
    )
    return env


def run_process(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    """Run ``command`` to completion; its own CPU time and peak RSS. Fails loudly on error."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env if env is not None else bench_env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        text = output.decode(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{text}")
    rss_kb = usage.ru_maxrss  # kilobytes on Linux
    return Run(cpu=usage.ru_utime + usage.ru_stime, peak_rss_mb=rss_kb / 1024)


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]


def alternate(
    cases: Mapping[str, Sequence[str]], runs: int, cwd: Path, warmup: int = 1
) -> dict[str, Series]:
    """Each case ``runs`` times, in turn; ``warmup`` uncounted rounds first."""
    series = {name: Series() for name in cases}
    for round_number in range(warmup + runs):
        for name, command in cases.items():
            run = run_process(command, cwd)
            if round_number >= warmup:
                series[name].runs.append(run)
    return series


def above(series: Series, base: Series) -> list[float]:
    """Run-by-run cost above the baseline run of the same round."""
    return [a - b for a, b in zip(series.cpu, base.cpu, strict=True)]


def ms(values: Sequence[float]) -> str:
    return (
        f"{statistics.median(values) * 1000:.0f} ms "
        f"({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"
    )


def pairwise_ratio(top: Sequence[float], bottom: Sequence[float]) -> list[float]:
    return [a / b for a, b in zip(top, bottom, strict=True) if b > 0]


def cost_ratio(top: Sequence[float], bottom: Sequence[float]) -> str:
    """``0.31 (0.27-0.36)``: median(top) / median(bottom), with the run-by-run range."""
    runs = pairwise_ratio(top, bottom)
    denominator = statistics.median(bottom)
    if not runs or denominator <= 0:
        return "n/a (no run had a positive denominator)"
    return f"{statistics.median(top) / denominator:.2f} ({min(runs):.2f}-{max(runs):.2f})"
