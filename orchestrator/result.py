"""What a scenario observed: steps, each with what was expected, what was measured, why, and its facts."""
from dataclasses import asdict, dataclass, field


@dataclass
class Step:
    name: str
    passed: bool
    expected: str
    observed: str
    why: str
    facts: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict, repr=False)  # {suffix: bytes}, saved beside the report


@dataclass
class Result:
    scenario: str
    params: dict
    steps: list
    started: str = ""
    duration_s: float = 0.0
    notes: list = field(default_factory=list)  # what a user should know beyond the steps (a scenario's NOTES)

    @property
    def passed(self):
        return bool(self.steps) and all(step.passed for step in self.steps)

    def to_dict(self):
        return {"scenario": self.scenario, "passed": self.passed, "params": self.params, "started": self.started,
                "duration_s": self.duration_s, "notes": self.notes,
                "steps": [{k: v for k, v in asdict(step).items() if k != "files"} for step in self.steps]}
