"""Background plates: a reference with its subject removed and the hole filled.

Diffusing the hole's edge colours inward (Telea, Navier-Stokes) smears: a flag beside the
subject becomes a red streak across the plate, a shadow a dark fan. So the hole is filled
with the picture's own surroundings, copied: a patch-based completion (Wexler et al.'s
expectation-maximisation over a PatchMatch nearest-neighbour field, coarse to fine) picks,
for every pixel of the hole, an offset to known background whose neighbourhood agrees with
the hole's edge. The field is found at a small size, then applied to the finest level, so
the copied texture is the real picture's at that resolution. Copies from different places
rarely agree in brightness (a backdrop's gradient, a vignette), so they are joined by
seamless cloning: Poisson's equation over the hole with the copies' own gradients and the
picture's pixels at the edge, solved at the search's size; what detail finer than that
leaves at the edge is spread as a smooth membrane. No seam, no patchwork, no streak.
The result is blended into the original through a feathered mask, so
the plate is the untouched photo everywhere outside the hole.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

COARSE_SIDE: Final = 48  # long side of the first nearest-neighbour search
PATCH_SIDE: Final = 192  # long side of the last search; finer levels only apply its field
PATCH: Final = 2  # patch radius of the search (5x5 patches)
EM_ITERATIONS: Final = 3  # search + vote rounds per level
REFINE: Final = 8  # on finer levels the search jumps and jitters at most this far
SEED: Final = 0  # the random search is seeded: the same picture gives the same plate
BLEND_ROWS: Final = 128  # rows per band when a filled box is blended back at full size
_BIG: Final = 1e7  # the error of copying from outside the known background


def fill_background(image: np.ndarray, hole: np.ndarray, finest_side: int = 1024) -> np.ndarray:
    """The RGB uint8 ``image`` with the pixels of ``hole`` (bool, any size) filled in.

    ``finest_side`` bounds the long side at which the fill is computed; above it the fill
    is scaled up (a filled hole has no fine detail to lose).
    """
    height, width = image.shape[:2]
    if not hole.any():
        return image.copy()
    long_side = max(height, width)
    finest_scale = min(1.0, finest_side / long_side)
    size = (max(1, round(width * finest_scale)), max(1, round(height * finest_scale)))
    finest = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if finest_scale < 1 else image
    finest_hole = _hole_at(hole, size)
    found = _offsets(finest, finest_hole)
    if found is None:  # hardly any background to copy from: diffuse it instead
        filled = cv2.inpaint(finest, finest_hole.astype(np.uint8) * 255, 4, cv2.INPAINT_TELEA)
    else:
        # The field's blocks at this size: neighbours half a block apart cross-fade the seams.
        block = max(size) / min(PATCH_SIDE, max(size))
        filled = _apply(finest, finest_hole, *found, min(PATCH + 1, max(1, round(block / 2))))
    return _blend(image, finest_hole, filled)


def _hole_at(hole: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The hole at another size: a pixel touched by it at all is unknown."""
    if size == hole.shape[1::-1]:
        return hole.copy()
    shrinking = size[0] < hole.shape[1]
    return cv2.resize(hole.astype(np.float32), size,
                      interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR) > 0.01


def _sources(hole: np.ndarray) -> np.ndarray:
    """Where a copied patch may come from: its whole 5x5 patch known, with a pixel to spare."""
    reach = 2 * (PATCH + 1) + 1
    known = cv2.dilate(hole.astype(np.uint8), np.ones((reach, reach), np.uint8)) == 0
    known[:PATCH], known[-PATCH:], known[:, :PATCH], known[:, -PATCH:] = False, False, False, False
    return known


