"""User-facing errors: bad data or params, reported as one clear message without a traceback."""


class InputError(Exception):
    """Bad input (a file, column or parameter) that the user must fix; the message says how."""


class DownloadRefused(InputError):
    """A remote server refused or could not deliver a file; the message explains the way around."""
