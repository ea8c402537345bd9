"""The one driver of every learner (:mod:`jaxrl.driver.loop`: one seed, a pure jitted
function; :mod:`jaxrl.driver.seeds`: many seeds in compiled chunks over the devices;
:mod:`jaxrl.driver.hosts`: over many processes)."""

from jaxrl.devices import seed_mesh
from jaxrl.driver.loop import (
    Algorithm,
    Carry,
    Curve,
    Schedule,
    environment,
    evaluate,
    greedy_episodes,
    swing_up,
    train,
)
from jaxrl.driver.seeds import Progress, RunResult, Snapshot, restore, run

__all__ = [
    "Algorithm", "Carry", "Curve", "Progress", "RunResult", "Schedule", "environment",
    "evaluate",
    "greedy_episodes", "restore", "run", "seed_mesh", "Snapshot", "swing_up", "train",
]
