"""The ranges the dashboard's controls allow, enforced by the layout and by the server alike.

A crafted request can carry any number; the callbacks clamp to these so nobody can ask the
server for a 200×200 grid (a 20000-pixel matplotlib canvas).
"""

GRID_SIDES = (1, 6)
SIZE_LIMITS = (0, 128)
DEFAULT_GRID = (3, 3)
DEFAULT_LIMIT = 15  # the article's limit_size_layer


def clamp(value, bounds: tuple[int, int], default: int) -> int:
    """``value`` as an int within ``bounds``; ``default`` when it is missing or not a number."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    low, high = bounds
    return min(high, max(low, number))
