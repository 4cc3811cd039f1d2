"""The request and answer sides of lists paged by cursor (``paging``, ``paginate_query``)."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma

from cylinder_trace.paging import CURSOR_MAX, Page
from cylinder_trace.web.bounds import InputSchema


class CursorQuerySchema(InputSchema):
    """The query argument of a list paged by cursor (``paginate_query(keyset=...)``)."""

    after = ma.fields.String(
        validate=ma.validate.Length(min=1, max=CURSOR_MAX),
        metadata={
            "description": "Start after the row this cursor names: the ``next_cursor`` of "
            "the previous page's X-Pagination. As fast on the thousandth page as on the "
            "first, where ``page`` must skip every row before it."
        },
    )


def keyset_metadata(page_params: Any) -> dict[str, Any] | None:
    """X-Pagination of a list paged by ``paginate_query(keyset=...)``; None for others."""
    found: Page | None = getattr(page_params, "keyset_page", None)
    if found is None:
        return None
    metadata: dict[str, Any] = {"total": found.total, "total_exact": found.total_exact}
    if not found.by_cursor:
        page = page_params.page
        if found.total_exact:
            metadata.update(
                flask_smorest.Blueprint._make_pagination_metadata(
                    page, page_params.page_size, found.total
                )
            )
        else:
            metadata.update(first_page=1, page=page)
            if page > 1:
                metadata["previous_page"] = page - 1
            if found.next_cursor is not None:
                metadata["next_page"] = page + 1
    if found.next_cursor is not None:
        metadata["next_cursor"] = found.next_cursor
    return metadata
