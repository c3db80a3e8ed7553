"""Reading ESC/POS bytes back in tests: the raster images (GS v 0) stacked into one picture, and the cut."""

from __future__ import annotations

from PIL import Image

GS_V0 = b"\x1dv0"
CUT = b"\x1dV"
INIT = b"\x1b@"


def raster_blocks(data: bytes) -> list[tuple[int, Image.Image]]:
    """Every GS v 0 block as (offset, 1-bit image); the data of a block is skipped, never searched."""
    blocks = []
    pos = data.find(GS_V0)
    while pos != -1:
        width_bytes = data[pos + 4] | data[pos + 5] << 8
        height = data[pos + 6] | data[pos + 7] << 8
        start = pos + 8
        end = start + width_bytes * height
        assert end <= len(data), "raster block runs past the end of the job"
        # ESC/POS: bit set = dot burned (black); PIL "1" raw: bit set = white. Invert while decoding.
        image = Image.frombytes("1", (width_bytes * 8, height), data[start:end], "raw", "1;I")
        blocks.append((pos, image))
        pos = data.find(GS_V0, end)
    return blocks


def decode(data: bytes) -> Image.Image:
    """The printed picture: all raster blocks of a job stacked top to bottom."""
    blocks = [image for _, image in raster_blocks(data)]
    assert blocks, "no GS v 0 raster image in the job"
    assert len({b.width for b in blocks}) == 1, "raster bands of different widths"
    out = Image.new("1", (blocks[0].width, sum(b.height for b in blocks)), 1)
    y = 0
    for block in blocks:
        out.paste(block, (0, y))
        y += block.height
    return out


def ink(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> int:
    """Number of black dots (in ``box`` if given)."""
    region = image.crop(box) if box else image
    return region.convert("L").histogram()[0]


def cut_after_image(data: bytes) -> bool:
    """A cut command (GS V) comes after the last raster block."""
    blocks = raster_blocks(data)
    if not blocks:
        return False
    last_pos, last = blocks[-1]
    after = last_pos + 8 + (last.width // 8) * last.height
    return CUT in data[after:]
