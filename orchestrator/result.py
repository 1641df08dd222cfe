"""What a scenario observed: steps, each with what was expected, what was measured, why, and its facts.

A step's `key` is stable and language-neutral (`tcp-merge-nagle`): tests and reports find steps by it; its
`name` is for people and may change. Texts are in the result's `lang` (orchestrator.i18n); keys and facts
never are. Facts are measurements only: where a saved step's files went is its `artifacts`.

A Result knows what it is: `kind` "scenario" (a lesson) or "check" (an exercise graded) and its `name`. Its
JSON keeps the key it always had for a scenario, "scenario": NAME (scripts rely on it), and says
"exercise": NAME for a check, beside the neutral "kind" and "name".
"""
from dataclasses import asdict, dataclass, field

from orchestrator import i18n


@dataclass
class Step:
    key: str
    name: str
    passed: bool
    expected: str
    observed: str
    why: str
    facts: dict = field(default_factory=dict)
    hint: str = ""  # an exercise's failed step: the course concept at fault
    files: dict = field(default_factory=dict, repr=False)  # {suffix: bytes}, saved beside the report
    artifacts: dict = field(default_factory=dict)  # {suffix: path} of the files, once saved
    events: list = field(default_factory=list, repr=False)  # what its programs did when, for the replay


SUBJECT = {"scenario": "scenario", "check": "exercise"}  # the JSON key that names what ran, by kind


def numbered(steps):
    """[(number, step)] as people see them: numbered here, never in a step's name; from 1, or from 0 when the
    first step starts the learner's program (a server exercise's `starts`: its cases are 1, 2, …)."""
    return list(enumerate(steps, 0 if steps and steps[0].key == "starts" else 1))


def label(steps, step):
    """The step's name with its number, as people see it: `2 1 B to 1 MiB, the last bytes 50 ms late`."""
    return next(f"{number} {step.name}" for number, each in numbered(steps) if each is step)


@dataclass
class Result:
    name: str  # the scenario's or the exercise's
    params: dict
    steps: list
    started: str = ""
    duration_s: float = 0.0
    notes: list = field(default_factory=list)  # what a user should know beyond the steps (a scenario's NOTES)
    lang: str = field(default_factory=i18n.current)  # the language its texts were written in
    kind: str = "scenario"  # or "check"
    engine: str = "compose"  # where the lab ran: compose or swarm
    machines: dict = field(default_factory=dict)  # {node: the machine it ran on}
    timeline: dict = field(default_factory=dict, repr=False)  # {"nodes": {name: ip}, "events"}: the replay's

    def __post_init__(self):
        keys = [step.key for step in self.steps]
        if not all(keys) or len(set(keys)) != len(keys):
            raise ValueError(f"{self.name}: every step needs a key of its own, got {keys}")

    @property
    def passed(self):
        """True when there are steps and every one passed."""
        return bool(self.steps) and all(step.passed for step in self.steps)

    def label(self, step) -> str:
        """The step's name with its number (see label())."""
        return label(self.steps, step)

    def step(self, key) -> Step:
        """The step with this key; KeyError naming the keys there are."""
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(f"no step {key!r} in {self.name}; steps: {[s.key for s in self.steps]}")

    @classmethod
    def from_dict(cls, data):
        """The Result to_dict() wrote (a step's files stay where its artifacts say)."""
        steps = [Step(**{k: v for k, v in step.items() if k in Step.__dataclass_fields__}) for step in data["steps"]]
        return cls(data["name"], data["params"], steps, data.get("started", ""), data.get("duration_s", 0.0),
                   data.get("notes", []), data.get("lang", "en"), data.get("kind", "scenario"),
                   data.get("engine", "compose"), data.get("machines", {}))

    def to_dict(self):
        return {SUBJECT[self.kind]: self.name, "kind": self.kind, "name": self.name, "passed": self.passed,
                "params": self.params, "started": self.started, "duration_s": self.duration_s, "lang": self.lang,
                "notes": self.notes, "engine": self.engine, "machines": self.machines,
                "steps": [{k: v for k, v in asdict(step).items() if k not in ("files", "events") and (v or k not in ("hint", "artifacts"))}
                          for step in self.steps]}
