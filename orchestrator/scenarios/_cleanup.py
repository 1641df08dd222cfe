"""The step that several scenarios end with: nothing of theirs left running or defunct."""
from orchestrator.i18n import _
from orchestrator.result import Step


def nothing_left(nodes, markers, why):
    """A step that passes if no zombie and no process whose command line holds a marker remains on the nodes.
    why is shown as it is: callers pass it translated."""
    left = {node.name: rows for node in nodes if (rows := node.leftovers(*markers))}
    return Step(
        "nothing-left", _("nothing left running or defunct"),
        passed=not left,
        expected=_("no zombie and no {markers} process remains on {nodes}").format(
            markers=_(" or ").join(markers), nodes=", ".join(n.name for n in nodes)),
        observed=_("clean") if not left else _("left: {left}").format(left=left),
        why=why,
        facts={"left": left})
