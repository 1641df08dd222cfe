"""The step that several scenarios end with: nothing of theirs left running or defunct."""
from orchestrator.result import Step


def nothing_left(nodes, markers, why):
    """A step that passes if no zombie and no process whose command line holds a marker remains on the nodes."""
    left = {node.name: rows for node in nodes if (rows := node.leftovers(*markers))}
    return Step(
        "nothing-left", "nothing left running or defunct",
        passed=not left,
        expected=f"no zombie and no {' or '.join(markers)} process remains on {', '.join(n.name for n in nodes)}",
        observed="clean" if not left else f"left: {left}",
        why=why,
        facts={"left": left})
