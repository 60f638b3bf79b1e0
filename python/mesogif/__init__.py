"""mesogif: batch ensembles of mesoscopic (and microscopic) GIF population models from Python.

A thin layer over the C library libmesogif.so (the same code as the ``mesogif`` command line):

    import mesogif
    model = mesogif.Model.from_file("data/models/bistable_b1.json")   # or Model.default()
    r = mesogif.run(model, realizations=100, t_sim="20s", progress=True)
    r.mean_A, r.psd, r.switching.rate_hz, r.traces[0, 0]                # numpy arrays
    r.to_hdf5("b1.h5");  r2 = mesogif.load("b1.h5")
    mesogif.compare(r, r2).agree
    mesogif.theory(model).fixed_points
    mesogif.switch(model, rel_err=0.1).rate_hz                          # FFS: from low, high
    mesogif.from_nest(populations, connections)                         # PyNEST's dicts

How it reaches C: **cffi in ABI mode** (``ffi.dlopen`` of libmesogif.so, with the C
declarations read from the public headers include/mesogif/*.h at import, ``_ffi.py``). Chosen
because it needs no compiler when the package is installed or imported (the package is plain
Python next to the library, installed by ``make install``), it is a Debian package
(python3-cffi), and unlike ctypes it takes the structs in C syntax, straight from the headers,
so that the two cannot drift apart (a test compiles the headers and checks every size and
offset cffi computes); it releases the GIL during calls and lets the library call back into
Python (progress) from its own thread. ``run`` calls mg_run on a worker thread and waits in the
main one, so that Ctrl-C reaches Python at once and sets the library's cancel flag
(mg_run_opts.cancel); the call returns only after the library has stopped.

Finding the library: ``MESOGIF_LIBRARY`` (``make python`` prints it), else the installed
path, else build/ of the source tree, else the system's search path.
"""
from .errors import MesogifError, ModelError, OptionError, RunError
from .model import Model
from .result import Result, Switching, load
from .run import run
from .switch import Direction, SwitchResult, switch
from .compare import Comparison, Row, compare
from .theory import FixedPoint, PopulationTheory, Theory, theory
from .nest import from_nest
from ._ffi import LIBRARY_PATH

__version__ = "0.1.0"
__all__ = ["Model", "ModelError", "MesogifError", "OptionError", "RunError", "Result",
           "Switching", "load", "run", "compare", "Comparison", "Row", "theory", "Theory",
           "FixedPoint", "PopulationTheory", "from_nest", "switch", "SwitchResult", "Direction",
           "LIBRARY_PATH"]
