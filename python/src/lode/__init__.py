"""Read any version of a lode dataset from Python.

Every function here runs the ``lode`` command line: ``lode cat`` streams a
file's bytes (each chunk verified against its ID before lode writes it) and
``lode ls --json`` lists a version. Nothing re-implements lode's formats.
"""
from ._cli import LodeError, LodeNotFoundError, lode_command, ls, open, read_bytes

__all__ = ["LodeError", "LodeNotFoundError", "lode_command", "ls", "open", "read_bytes"]
__version__ = "0.1.0"
