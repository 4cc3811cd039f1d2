"""/api/v1/tokens and /api/v1/me"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from cylinder_trace.auth import tokens
from cylinder_trace.auth.schemas import IssuedTokenSchema, MeSchema, TokenCreateSchema, TokenSchema
from cylinder_trace.db import get_session
from cylinder_trace.domain.roles import Role
from cylinder_trace.web.api import DEVICE, Blueprint, current_principal, paginate_query

blp = Blueprint("auth", __name__, description="API tokens and the caller's identity.")

ANYONE_AUTHENTICATED = (*Role, DEVICE)
ADMINS = (Role.SYSTEM_ADMIN, Role.COMPANY_ADMIN)


@blp.route("/me")
class Me(MethodView):
    @blp.access(*ANYONE_AUTHENTICATED)
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """Who the token belongs to, and what it reaches"""
        principal = current_principal()
        return {
            "role": principal.role.value if principal.role else DEVICE,
            "user": principal.user,
            "device": principal.device,
            "organisation": principal.organisation,
            "company_id": principal.company_id,
            "jurisdiction": principal.jurisdiction,
        }


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.access(*Role)
    @blp.response(200, TokenSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters: Any) -> Any:
        """List tokens

        Your own tokens; company admins also see those of their company's users and devices.
        """
        return paginate_query(
            get_session(), tokens.visible_tokens(current_principal()), pagination_parameters
        )

    @blp.access(*ADMINS)
    @blp.arguments(TokenCreateSchema)
    @blp.response(201, IssuedTokenSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any]) -> Any:
        """Issue a token for a user, a device, or a user on a device

        The response carries the token once; only its hash is stored.
        """
        token, secret = tokens.issue_token_as(get_session(), current_principal(), data)
        return {"token": secret, **{name: getattr(token, name) for name in TokenSchema().fields}}


@blp.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @blp.access(*Role)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, token_id: int) -> None:
        """Revoke a token: your own, or one of your company's"""
        session = get_session()
        tokens.revoke_token(
            session, tokens.get_revocable_token(session, current_principal(), token_id)
        )
