"""Tesseract's own library (libtesseract, the one the ``tesseract`` program runs), called
in-process through its C API: the same recognition as ``pytesseract.image_to_data`` without
starting a process, writing the image to a file and loading the language model for every
read. A small crop costs tesseract's start-up (~0.15 s of CPU) as a process and ~10 ms here;
a page saves the PNG round trip.

One engine per thread and process (the API is not thread-safe; a forked worker makes its own).
``available()`` is False where the library cannot be loaded (another system, another major
version): engines.py then runs the ``tesseract`` program through pytesseract, as before.
Results are the program's: the same library, options and resolution (tests compare them).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shlex
import threading

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # read when the library loads: one thread

import numpy as np  # noqa: E402

_LIBRARIES = ("libtesseract.so.5", "libtesseract.so", "libtesseract.5.dylib")
_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num")
_BOXES = ("left", "top", "width", "height")
_lib = None
_loaded = False
_load_lock = threading.Lock()
_local = threading.local()


class OptionsError(ValueError):
    """Options this binding does not pass on (anything but --psm N and -c name=value)."""


def _library():
    global _lib, _loaded
    with _load_lock:
        if not _loaded:
            _loaded = True
            if os.environ.get("DESKHAND_TESSERACT_API", "1") == "0":
                return None
            names = [*_LIBRARIES, ctypes.util.find_library("tesseract")]
            for name in filter(None, names):
                try:
                    lib = ctypes.CDLL(name)
                    _declare(lib)
                except (OSError, AttributeError):
                    continue
                major = lib.TessVersion().decode().split(".")[0]
                if major.isdigit() and int(major) >= 4:
                    _lib = lib
                    break
        return _lib


def _declare(lib) -> None:
    p, i, c = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    lib.TessVersion.restype = c
    lib.TessBaseAPICreate.restype = p
    lib.TessBaseAPIInit3.argtypes = [p, c, c]
    lib.TessBaseAPIInit3.restype = i
    lib.TessBaseAPISetVariable.argtypes = [p, c, c]
    lib.TessBaseAPISetVariable.restype = i
    lib.TessBaseAPISetPageSegMode.argtypes = [p, i]
    lib.TessBaseAPISetImage.argtypes = [p, c, i, i, i, i]
    lib.TessBaseAPIRecognize.argtypes = [p, p]
    lib.TessBaseAPIRecognize.restype = i
    lib.TessBaseAPIGetTsvText.argtypes = [p, i]
    lib.TessBaseAPIGetTsvText.restype = ctypes.POINTER(ctypes.c_char)
    lib.TessDeleteText.argtypes = [ctypes.POINTER(ctypes.c_char)]
    lib.TessBaseAPIClear.argtypes = [p]
    lib.TessBaseAPIEnd.argtypes = [p]
    lib.TessBaseAPIDelete.argtypes = [p]


def available() -> bool:
    """Whether libtesseract can be called in-process here."""
    return _library() is not None


class _Engine:
    """One initialised TessBaseAPI (a language loaded once) with the variables last set."""

    def __init__(self, lib, language: str) -> None:
        self.lib = lib
        self.handle = lib.TessBaseAPICreate()
        if lib.TessBaseAPIInit3(self.handle, None, language.encode()) != 0:
            lib.TessBaseAPIDelete(self.handle)
            raise RuntimeError(f"tesseract could not load the language {language!r}")
        # its messages ('Image too small to scale!!') went to pytesseract, not the terminal
        lib.TessBaseAPISetVariable(self.handle, b"debug_file", os.devnull.encode())
        self.variables: dict[str, str] = {}

    def set(self, variables: dict[str, str]) -> None:
        # a variable set for one read stays set: reset those the next read does not name
        for name in self.variables.keys() - variables.keys():
            self.lib.TessBaseAPISetVariable(self.handle, name.encode(), self.defaults[name])
        for name, value in variables.items():
            if self.variables.get(name) != value:
                if not self.lib.TessBaseAPISetVariable(self.handle, name.encode(), value.encode()):
                    raise OptionsError(f"unknown tesseract variable {name!r}")
        self.variables = dict(variables)

    defaults = {
        "tessedit_char_whitelist": b"",
        "tessedit_char_blacklist": b"",
        "user_defined_dpi": b"0",
        "preserve_interword_spaces": b"0",
    }

    def __del__(self) -> None:
        try:
            self.lib.TessBaseAPIEnd(self.handle)
            self.lib.TessBaseAPIDelete(self.handle)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def parse_options(options: str, dpi: float) -> tuple[int, dict[str, str]]:
    """The page segmentation mode and variables of tesseract command-line ``options``
    ("--psm 7 -c tessedit_char_whitelist=0123456789"); OptionsError for anything else."""
    psm, variables = 3, {"user_defined_dpi": str(round(dpi))}
    parts = shlex.split(options)
    index = 0
    while index < len(parts):
        part = parts[index]
        if part == "--psm" and index + 1 < len(parts):
            psm, index = int(parts[index + 1]), index + 2
        elif part == "-c" and index + 1 < len(parts) and "=" in parts[index + 1]:
            name, value = parts[index + 1].split("=", 1)
            if name not in _Engine.defaults:
                raise OptionsError(f"tesseract variable {name!r} is not passed in-process")
            variables[name] = value
            index += 2
        else:
            raise OptionsError(f"tesseract option {part!r} is not passed in-process")
    return psm, variables


def image_to_data(gray: np.ndarray, dpi: float, options: str, language: str) -> dict:
    """What ``pytesseract.image_to_data(image, lang=language, config=options + --dpi,
    output_type=DICT)`` gives for the 8-bit grayscale ``gray``, read in-process."""
    psm, variables = parse_options(options, dpi)
    lib = _library()
    if lib is None:
        raise OSError("libtesseract is not available")
    engines = getattr(_local, "engines", None)
    if engines is None or _local.pid != os.getpid():  # a forked child: its own engines
        engines, _local.engines, _local.pid = {}, {}, os.getpid()
        engines = _local.engines
    engine = engines.get(language)
    if engine is None:
        engine = engines[language] = _Engine(lib, language)
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    height, width = gray.shape
    pixels = gray.tobytes()  # tesseract copies them; referenced until then
    engine.set(variables)
    lib.TessBaseAPISetPageSegMode(engine.handle, psm)
    lib.TessBaseAPISetImage(engine.handle, pixels, width, height, 1, width)
    try:
        if lib.TessBaseAPIRecognize(engine.handle, None) != 0:
            raise RuntimeError("tesseract could not read the image")
        text = lib.TessBaseAPIGetTsvText(engine.handle, 0)
        try:
            tsv = ctypes.string_at(text).decode("utf-8", "replace")
        finally:
            lib.TessDeleteText(text)
    finally:
        lib.TessBaseAPIClear(engine.handle)
    return _tsv(tsv)


def _tsv(tsv: str) -> dict:
    """tesseract's TSV (no header row) as pytesseract's DICT output."""
    data: dict[str, list] = {name: [] for name in (*_COLUMNS, *_BOXES, "conf", "text")}
    for row in tsv.splitlines():
        cells = row.split("\t")
        if len(cells) < 12:
            continue
        for name, cell in zip((*_COLUMNS, *_BOXES), cells[:10], strict=True):
            data[name].append(int(cell))
        data["conf"].append(int(float(cells[10])))  # whole, as the program's TSV gives it
        data["text"].append("\t".join(cells[11:]))
    return data
