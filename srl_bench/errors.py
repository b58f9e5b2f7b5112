"""The one exception type that the command line turns into a clear sentence instead of a traceback."""


class SrlBenchError(Exception):
    """A problem with the user's input or files, described in one sentence that says what to do."""
