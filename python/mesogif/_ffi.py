"""The C declarations of libmesogif's public headers for cffi's ABI mode, and the loaded library.

cffi's ABI mode takes C declarations and calls the library through ``ffi.dlopen``: nothing is
compiled when the package is installed or imported. The declarations are read from the public
headers themselves (include/mesogif/*.h of the source tree, or the installed copies), cleaned of
what cffi's parser does not take (comments, preprocessor lines, ``__attribute__``, ``volatile``,
``extern "C"``), so that a field added to a struct reaches Python without an edit here.
python/tests/test_abi.py compiles a C program against the same headers and checks every size
and field offset cffi computes from them.

The library is found in this order: the environment variable ``MESOGIF_LIBRARY`` (a path, what
``make python`` prints), ``_libpath.py`` written next to this file by ``make install``, the
build folder of the source tree this package sits in (``build/libmesogif.so.0``), and finally
the system's search path (``libmesogif.so.0``). The headers: ``MESOGIF_INCLUDE``, else
``_libpath.INCLUDE``, else the source tree's include/.
"""
import os
import re

from cffi import FFI

# in dependency order: each header's types are known to the ones after it
HEADERS = ("error.h", "model.h", "stats.h", "run.h", "ffs.h", "io.h", "units.h", "theory.h")

# GSL, a dependency of the library (found through its handle): the distributions that
# `mesogif compare` uses
EXTRA = """
double gsl_cdf_tdist_Q(double x, double nu);
double gsl_cdf_ugaussian_Qinv(double Q);
"""

_HERE = os.path.dirname(os.path.abspath(__file__))


def _include_dir() -> str:
    env = os.environ.get("MESOGIF_INCLUDE")
    if env:
        return env
    try:
        from . import _libpath  # written by `make install`

        return _libpath.INCLUDE
    except (ImportError, AttributeError):
        return os.path.normpath(os.path.join(_HERE, "..", "..", "include"))


def header_cdef(text: str, defines: dict) -> str:
    """One public header as cffi declarations: comments, the C++ guards, preprocessor lines,
    __attribute__ and volatile removed; integer #defines collected into `defines` and written
    out as their values (array sizes) and as cffi constants."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'#ifdef __cplusplus\s*extern "C" \{\s*#endif', " ", text)
    text = re.sub(r"#ifdef __cplusplus\s*\}\s*#endif", " ", text)
    out = []
    for line in text.split("\n"):
        m = re.match(r"\s*#\s*define\s+(MG_\w+)\s+(-?\d+)\s*$", line)
        if m:
            defines[m.group(1)] = int(m.group(2))
            out.append(f"#define {m.group(1)} {m.group(2)}")
            continue
        if line.lstrip().startswith("#"):
            continue
        out.append(line)
    text = "\n".join(out)
    text = re.sub(r"__attribute__\s*\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\)", " ", text)
    text = re.sub(r"\bvolatile\b", " ", text)
    for name, value in defines.items():
        text = re.sub(r"(?<!#define )\b" + name + r"\b(?!\s+-?\d)", str(value), text)
    return text


def read_cdef(include_dir: str) -> str:
    defines: dict = {}
    parts = []
    for h in HEADERS:
        path = os.path.join(include_dir, "mesogif", h)
        with open(path, encoding="utf-8") as f:
            parts.append(header_cdef(f.read(), defines))
    return "\n".join(parts) + EXTRA


INCLUDE_DIR = _include_dir()
CDEF = read_cdef(INCLUDE_DIR)

ffi = FFI()
ffi.cdef(CDEF)

SONAME = "libmesogif.so.0"


def _candidates():
    env = os.environ.get("MESOGIF_LIBRARY")
    if env:
        yield env
        return
    try:
        from . import _libpath  # written by `make install`

        yield _libpath.LIBRARY
    except ImportError:
        pass
    tree = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", SONAME)
    if os.path.exists(tree):
        yield os.path.normpath(tree)
    yield SONAME


def _load():
    errors = []
    for path in _candidates():
        try:
            return ffi.dlopen(path), path
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("mesogif: cannot load libmesogif (" + "; ".join(errors) +
                      "); build it with `make` and set MESOGIF_LIBRARY as `make python` prints")


lib, LIBRARY_PATH = _load()


def err_msg(err) -> str:
    """The message of an mg_err."""
    return ffi.string(err.msg).decode("utf-8", "replace")


def cstr(s) -> str:
    return ffi.string(s).decode("utf-8", "replace")
