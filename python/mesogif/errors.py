"""Exceptions of the mesogif package. Every message is the one the command line prints after
``mesogif: `` (file or JSON path or option, what is wrong, the allowed values)."""


class MesogifError(Exception):
    """Base class of every error the package raises on its own."""


class ModelError(MesogifError, ValueError):
    """A model file, JSON text or dict that is not a valid model (or does not fit the run's
    options, e.g. a delay shorter than dt): the message names the file and the JSON path."""


class OptionError(MesogifError, ValueError):
    """A run or analysis option out of its allowed range (the message names the option)."""


class RunError(MesogifError, RuntimeError):
    """The run failed at run time (out of memory, CUDA, I/O, a numerical fault)."""
