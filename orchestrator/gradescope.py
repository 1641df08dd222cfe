"""A check's Result as Gradescope's autograder results.json: one test per step, a point each.

Format (Gradescope's "Autograder Specifications"): top level `score`, `execution_time`, `output`,
`visibility`, `tests`; each test `name`, `number`, `score`, `max_score`, `status`, `output`, `visibility`.
"""
from orchestrator.i18n import _
from orchestrator.result import numbered


def test_output(step):
    """What a learner reads under a test: expected, observed, why, and the hint when it failed."""
    lines = [_("expected: {text}").format(text=step.expected), _("observed: {text}").format(text=step.observed),
             _("why: {text}").format(text=step.why)]
    return "\n".join(lines + ([_("hint: {text}").format(text=step.hint)] if step.hint else []))


def results(result, visibility="visible"):
    """The results.json dict of a check."""
    tests = [{"name": step.name, "number": str(number), "score": 1.0 if step.passed else 0.0, "max_score": 1.0,
              "status": "passed" if step.passed else "failed", "output": test_output(step),
              "visibility": visibility} for number, step in numbered(result.steps)]
    passed = sum(1 for step in result.steps if step.passed)
    return {"score": float(passed), "execution_time": max(1, round(result.duration_s)),
            "output": _("socklab check {exercise}: {passed}/{total} steps passed").format(
                exercise=result.name, passed=passed, total=len(result.steps)),
            "visibility": visibility, "tests": tests}
