"""bexio-sandbox: a local stand-in for bexio (auth.bexio.com realm + api.bexio.com), not bexio."""

__version__ = "0.1.0"