def _offsets(finest: np.ndarray, finest_hole: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray] | None:
    """The nearest-neighbour field (dy, dx) and the copies' seamless correction (RGB) at the
    finest level's size, or None without sources."""
    height, width = finest_hole.shape
    long_side = max(height, width)
    sides = [min(COARSE_SIDE, long_side)]
    while sides[-1] * 2 < min(PATCH_SIDE, long_side):
        sides.append(sides[-1] * 2)
    if sides[-1] < min(PATCH_SIDE, long_side):
        sides.append(min(PATCH_SIDE, long_side))
    rng = np.random.default_rng(SEED)
    field: tuple[np.ndarray, np.ndarray] | None = None
    estimate: np.ndarray | None = None
    for side in sides:
        scale = side / long_side
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        level = cv2.resize(finest, size, interpolation=cv2.INTER_AREA).astype(np.float32) \
            if size != (width, height) else finest.astype(np.float32)
        level_hole = _hole_at(finest_hole, size)
        sources = _sources(level_hole)
        if sources.sum() < 16:
            return None
        if field is None:
            field = _random_field(level_hole, sources, rng)
            level[level_hole] = _membrane(level * ~level_hole[:, :, None], ~level_hole)[level_hole]
        else:
            field = _scale_field(field, size)
            assert estimate is not None
            level[level_hole] = cv2.resize(estimate, size, interpolation=cv2.INTER_LINEAR)[level_hole]
        target = cv2.dilate(level_hole.astype(np.uint8), np.ones((2 * PATCH + 1,) * 2, np.uint8)) > 0
        first = estimate is None
        for _ in range(EM_ITERATIONS if first else EM_ITERATIONS - 1):
            # The first level's random field is incoherent: only exact patch costs can judge it.
            # A field scaled up from there is coherent: it is only refined nearby.
            field = _search(level, target, sources, field, rng, exact=first, reach=None if first else REFINE)
            level[level_hole] = _vote(level, level_hole, field, sources)
        estimate = level
    assert field is not None and estimate is not None
    correction = _seamless(estimate, level_hole, field, sources)
    return _scale_field(field, (width, height)), cv2.resize(correction, (width, height),
                                                            interpolation=cv2.INTER_LINEAR)


def _seamless(level: np.ndarray, hole: np.ndarray, field: tuple[np.ndarray, np.ndarray],
              sources: np.ndarray) -> np.ndarray:
    """What to add to the field's copies so they join each other and the edge with no seam.

    Copies from different places rarely agree in brightness or tint (a smooth backdrop's
    gradient, a vignette): side by side they show as a patchwork. Solving Poisson's equation
    over the hole with the copies' own gradients (each taken inside its source, never across
    a seam) and the picture's pixels at the edge keeps every copy's texture and spreads the
    mismatch smoothly (seamless cloning, done once at the search's size, where the hole is a
    few thousand pixels).
    """
    height, width = hole.shape
    ys, xs = np.nonzero(hole)
    count = len(ys)
    index = np.full(hole.shape, -1, np.int64)
    index[ys, xs] = np.arange(count)
    source_y, source_x = ys + field[0][ys, xs], xs + field[1][ys, xs]
    valid = (source_y >= 1) & (source_y < height - 1) & (source_x >= 1) & (source_x < width - 1)
    valid[valid] = sources[source_y[valid], source_x[valid]]
    source_y, source_x = np.where(valid, source_y, ys), np.where(valid, source_x, xs)
    copy = np.where(valid[:, None], level[source_y, source_x], level[ys, xs])
    rows, cols = [np.arange(count)], [np.arange(count)]
    diagonal = np.zeros(count)
    right = np.zeros((count, level.shape[2]))
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
        ny, nx = np.where(inside, ny, ys), np.where(inside, nx, xs)
        diagonal += inside
        neighbour = index[ny, nx]
        unknown = inside & (neighbour >= 0)
        # The wanted difference to the neighbour, taken inside this pixel's own source and
        # inside the neighbour's, averaged (one value per pair: the guidance stays a gradient).
        mine = copy - np.where(valid[:, None], level[np.clip(source_y + dy, 0, height - 1),
                                                     np.clip(source_x + dx, 0, width - 1)], level[ny, nx])
        other = np.where(unknown, neighbour, 0)
        theirs = level[np.clip(source_y[other] - dy, 0, height - 1), np.clip(source_x[other] - dx, 0, width - 1)] \
            - copy[other]
        theirs = np.where((unknown & valid[other])[:, None], theirs, mine)
        right += np.where(inside[:, None], (mine + theirs) / 2, 0)
        rows.append(np.nonzero(unknown)[0])
        cols.append(neighbour[unknown])
        known = inside & (neighbour < 0)
        right[known] += level[ny[known], nx[known]]
    # Imported here: scipy costs 0.2 s of start-up, and renders without a cut-out never fill.
    from scipy import sparse
    from scipy.sparse.linalg import splu

    values = np.concatenate([diagonal] + [-np.ones(len(r)) for r in rows[1:]])
    matrix = sparse.csc_matrix((values, (np.concatenate(rows), np.concatenate(cols))), shape=(count, count))
    # The matrix is a symmetric grid Laplacian: a symmetric ordering, no pivoting (~40% faster).
    solved = splu(matrix, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0,
                  options={"SymmetricMode": True}).solve(right)
    correction = np.zeros(level.shape, np.float32)
    correction[ys, xs] = solved - copy
    return correction


