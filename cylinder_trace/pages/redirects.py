"""Where the sign-in page may send a user afterwards: only to one of the pages, by its path.

``next`` is written by whoever made the link, so it is held to an allowlist rather than
searched for known tricks: a path of plain URL characters that names a page of this blueprint
(which rules out every host, scheme, ``//``, backslash, whitespace, control character,
percent-encoded path and look-alike character), then an optional query of URL characters.
Anything else is refused, and the user goes to their start page.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_from_bytes

from flask import Request, current_app
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

MAX_NEXT_LENGTH = 2048
# RFC 3986 path characters without percent-encoding (no page path needs it), and query
# characters with it: printable ASCII without space, quotes, backslash, "#", "<>", "^{|}`".
PATH_SAFE = "/-._~!$&'()*+,;=:@"
QUERY_SAFE = PATH_SAFE + "?%"
_NEXT = re.compile(
    r"/(?!/)[A-Za-z0-9" + re.escape(PATH_SAFE) + r"]*"
    r"(?:\?[A-Za-z0-9" + re.escape(QUERY_SAFE) + r"]*)?"
)
# Pages that make no sense to come back to (or cannot be opened with a GET).
NOT_A_DESTINATION = frozenset({"pages.login", "pages.logout", "pages.static"})


def safe_next(target: object) -> str | None:
    """``target`` if it is an on-site path to one of the pages, else None."""
    if not isinstance(target, str) or len(target) > MAX_NEXT_LENGTH:
        return None
    if not _NEXT.fullmatch(target):
        return None
    path = target.partition("?")[0]
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(path, method="GET")
    except (HTTPException, RoutingException):
        # No such page, not a GET, or a redirect to another path: none of them goes back.
        return None
    if not isinstance(endpoint, str) or not endpoint.startswith("pages."):
        return None
    if endpoint in NOT_A_DESTINATION:
        return None
    return target


def next_of(request: Request) -> str:
    """This request's path and query as a ``next`` that ``safe_next`` accepts back.

    The path is quoted like a browser would (a page path is plain ASCII, so nothing
    changes), the query keeps its encoding and quotes whatever raw byte a client sent.
    """
    path = quote(request.path, safe=PATH_SAFE)
    query = quote_from_bytes(request.query_string, safe=QUERY_SAFE)
    return f"{path}?{query}" if query else path
