"""A ticket image → the ESC/POS bytes of one job, made by python-escpos's Dummy printer.

Init (ESC @), the image as raster bit images (GS v 0, in bands a small printer buffer takes), a feed,
and a full cut (GS V). The same bytes go to every transport, so the spool's ``.bin`` is exactly what a
real printer would receive.
"""

from __future__ import annotations

from escpos.printer import Dummy
from PIL import Image

#: Rows per GS v 0 band; cheap 58 mm printers choke on one huge raster block.
BAND_ROWS = 256


def encode_job(image: Image.Image, width: int) -> bytes:
    """ESC/POS bytes printing ``image`` (exactly ``width`` dots wide) and cutting the paper."""
    if image.width != width:
        raise ValueError(f"ticket image is {image.width} dots wide, the paper takes {width}")
    printer = Dummy()
    data = dict(printer.profile.profile_data)
    data["media"] = {"dpi": 203, "width": {"mm": round(width / 8), "pixels": width}}
    printer.profile.profile_data = data  # this instance only: the profile classes are shared
    printer.hw("INIT")
    for top in range(0, image.height, BAND_ROWS):  # banded here: python-escpos would convert the whole image first
        band = image.crop((0, top, width, min(top + BAND_ROWS, image.height)))
        printer.image(band, impl="bitImageRaster", fragment_height=BAND_ROWS)
    printer.cut(mode="FULL", feed=True)
    return printer.output