def _random_field(hole: np.ndarray, sources: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel copies from a random source (the search and the smooth first estimate decide)."""
    sy, sx = np.nonzero(sources)
    pick = rng.integers(0, len(sy), hole.shape)
    yy, xx = np.indices(hole.shape)
    return (sy[pick] - yy).astype(np.int32), (sx[pick] - xx).astype(np.int32)


def _scale_field(field: tuple[np.ndarray, np.ndarray], size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The field at another size: each offset scaled with the picture."""
    dy, dx = field
    fy, fx = size[1] / dy.shape[0], size[0] / dy.shape[1]
    scaled = []
    for values, factor in ((dy, fy), (dx, fx)):
        big = cv2.resize(values.astype(np.float32), size, interpolation=cv2.INTER_NEAREST)
        scaled.append(np.rint(big * factor).astype(np.int32))
    return scaled[0], scaled[1]


def _errors(level: np.ndarray, target: np.ndarray, pixels: tuple[np.ndarray, np.ndarray], sources: np.ndarray,
            dy: np.ndarray, dx: np.ndarray, colours: np.ndarray | None = None) -> np.ndarray:
    """Each target pixel's squared colour distance to its copy (0 off the target, _BIG off the sources).

    ``colours``: ``level`` at ``pixels``, when the caller has them (the same for every candidate).
    """
    height, width = target.shape
    ys, xs = pixels
    sy, sx = ys + dy[ys, xs], xs + dx[ys, xs]
    inside = (sy >= 0) & (sy < height) & (sx >= 0) & (sx < width)
    sy, sx = np.where(inside, sy, 0), np.where(inside, sx, 0)
    distance = (((level[ys, xs] if colours is None else colours) - level[sy, sx]) ** 2).sum(axis=1)
    distance[~(inside & sources[sy, sx])] = _BIG
    errors = np.zeros(target.shape, np.float32)
    errors[ys, xs] = distance
    return errors


def _patches(level: np.ndarray) -> np.ndarray:
    """Every pixel's (2 PATCH + 1)² RGB patch as one row (the picture's edge reflected)."""
    side = 2 * PATCH + 1
    padded = cv2.copyMakeBorder(level, PATCH, PATCH, PATCH, PATCH, cv2.BORDER_REFLECT)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (side, side), axis=(0, 1))
    return np.ascontiguousarray(windows.reshape(level.shape[0] * level.shape[1], -1))


