"""The exercise registry: every module here with NAME, ROLE, SUMMARY and check() is an exercise.

An exercise module:
    NAME = "framing"        # `socklab check framing`
    ROLE = "server"         # how the learner's file is given: --server, --client, --program or --consumer
    SUMMARY = N_("one line for --list")  # marked for the catalog, translated where it is shown
    def check(lab, program, progress, seed) -> list[Step]   # program: a LearnerProgram; failed steps carry
                                                            # a hint; seed: the random choices it makes

The task, the protocol and a starter file are in exercises/<NAME>/ at the top of the repository, with a
reference solution and the course's typical bugs (exercises/<NAME>/bugs/) that the tests hold the checks to.
Modules whose names start with `_` hold what several exercises share.
"""
import hashlib
import random
import time
from datetime import datetime, timezone
from pathlib import Path

from orchestrator import registry
from orchestrator.i18n import N_, _
from orchestrator.errors import BadParameter, LabError
from orchestrator.learner import LearnerProgram
from orchestrator.result import Result

ROLES = {"server": N_("the learner's server program"), "client": N_("the learner's client program"),
         "program": N_("the learner's program"), "consumer": N_("the learner's consumer program")}  # --ROLE FILE
HOME = Path(__file__).resolve().parent.parent.parent / "exercises"


def available():
    """{name: module} for every exercise module in this package."""
    return registry.modules(__name__, __path__, entry="check")


def get(name):
    """The exercise module called name; UnknownName if there is none."""
    return registry.lookup("exercise", available(), name)


def program(exercise, files):
    """The LearnerProgram given for the exercise's role in files ({role: path or None}); BadParameter if
    the file comes under another role or none; BadProgram if it cannot be read or compiled."""
    given = {role: path for role, path in files.items() if path}
    if not given:
        raise LabError(_("check {exercise} needs --{role} FILE ({what}), and no file was given").format(
            exercise=exercise.NAME, role=exercise.ROLE, what=_(ROLES[exercise.ROLE])))
    if list(given) != [exercise.ROLE]:
        raise BadParameter("check " + exercise.NAME, " ".join(f"--{r} {p}" for r, p in given.items()),
                           _("--{role} FILE ({what})").format(role=exercise.ROLE, what=_(ROLES[exercise.ROLE])))
    return LearnerProgram(given[exercise.ROLE])


def version(name):
    """The exercise's version: a digest of the code that grades it here (its module, what the exercises
    share, the sandbox's host side, the catalogs its words come from). The checkers inside the nodes are
    in the node image, whose digest a grade records beside it."""
    module = Path(get(name).__file__)
    parts = [module, *sorted(module.parent.glob("_*.py")), module.parent.parent / "learner.py",
             *sorted((module.parent.parent / "locale").rglob("*.po"))]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.read_bytes())
    return digest.hexdigest()[:12]


def new_seed():
    """A seed for a check's random choices (chunkings, losses): recorded in its Result, given again with --seed."""
    return random.randrange(1 << 30)


def run(name, lab, learner, progress=lambda text: None, seed=None):
    """Check a LearnerProgram against exercise `name` on a lab that is up; its Result, which records the seed
    its random choices came from (a new one when none is given)."""
    exercise, seed = get(name), new_seed() if seed is None else seed
    started, clock = datetime.now(timezone.utc).isoformat(timespec="seconds"), time.monotonic()
    mark = lab.timeline.mark()
    try:
        steps = exercise.check(lab, learner, progress, seed)
    finally:
        lab.stop_spawned()
    return Result(name, {"exercise": name, exercise.ROLE: str(learner.path), "seed": seed}, steps, started,
                  round(time.monotonic() - clock, 2), kind="check", **lab.where(), timeline=lab.recorded(mark))
