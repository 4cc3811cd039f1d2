"""/api/v1/users"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from cylinder_trace.auth.page_sessions import end_user_sessions
from cylinder_trace.db import get_session
from cylinder_trace.domain.roles import Role
from cylinder_trace.users import services
from cylinder_trace.users.schemas import (
    SessionsEndedSchema,
    UserCreateSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from cylinder_trace.web.api import Blueprint, current_principal, paginate_query

blp = Blueprint("users", __name__, url_prefix="/users", description="People and their roles.")

ADMINS = (Role.SYSTEM_ADMIN, Role.COMPANY_ADMIN)


@blp.route("")
class Users(MethodView):
    @blp.access(*ADMINS)
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """List users

        Company admins see the users of their company and its sites.
        """
        statement = services.filter_users(services.visible_users(current_principal()), filters)
        return paginate_query(get_session(), statement, pagination_parameters)

    @blp.access(*ADMINS)
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a user with one role in one organisation

        The role must fit the organisation (a station operator works at a filling
        station). Company admins may only give company roles in their own company.
        """
        return services.create_user_as(get_session(), current_principal(), data)


@blp.route("/<int:user_id>")
class UserById(MethodView):
    @blp.access(*ADMINS)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id: int) -> Any:
        """Read one user"""
        return services.get_managed_user(get_session(), current_principal(), user_id)

    @blp.access(*ADMINS)
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes: dict[str, Any], user_id: int) -> Any:
        """Change a user's name, phone, role or active flag"""
        session = get_session()
        principal = current_principal()
        user = services.get_managed_user(session, principal, user_id)
        return services.update_user(session, principal, user, changes)


@blp.route("/<int:user_id>/sessions")
class UserSessions(MethodView):
    @blp.access(*ADMINS)
    @blp.response(200, SessionsEndedSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, user_id: int) -> Any:
        """End all of a user's page sessions

        Every browser signed in as the user is signed out at once (a lost phone, a cookie
        that may have been copied). API tokens are not touched: revoke those separately.
        """
        session = get_session()
        user = services.get_managed_user(session, current_principal(), user_id)
        return {"user_id": user.id, "ended": end_user_sessions(session, user)}