def _exact_cost(patches: np.ndarray, mine: np.ndarray, target: np.ndarray, pixels: tuple[np.ndarray, np.ndarray],
                sources: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Each target pixel's patch distance to the patch its own offset points at (_BIG off the sources).

    ``patches`` are :func:`_patches` of the level, ``mine`` the target pixels' rows of it.
    """
    height, width = target.shape
    ys, xs = pixels
    cy, cx = ys + dy[ys, xs], xs + dx[ys, xs]
    valid = (cy >= 0) & (cy < height) & (cx >= 0) & (cx < width)
    cy, cx = np.where(valid, cy, 0), np.where(valid, cx, 0)
    valid &= sources[cy, cx]
    difference = mine - patches[np.where(valid, cy * width + cx, 0)]
    total = np.einsum("ij,ij->i", difference, difference)
    total[~valid] = _BIG
    cost = np.full(target.shape, _BIG, np.float32)
    cost[ys, xs] = total
    return cost


def _patch_cost(errors: np.ndarray) -> np.ndarray:
    side = 2 * PATCH + 1
    return cv2.boxFilter(errors, -1, (side, side), normalize=False, borderType=cv2.BORDER_CONSTANT)


def _search(level: np.ndarray, target: np.ndarray, sources: np.ndarray,
            field: tuple[np.ndarray, np.ndarray], rng: np.random.Generator,
            exact: bool, reach: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One PatchMatch pass: neighbours' offsets (jump flooding), then random offsets nearby.

    A patch's cost is the box sum of its pixels' errors under their own offsets: exact where
    the field is coherent, which is what the search converges to. Every candidate is a whole
    field (shifted, or jittered per 4x4 tile), so each costs one gather and two box sums.
    ``reach`` bounds the jumps and jitters (a field scaled up from a coarser level is only
    touched up).
    """
    dy, dx = field[0].copy(), field[1].copy()
    target_y, target_x = np.nonzero(target)
    pixels = (target_y, target_x)
    if exact:
        patches = _patches(level)
        mine = patches[target_y * target.shape[1] + target_x]
        cost = _exact_cost(patches, mine, target, pixels, sources, dy, dx)
    else:
        colours = level[target_y, target_x]
        errors = _errors(level, target, pixels, sources, dy, dx, colours)
        cost = _patch_cost(errors)
    height, width = target.shape
    candidates: list[tuple[np.ndarray, np.ndarray]] = []
    step = 1
    while step * 2 < (reach or max(height, width) / 4):
        step *= 2
    while step >= 1:
        for oy, ox in ((step, 0), (-step, 0), (0, step), (0, -step)):
            candidates.append((np.roll(dy, (oy, ox), axis=(0, 1)), np.roll(dx, (oy, ox), axis=(0, 1))))
        step //= 2
    radius = reach or max(height, width) // 2
    tiles = (-(-height // 4), -(-width // 4))
    while radius >= 1:
        jitter = rng.integers(-radius, radius + 1, (2, *tiles)).repeat(4, axis=1).repeat(4, axis=2)
        candidates.append((dy + jitter[0, :height, :width], dx + jitter[1, :height, :width]))
        radius //= 2
    for cy, cx in candidates:
        if exact:
            candidate_cost = _exact_cost(patches, mine, target, pixels, sources, cy, cx)
            better = (candidate_cost < cost) & target
            dy[better], dx[better], cost[better] = cy[better], cx[better], candidate_cost[better]
            continue
        candidate_errors = _errors(level, target, pixels, sources, cy, cx, colours)
        better = (_patch_cost(candidate_errors) < cost) & target
        dy[better], dx[better] = cy[better], cx[better]
        errors[better] = candidate_errors[better]
        cost = _patch_cost(errors)
    return dy, dx


def _vote(level: np.ndarray, hole: np.ndarray, field: tuple[np.ndarray, np.ndarray],
          sources: np.ndarray, step: int = 1) -> np.ndarray:
    """The hole's colours: each pixel the mean of what its 3x3 neighbours' copies put there.

    ``step`` spaces the neighbours: on the finest level the field is blocks of one offset
    (scaled up), and neighbours half a block away cross-fade the copies at the blocks' seams.
    """
    height, width = hole.shape
    ys, xs = np.nonzero(hole)
    # Whole planes over the hole's box (with the neighbours' margin): one remap per neighbour.
    y0, y1 = max(0, int(ys.min()) - step), min(height, int(ys.max()) + 1 + step)
    x0, x1 = max(0, int(xs.min()) - step), min(width, int(xs.max()) + 1 + step)
    grid_y, grid_x = np.mgrid[y0:y1, x0:x1].astype(np.int32)
    centre_y, centre_x = grid_y + field[0][y0:y1, x0:x1], grid_x + field[1][y0:y1, x0:x1]
    valid = (centre_y >= 0) & (centre_y < height) & (centre_x >= 0) & (centre_x < width)
    valid &= sources[np.clip(centre_y, 0, height - 1), np.clip(centre_x, 0, width - 1)]
    box_h, box_w = valid.shape
    total = np.zeros((box_h, box_w, level.shape[2]), np.float32)
    count = np.zeros((box_h, box_w), np.float32)
    # Whole numbers below 2**24 are exact in float32: shifting the float maps is the same map.
    map_x, map_y, mask = centre_x.astype(np.float32), centre_y.astype(np.float32), valid.view(np.uint8)
    for ey in (-step, 0, step):
        for ex in (-step, 0, step):
            # The neighbour q = p + e copies its patch from its centre's source; p's place in
            # that copy is the source centre - e.
            near = (slice(max(0, ey), box_h + min(0, ey)), slice(max(0, ex), box_w + min(0, ex)))
            here = (slice(max(0, -ey), box_h + min(0, -ey)), slice(max(0, -ex), box_w + min(0, -ex)))
            copy = cv2.remap(level, map_x[near] - np.float32(ex), map_y[near] - np.float32(ey),
                             cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
            # Added where the neighbour copies from known background (the same sums as adding
            # copy x 0 or 1, without the product): OpenCV writes into the view in place.
            cv2.accumulate(copy, total[here], mask=mask[near])
            count[here] += valid[near]
    ys, xs = ys - y0, xs - x0
    votes = count[ys, xs]
    # No neighbour copies from known background: the current colour stays.
    colours = np.where(votes[:, None] > 0, total[ys, xs] / np.maximum(votes, 1)[:, None], level[ys + y0, xs + x0])
    return colours.astype(np.float32)


def _apply(finest: np.ndarray, hole: np.ndarray, field: tuple[np.ndarray, np.ndarray], seamless: np.ndarray,
           step: int) -> np.ndarray:
    """The finest level's fill: the field's copies of the real pixels, made seamless.

    ``seamless`` (the search level's correction, scaled up) joins the copies; what is left
    of the mismatch at the edge (detail finer than the search saw) is spread as a membrane.
    """
    sources = _sources(hole)
    ring = cv2.dilate(hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~hole
    image = finest.astype(np.float32)
    region = hole | ring
    copied = _vote(image, region, field, sources, step)
    ys, xs = np.nonzero(region)
    copied += seamless[ys, xs]
    known = np.zeros(hole.shape, bool)
    on_ring = ring[ys, xs]
    mismatch = np.zeros(image.shape, np.float32)
    mismatch[ys[on_ring], xs[on_ring]] = image[ys[on_ring], xs[on_ring]] - copied[on_ring]
    known[ys[on_ring], xs[on_ring]] = True
    correction = _membrane(mismatch, known)
    out = image.copy()
    inside = ~on_ring
    iy, ix = ys[inside], xs[inside]
    out[iy, ix] = copied[inside] + correction[iy, ix]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _membrane(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """A smooth interpolation of ``values`` from the ``known`` pixels everywhere (push-pull)."""
    weights = known.astype(np.float32)
    sums = values * weights[:, :, None]
    levels: list[tuple[np.ndarray, np.ndarray]] = [(sums, weights)]
    while min(levels[-1][1].shape) > 2:
        s, w = levels[-1]
        size = (max(1, w.shape[1] // 2), max(1, w.shape[0] // 2))
        levels.append((cv2.resize(s, size, interpolation=cv2.INTER_AREA),
                       cv2.resize(w, size, interpolation=cv2.INTER_AREA)))
    s, w = levels[-1]
    result = s / np.maximum(w, 1e-6)[:, :, None]
    for s, w in reversed(levels[:-1]):
        coarse = cv2.resize(result, w.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        own = s / np.maximum(w, 1e-6)[:, :, None]
        trust = np.clip(w * 4, 0, 1)[:, :, None]  # a level's own average where it has enough data
        # trust * own + (1 - trust) * coarse, in place (the same products and sum)
        own *= trust
        coarse *= 1 - trust
        own += coarse
        result = own
    return result


def _blend(image: np.ndarray, hole: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """The original outside the hole, the fill inside, through a soft seam at the edge.

    ``hole`` and ``filled`` are at the fill's size; only the hole's bounding box is scaled
    up and blended, so a 12 MP picture costs little more than a copy.
    """
    height, width = image.shape[:2]
    small_h, small_w = hole.shape
    weight = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 1.0)
    weight = np.maximum(weight, hole.astype(np.float32))  # the hole itself is always filled
    ys, xs = np.nonzero(weight > 1 / 255)
    plate = image.copy()
    if not len(ys):
        return plate
    sx, sy = width / small_w, height / small_h
    # The box in fill pixels (one pixel of margin for the interpolation), then in image pixels.
    fx0, fy0 = max(0, int(xs.min()) - 1), max(0, int(ys.min()) - 1)
    fx1, fy1 = min(small_w, int(xs.max()) + 2), min(small_h, int(ys.max()) + 2)
    x0, y0 = round(fx0 * sx), round(fy0 * sy)
    x1, y1 = min(width, round(fx1 * sx)), min(height, round(fy1 * sy))
    size = (x1 - x0, y1 - y0)
    if size[0] <= 0 or size[1] <= 0:
        return plate
    patch = cv2.resize(filled[fy0:fy1, fx0:fx1], size, interpolation=cv2.INTER_LINEAR)
    w = cv2.resize(weight[fy0:fy1, fx0:fx1], size, interpolation=cv2.INTER_LINEAR)
    # Blended a band of rows at a time (the same pixels): a whole 12 MP box's 1 - w and result
    # would be two more full-size temporaries (~35 MB) at planning's peak.
    for top in range(0, size[1], BLEND_ROWS):
        rows = slice(top, min(size[1], top + BLEND_ROWS))
        band = w[rows]
        region = plate[y0 + rows.start : y0 + rows.stop, x0:x1]
        region[...] = cv2.blendLinear(patch[rows], region, band, 1 - band)
    return plate
