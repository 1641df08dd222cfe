"""The one exception the CLI turns into a one-line error."""


class LabError(Exception):
    """Something the user can act on, said in one line."""
