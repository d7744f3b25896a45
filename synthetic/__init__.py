"""Synthetic borough generator: the demo, the test fixture and the benchmark load.

No real pupil data can ship with an open-source project, so Pathways makes its own borough,
deterministic for a seed. ``generate(spec, out_dir)`` writes the files; ``BoroughSpec`` holds
every size and share.
"""

from synthetic.files import generate, year_label
from synthetic.spec import BoroughSpec, small_borough

__all__ = ["BoroughSpec", "generate", "small_borough", "year_label"]
