"""Shared by the timing benchmarks: give freed heap memory back before a timed call.

glibc returns freed memory at the top of its heap to the kernel inside whichever `free()`
first finds enough of it there. In an interleaved run that is often a free in the next
contender's call, which then pays the kernel's unmapping of memory it never used: after
torch-struct frees its graphs (~100 MB at B = 32, T = 60, L = 17), about 5 ms, three
times our whole NLL step. Trimming before every timed call (untimed) makes each
contender pay for allocating its own memory and for nothing else.
"""
import ctypes
import ctypes.util
from typing import Callable


def _heap_trimmer() -> Callable[[], None]:
    """glibc's `malloc_trim(0)`, or a no-op where the C library has none."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is None:
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


release_free_memory = _heap_trimmer()
