"""Grading a queue of submissions on labs side by side: each lab takes the next submission when it is free.

A lab's own failure (it did not come up, its engine erred, the checker broke) is not the student's: that
submission is graded once more, on another lab when there is one, and said apart if that fails too. A
student's failed steps are a result like any other and are never graded again. A lab that fails twice in
a row is given up; its submissions go to the others.
"""
import threading
import time
from collections import deque
from dataclasses import dataclass

from orchestrator.i18n import _

GIVE_UP_AFTER = 2  # a lab's failures in a row


@dataclass
class Outcome:
    """What became of one submission: its Result, or the lab's error when it could not be graded."""
    submission: object
    result: object = None
    error: str = ""  # the lab's failure, when there is no result
    retried: str = ""  # the lab's first failure, when the submission was graded again
    lab: str = ""  # the lab that graded it
    cached: bool = False


@dataclass
class Job:
    submission: object
    failed_on: str = ""  # the lab it failed on once (by the lab's fault)
    first_error: str = ""


def described(exc):
    return f"{type(exc).__name__}: {exc}" if not str(exc).strip() or type(exc).__module__ != "orchestrator.errors" \
        else str(exc)


class Grader:
    """Grades jobs on slots. A slot (grading.labs.LabSlot, or a test's stand-in) has a `name`, `ready()` (a
    lab up and clean, raising when it cannot be) and `discard()` (the lab is broken: take it down).
    grade(lab, submission) is the Result; done(outcome) is told each one as it comes, from the slot's thread."""

    def __init__(self, grade, done=lambda outcome: None, stop=None):
        self.grade, self.done = grade, done
        self.stop = stop or threading.Event()  # set: each lab ends what it does and takes nothing more
        self._jobs, self._working, self._threads = deque(), set(), []
        self._changed, self._telling = threading.Condition(), threading.Lock()

    def run(self, submissions, slots):
        """Grade every submission; returns when all are done, or at stop (then the ones not done are not)."""
        self._jobs.extend(Job(s) for s in submissions)
        self._working = {slot.name for slot in slots}
        self._threads = [threading.Thread(target=self._work, args=(slot,), name=f"grade-{slot.name}", daemon=True)
                         for slot in slots]
        for thread in self._threads:
            thread.start()
        for thread in self._threads:
            while thread.is_alive():  # joined in short waits: Ctrl-C reaches the main thread
                thread.join(0.2)
        self._abandon(_("no lab could be brought up"))

    def wait(self, timeout):
        """After stop: wait (at most timeout s) for each lab's thread to end its submission and leave."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _take(self, slot):
        """The next job for this slot, waiting while the only ones left must go to another lab; None at the end."""
        with self._changed:
            while not self.stop.is_set():
                others = self._working - {slot.name}
                for job in self._jobs:
                    if job.failed_on != slot.name or not others:
                        self._jobs.remove(job)
                        return job
                if not self._jobs:
                    return None
                self._changed.wait(0.5)
            return None

    def _work(self, slot):
        failures = 0  # of bringing the lab up, in a row
        try:
            while failures < GIVE_UP_AFTER and (job := self._take(slot)) is not None:
                try:
                    lab = slot.ready()
                except Exception as exc:
                    if self.stop.is_set():
                        return
                    failures += 1
                    slot.discard()
                    self._failed(job, slot, described(exc))
                    continue
                failures = 0
                if self.stop.is_set():  # came up after Ctrl-C: down again, nothing more
                    slot.discard()
                    return
                try:
                    result = self.grade(lab, job.submission)
                except Exception as exc:  # the lab's failure, whatever it was: never the student's
                    if self.stop.is_set():
                        return
                    slot.discard()
                    self._failed(job, slot, described(exc))
                    continue
                self._done(Outcome(job.submission, result, retried=job.first_error, lab=slot.name))
        finally:
            with self._changed:
                self._working.discard(slot.name)
                self._changed.notify_all()

    def _done(self, outcome):
        """Tell done() of one outcome at a time: the labs' threads take turns."""
        with self._telling:
            self.done(outcome)

    def _failed(self, job, slot, error):
        if job.first_error:
            self._done(Outcome(job.submission, error=_("{first}; again on {lab}: {error}").format(
                first=job.first_error, lab=slot.name, error=error)))
            return
        job.failed_on, job.first_error = slot.name, _("on {lab}: {error}").format(lab=slot.name, error=error)
        with self._changed:
            self._jobs.appendleft(job)
            self._changed.notify_all()

    def _abandon(self, why):
        """Every job left when no lab works any more: the lab's failure, said."""
        if self.stop.is_set():
            return
        while self._jobs:
            job = self._jobs.popleft()
            self._done(Outcome(job.submission, error=f"{job.first_error}; {why}" if job.first_error else why))
