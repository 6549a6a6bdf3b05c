# Swiss formats whatever the interface language: the same as en (24.11.2026, 1'234.50).
from ..en.formats import *  # noqa: F403
