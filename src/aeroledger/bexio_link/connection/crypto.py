"""Tokens at rest: MultiFernet over settings.AEROLEDGER_FERNET_KEYS (newest first).

To rotate: put a new key in front of the list (`AEROLEDGER_FERNET_KEYS=new,old`), restart, run
`aeroledger rotate_fernet_key`, then drop the old key. See that command's help.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "rotate"]

_cache: dict[tuple[str, ...], MultiFernet] = {}


def _fernet() -> MultiFernet:
    keys = tuple(settings.AEROLEDGER_FERNET_KEYS)
    if not keys:
        raise ImproperlyConfigured("AEROLEDGER_FERNET_KEYS is empty")
    if keys not in _cache:
        _cache.clear()
        _cache[keys] = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    return _cache[keys]


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    return _fernet().decrypt(value.encode()).decode()


def rotate(value: str) -> str:
    """Re-encrypt with the newest key (the ciphertext may have been made with any listed key)."""
    return _fernet().rotate(value.encode()).decode()
