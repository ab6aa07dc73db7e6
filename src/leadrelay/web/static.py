"""Static files through WhiteNoise."""

from __future__ import annotations

import os

from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFiles(WhiteNoiseMiddleware):
    """WhiteNoise, quiet about a STATIC_ROOT that `collectstatic` has not made.

    With WHITENOISE_USE_FINDERS on, the package's own files are served from
    where they are installed, so the embedded default needs no collect step
    and a missing STATIC_ROOT is normal rather than a mistake. After
    `leadrelay collectstatic`, the collected (hashed) files are served too.
    """

    def add_files(self, root: str, prefix: str | None = None) -> None:
        if self.autorefresh or os.path.isdir(root):
            super().add_files(root, prefix)
