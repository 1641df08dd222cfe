"""What a learner's source says, read without running it: the evidence a diagnosis may add to behaviour."""
import ast

LOCKS = {"Lock", "RLock", "Semaphore", "BoundedSemaphore"}


def calls(source):
    """The names of everything the source calls (`Lock` for both `Lock()` and `mp.Lock()`)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def uses_a_lock(source):
    return bool(LOCKS & calls(source))
