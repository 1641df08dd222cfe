"""Grading a class: every student's submission of an exercise, checked on labs side by side.

    submissions  the class's folder, in whichever layout (plain, Gradescope, Moodle): [Submission]
    store        results kept by content, exercise version, image, seed and language: a regrade is cheap
    labs         the grading labs, scrubbed between submissions, all taken down at the end
    grader       the queue: a lab's failure retried once elsewhere, a student's never
    similarity   pairs of alike programs (copydetect), the starter file taken out
    summary      the class's JSON, CSV, Gradescope files, student pages and class page
"""
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from orchestrator import engines, exercises, i18n, pages
from orchestrator.errors import BadProgram
from orchestrator.grading import similarity, submissions as found
from orchestrator.grading.grader import Grader, Outcome
from orchestrator.grading.labs import close, default_count, grading_labs
from orchestrator.grading.store import Store, last_seed, keep_seed
from orchestrator.grading.summary import write_class
from orchestrator.i18n import _
from orchestrator.report import REPORTS, run_folder
from orchestrator.result import Result, Step


@dataclass
class Plan:
    """What `socklab grade` was asked: the exercise, the class's folder and how to grade it."""
    exercise: str
    folder: str
    labs: int = None  # None: default_count()
    seed: int = None  # None: a new one (with only_changed: the last run's)
    only_changed: bool = False
    out: Path = None  # None: reports/class-<exercise>-<time>/
    similarity: bool = False
    engine: str = None  # compose or swarm
    project: str = "socklab"


def unreadable(plan, submission, reason, seed):
    """The Result of a submission with no program that can run: one failed step, `program`."""
    step = Step("program", _("the program can be read"), passed=False,
                expected=_("one Python file that parses, as the exercise's README names it"), observed=reason,
                why=_("Nothing else can be checked without it."),
                hint=_("Hand in one Python file that runs with python3; `socklab check` tries it the same way."))
    return Result(plan.exercise, {"exercise": plan.exercise, "student": submission.student, "seed": seed}, [step],
                  datetime.now(timezone.utc).isoformat(timespec="seconds"), kind="check")


def socklab_version():
    try:
        return metadata.version("socklab")
    except metadata.PackageNotFoundError:
        return "unknown"


def node_image(plan, progress):
    """(tag, id) of the node image the labs run: built (and, on a swarm, sent to its machines) if missing."""
    backend = engines.for_lab(f"{plan.project}-grade1", plan.engine,
                              client=None if plan.engine == "swarm" else engines.connect())
    tag = backend.image(progress)
    return tag, backend.client.images.get(tag).id.split(":")[-1][:12]


class Grading:
    """One class run: prepared (submissions read, image ready, kept results found), run on the labs, written."""

    def __init__(self, plan, progress=lambda text: None):
        self.plan, self.exercise = plan, exercises.get(plan.exercise).NAME
        self.layout, self.submissions = found.find(plan.folder, self.exercise)
        kept_seed = last_seed(self.exercise) if plan.only_changed else None
        self.seed = next(seed for seed in (plan.seed, kept_seed, exercises.new_seed()) if seed is not None)
        tag, image = node_image(plan, progress)
        self.lang, version = i18n.current(), exercises.version(self.exercise)
        self.store = Store(self.exercise, version, image, self.seed, self.lang)
        self.stamp = {"image": image, "exercise_version": version, "socklab": socklab_version()}
        self.outcomes, self.queue = [], []
        for submission in self.submissions:
            try:
                submission.program()
            except BadProgram as exc:
                self.outcomes.append(Outcome(submission, unreadable(plan, submission, exc.reason, self.seed)))
                continue
            kept = self.store.get(submission) if plan.only_changed else None
            if kept is not None:  # kept by content: another student's identical file may have been graded
                kept.params.update(student=submission.student, **{exercises.get(self.exercise).ROLE: str(submission.path)})
                self.outcomes.append(Outcome(submission, kept, cached=True))
            else:
                self.queue.append(submission)
        self.labs = min(plan.labs or default_count(len(self.queue)), max(1, len(self.queue)))
        self.started, self.duration_s = datetime.now(timezone.utc).isoformat(timespec="seconds"), 0.0
        self.stopping = threading.Event()

    def said(self):
        """What was decided, in one line, for the start of the run."""
        return _("{exercise}: {count} submissions ({layout} layout), {todo} to grade on {labs} labs, seed {seed} "
                 "(--seed {seed} grades the same way again)").format(
            exercise=self.exercise, count=len(self.submissions), layout=self.layout, todo=len(self.queue),
            labs=self.labs, seed=self.seed)

    def check(self, lab, submission):
        result = exercises.run(self.exercise, lab, submission.program(), seed=self.seed)
        result.params.update(student=submission.student, **self.stamp)
        if not self.stopping.is_set():  # a check cut short by Ctrl-C is not a result to keep
            self.store.put(submission, result)
        return result

    def run(self, graded=lambda outcome, done, total: None, progress=lambda text: None):
        """Grade the queue; graded(outcome, done, total) is told of each submission as it is graded (of the
        kept and unreadable ones first). Ctrl-C takes every lab down; what was graded is kept in the store."""
        keep_seed(self.exercise, self.seed)
        total = len(self.submissions)
        for done, outcome in enumerate(list(self.outcomes), 1):
            graded(outcome, done, total)

        def done(outcome):
            self.outcomes.append(outcome)
            graded(outcome, len(self.outcomes), total)
        clock = time.monotonic()
        if self.queue:
            grader = Grader(self.check, done, self.stopping)
            with grading_labs(self.labs, self.plan.project, self.plan.engine, progress) as slots:
                try:
                    grader.run(self.queue, slots)
                except KeyboardInterrupt:  # the labs go first, so the checks on them end at once
                    grader.stop.set()
                    close(slots)
                    grader.wait(60)
                    raise
        self.duration_s = round(time.monotonic() - clock, 1)
        return self.outcomes

    def write(self):
        """Write the class's folder: (the --json dict, the folder)."""
        plan = self.plan
        alike = similarity.similar(self.submissions, self.exercise) if plan.similarity else []
        folder = Path(plan.out) if plan.out else run_folder(f"class-{self.exercise}")
        folder.mkdir(parents=True, exist_ok=True)
        graded = [o for o in self.outcomes if o.result]
        info = {"exercise": self.exercise, "seed": self.seed, **self.stamp, "started": self.started,
                "duration_s": self.duration_s, "labs": self.labs if self.queue else 0,
                "engine": plan.engine or "compose", "submissions": str(plan.folder), "layout": self.layout,
                "graded": len(graded), "passed": sum(1 for o in graded if o.result.passed),
                "similarity": plan.similarity, "similarity_threshold": round(similarity.THRESHOLD * 100),
                "lang": self.lang}
        data = write_class(folder, info, self.outcomes, alike, self.lang)
        if folder.resolve().parent == REPORTS.resolve():
            pages.write_index(REPORTS)
        return data, folder
