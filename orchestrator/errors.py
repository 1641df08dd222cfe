"""What can go wrong, one class per failure a caller may handle; the CLI prints any LabError as one line.

Each error keeps its facts as fields (which node, which command, what it said), so callers and tests look
at fields, not at the message. Modelled on docker-py's ContainerError and Kathará's exceptions.py.
"""
from orchestrator.i18n import _


class LabError(Exception):
    """Something the user can act on, said in one line."""


class EngineUnavailable(LabError):
    """The Docker engine does not answer, or may not be used."""


class SwarmUnavailable(EngineUnavailable):
    """--engine swarm where no swarm manager answers."""


class ComposeFailed(LabError):
    """The Compose CLI is missing, or it failed to bring a project up or down."""


class ImageBuildFailed(LabError):
    """A node image could not be built."""


class BadParameter(LabError):
    """A scenario parameter or a user's value is of the wrong type or out of range."""

    def __init__(self, name, value, wanted):
        self.name, self.value, self.wanted = name, value, wanted
        super().__init__(_("{name} takes {wanted}, not {value!r}").format(name=name, wanted=wanted, value=value))


class UnknownName(LabError):
    """A scenario, exercise or other registry entry that does not exist."""

    def __init__(self, kind, name, known, **context):
        """kind: what was looked up, marked with N_ (`scenario`, `parameter of scenario {scenario}`), its
        placeholders filled from context; the field keeps it in English, the message says it translated."""
        self.kind, self.name, self.known = kind.format(**context), name, list(known)
        super().__init__(_("unknown {kind} {name!r}; known: {known}").format(
            kind=_(kind).format(**context), name=name, known=", ".join(self.known)))


class NodeNotFound(LabError):
    """No node of that name in the lab (or the lab is down)."""

    def __init__(self, name, project, known):
        self.name, self.project, self.known = name, project, list(known)
        listed = ", ".join(self.known) or _("none: the lab is down (make up)")
        super().__init__(_("no node {name!r} in lab {project}; nodes: {nodes}").format(name=name, project=project,
                                                                                      nodes=listed))


class NodeUnhealthy(LabError):
    """A node did not become ready: it exited, or its boot check never passed; detail is what it said."""

    def __init__(self, node, message, detail=""):
        self.node, self.detail = node, detail
        super().__init__(message)


class TimedOut(LabError):
    """Something did not happen within its time limit: a command, a readiness line, a program's end."""

    def __init__(self, what, node, seconds):
        self.what, self.node, self.seconds = what, node, seconds
        super().__init__(_("{command} on {node} did not finish within {seconds} s").format(
            command=what, node=node, seconds=seconds) if what else
            _("timed out on {node} after {seconds} s").format(node=node, seconds=seconds))


class NotReady(TimedOut):
    """A program never wrote its readiness text (and did not die either)."""

    def __init__(self, argv, node, text, seconds, stderr_tail=""):
        self.argv, self.text, self.stderr_tail = list(argv), text, stderr_tail
        said = dict(command=" ".join(self.argv[:4]), node=node, text=text, seconds=seconds)
        LabError.__init__(self, _("{command} on {node} did not say {text!r} within {seconds} s: {stderr_tail}").format(
            stderr_tail=stderr_tail, **said) if stderr_tail else
            _("{command} on {node} did not say {text!r} within {seconds} s").format(**said))
        self.what, self.node, self.seconds = "readiness", node, seconds


class ProgramFailed(LabError):
    """A program in a node exited non-zero (or died before it was ready); stderr_tail is its last line."""

    def __init__(self, node, argv, exit_code, stderr_tail):
        self.node, self.argv, self.exit_code, self.stderr_tail = node, list(argv), exit_code, stderr_tail
        super().__init__(_("{command} on {node} failed ({exit_code}): {stderr_tail}").format(
            command=" ".join(self.argv[:4]), node=node, exit_code=exit_code, stderr_tail=stderr_tail))


class FaultFailed(LabError):
    """A fault could not be put in place or lifted."""


class BadProgram(LabError):
    """A learner's file that cannot be checked: missing, not a file, too big, or not Python that parses."""

    def __init__(self, path, reason):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")
