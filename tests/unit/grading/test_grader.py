"""The queue of a class: every submission graded once; a lab's failure retried once on another lab, a
student's failed steps never; a lab that fails twice in a row given up."""
import threading

import pytest

from orchestrator.errors import ComposeFailed
from orchestrator.grading.grader import Grader
from orchestrator.grading.submissions import Submission
from orchestrator.result import Result, Step


class Slot:
    """A stand-in lab: ready() raises while `broken` says so."""

    def __init__(self, name, broken=0):
        self.name, self.broken, self.discarded = name, broken, 0

    def ready(self):
        if self.broken:
            self.broken -= 1
            raise ComposeFailed(f"{self.name} did not come up")
        return self

    def discard(self):
        self.discarded += 1


def result(student, passed=True):
    return Result("framing", {"student": student}, [Step("sizes", "sizes", passed, "", "", "")], kind="check")


def run(slots, students, grade):
    outcomes, lock = [], threading.Lock()

    def done(outcome):
        with lock:
            outcomes.append(outcome)
    Grader(grade, done).run([Submission(s) for s in students], slots)
    return {o.submission.student: o for o in outcomes}


STUDENTS = [f"s{n:02}" for n in range(12)]


def test_every_submission_once_on_any_lab():
    calls = []
    outcomes = run([Slot("lab1"), Slot("lab2"), Slot("lab3")], STUDENTS,
                   lambda lab, s: calls.append(s.student) or result(s.student, passed=s.student != "s03"))
    assert sorted(calls) == STUDENTS and sorted(outcomes) == STUDENTS
    assert not outcomes["s03"].result.passed and not outcomes["s03"].retried  # a student's failure: kept as it is
    assert {o.lab for o in outcomes.values()} <= {"lab1", "lab2", "lab3"}


def test_a_labs_failure_is_retried_once_on_another_lab():
    tried = []

    def grade(lab, submission):
        tried.append((submission.student, lab.name))
        if submission.student == "s05" and len([t for t in tried if t[0] == "s05"]) == 1:
            raise ComposeFailed("the engine hiccuped")
        return result(submission.student)
    slots = [Slot("lab1"), Slot("lab2")]
    outcomes = run(slots, STUDENTS, grade)
    first, second = [lab for student, lab in tried if student == "s05"]
    assert first != second, "retried on another lab"
    assert outcomes["s05"].result.passed and "the engine hiccuped" in outcomes["s05"].retried
    assert sum(s.discarded for s in slots) == 1, "the lab that failed was taken down"


def test_twice_the_labs_failure_is_said_and_not_a_result():
    def grade(lab, submission):
        if submission.student == "s01":
            raise ComposeFailed(f"broken on {lab.name}")
        return result(submission.student)
    outcomes = run([Slot("lab1"), Slot("lab2")], STUDENTS, grade)
    assert outcomes["s01"].result is None
    assert "broken on lab1" in outcomes["s01"].error and "broken on lab2" in outcomes["s01"].error
    assert all(outcomes[s].result for s in STUDENTS if s != "s01")


def test_one_lab_retries_on_a_new_lab_of_its_own():
    slot, failures = Slot("lab1"), {"left": 1}

    def grade(lab, submission):
        if failures["left"]:
            failures["left"] -= 1
            raise ComposeFailed("gone")
        return result(submission.student)
    outcomes = run([slot], STUDENTS[:3], grade)
    assert all(o.result for o in outcomes.values()) and slot.discarded == 1


def test_a_lab_that_never_comes_up_is_given_up_and_the_others_grade():
    outcomes = run([Slot("lab1", broken=99), Slot("lab2")], STUDENTS, lambda lab, s: result(s.student))
    assert all(o.result for o in outcomes.values())
    assert {o.lab for o in outcomes.values()} == {"lab2"}


def test_no_lab_at_all():
    outcomes = run([Slot("lab1", broken=99), Slot("lab2", broken=99)], STUDENTS, lambda lab, s: result(s.student))
    assert sorted(outcomes) == STUDENTS and all(o.result is None for o in outcomes.values())
    assert any("no lab could be brought up" in o.error for o in outcomes.values())


def test_a_bug_of_the_grader_is_the_labs_failure_not_a_crash():
    def grade(lab, submission):
        if submission.student == "s02":
            raise KeyError("oops")
        return result(submission.student)
    outcomes = run([Slot("lab1"), Slot("lab2")], STUDENTS, grade)
    assert outcomes["s02"].result is None and "KeyError" in outcomes["s02"].error


@pytest.mark.parametrize("labs", [1, 3])
def test_verdicts_do_not_depend_on_the_number_of_labs(labs):
    outcomes = run([Slot(f"lab{n}") for n in range(labs)], STUDENTS,
                   lambda lab, s: result(s.student, passed=int(s.student[1:]) % 3 == 0))
    assert {s: o.result.passed for s, o in outcomes.items()} == {s: int(s[1:]) % 3 == 0 for s in STUDENTS}


def test_programs_that_break_the_check_do_not_use_up_the_labs():
    def grade(lab, submission):
        if submission.student in ("s00", "s01"):
            raise KeyError("the checker broke on this program")
        return result(submission.student)
    outcomes = run([Slot("lab1")], STUDENTS, grade)
    assert outcomes["s00"].result is None and outcomes["s01"].result is None
    assert all(outcomes[s].result for s in STUDENTS[2:]), "the lab went on with the rest"
