"""OAuth and tokens, under the names the app has always imported (compatibility module).

The code lives in two modules that each do one thing:
- `bexio.oauth`: the authorization server's side (`BexioAuth`, `TokenSet`, PKCE, state, nonce);
- `bexio.tokens`: keeping a token valid (`TokenStore`, `MemoryTokenStore`, `TokenProvider`,
  `StaticToken`), with the refresh sequence and its table of cases in `bexio.refresh`.
"""

from bexio.errors import OAuthError, ReconnectRequired
from bexio.oauth import DEFAULT_ISSUER, PKCE, BexioAuth, TokenSet, new_nonce, new_pkce, new_state
from bexio.tokens import MemoryTokenStore, StaticToken, TokenProvider, TokenStore

__all__ = [
    "DEFAULT_ISSUER",
    "PKCE",
    "BexioAuth",
    "MemoryTokenStore",
    "OAuthError",
    "ReconnectRequired",
    "StaticToken",
    "TokenProvider",
    "TokenSet",
    "TokenStore",
    "new_nonce",
    "new_pkce",
    "new_state",
]
