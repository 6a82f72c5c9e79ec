"""The implementation-guide maps pyx12 validates with: its own, plus the 270/271 eligibility maps
(005010X279A1) that pyx12's releases leave out. Those two are pyx12's own map files from its repository
(`data/x12maps/`, BSD licence, provenance in `data/x12maps/PROVENANCE.md`); they are data, read by pyx12 like
the maps it ships. pyx12 reads one map folder, so a folder is assembled once per process: links to every file
pyx12 ships, the two maps, and pyx12's map index with their two entries added."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import xml.etree.ElementTree as et
from importlib.resources import files

ELIGIBILITY = "005010X279A1"
OURS = {"HS": "270.5010.X279.A1.xml", "HB": "271.5010.X279.A1.xml"}


@functools.cache
def map_path() -> str:
    """A folder holding every map pyx12 ships and the eligibility maps, with an index naming them all."""
    shipped = files("pyx12").joinpath("map")
    ours = files("ccmops.billing").joinpath("data", "x12maps")
    folder = tempfile.mkdtemp(prefix="ccmops-x12maps-")
    atexit.register(shutil.rmtree, folder, True)
    for entry in shipped.iterdir():
        if entry.name != "maps.xml" and entry.is_file():
            _place(str(entry), os.path.join(folder, entry.name))
    for name in OURS.values():
        _place(str(ours.joinpath(name)), os.path.join(folder, name))
    index = et.parse(str(shipped.joinpath("maps.xml")))  # noqa: S314 — pyx12's own index, shipped with it
    version = next(v for v in index.getroot().iter("version") if v.get("icvn") == "00501")
    known = {m.get("vriic") + m.get("fic") for m in version.iter("map")}
    for fic, name in OURS.items():
        if ELIGIBILITY + fic not in known:
            entry = et.SubElement(version, "map", vriic=ELIGIBILITY, fic=fic, abbr=name[:3])
            entry.text = name
    index.write(os.path.join(folder, "maps.xml"), encoding="utf-8", xml_declaration=True)
    return folder


def _place(source: str, target: str) -> None:
    try:
        os.symlink(source, target)
    except OSError:  # a file system without links
        shutil.copyfile(source, target)
