"""A framework-free client for the bexio API (https://docs.bexio.com). See README.md."""

from bexio import errors
from bexio.client import BexioClient
from bexio.events import RequestEvent
from bexio.governor import RateGovernor
from bexio.search import Criterion
from bexio.tokens import StaticToken

__all__ = ["BexioClient", "Criterion", "RateGovernor", "RequestEvent", "StaticToken", "errors"]
__version__ = "1.0.0"
