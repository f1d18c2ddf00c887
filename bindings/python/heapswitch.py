"""heapswitch's request marks and backend name for Python programs.

The functions of libheapswitch are looked up in the running process
(``ctypes.CDLL(None)``: the program and every library it has loaded, an
``LD_PRELOAD``ed libheapswitch included) once, at import. Without
heapswitch the module still imports and every mark is ignored, so a
program runs unchanged::

    import heapswitch

    with heapswitch.request():          # marked done when the block ends
        handle(query)

    @heapswitch.request()               # each call is one request
    def handle(query): ...

``heapswitch top`` then shows the process's allocations per request.
"""

import contextlib
import ctypes

__all__ = ["loaded", "request_done", "backend_name", "version", "request"]


def _lookup():
    try:
        process = ctypes.CDLL(None)
    except OSError:
        return None, None, None
    functions = []
    for name, restype in (("heapswitch_request_done", None),
                          ("heapswitch_backend_name", ctypes.c_char_p),
                          ("heapswitch_version", ctypes.c_char_p)):
        try:
            function = getattr(process, name)
        except AttributeError:
            return None, None, None
        function.argtypes = []
        function.restype = restype
        functions.append(function)
    return tuple(functions)


_request_done, _backend_name, _version = _lookup()


def loaded():
    """Whether libheapswitch is loaded in this process."""
    return _request_done is not None


def request_done():
    """Marks the end of one request (or unit of work); ignored without heapswitch."""
    if _request_done is not None:
        _request_done()


def backend_name():
    """The backend serving this process ("system", "jemalloc", "mimalloc",
    "arena"), or None without heapswitch."""
    if _backend_name is None:
        return None
    return _backend_name().decode()


def version():
    """The version of the loaded libheapswitch, or None without it."""
    if _version is None:
        return None
    return _version().decode()


class request(contextlib.ContextDecorator):
    """One request: ``with heapswitch.request():`` marks it done when the
    block ends, ``@heapswitch.request()`` when each call of the decorated
    function returns. A request that raises is marked done too: its
    allocations were made, and counting it keeps the per-request figures
    honest."""

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        request_done()
        return False
