"""What a violated database constraint means to a client: one table, in the web layer.

Services check these rules first, with friendlier words; the database's UNIQUE and CHECK
constraints are the backstop for two requests racing. When one fires, the error handler
(``web.errors``) answers with the code and message named here instead of a bare 409.
``tests/web/test_constraints.py`` holds every name to a constraint the models define.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Constraint name -> (code, message).
CONSTRAINT_ERRORS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "uq_users_username": ("username_taken", "That username is taken."),
        "uq_devices_serial_no": ("device_serial_taken", "A device with that serial is registered."),
        "uq_organisations_parent_id_name": (
            "organisation_name_taken",
            "The company already has a site of that name.",
        ),
        "uq_organisations_top_level_kind_name": (
            "organisation_name_taken",
            "An organisation of that kind and name already exists.",
        ),
        "uq_cylinders_code": ("cylinder_code_taken", "That cylinder code is already registered."),
        "uq_cylinders_manufacturer_serial_no": (
            "cylinder_serial_taken",
            "A cylinder with that manufacturer and serial number is already registered.",
        ),
        "uq_customers_company_person_id_number": (
            "customer_already_registered",
            "This person is already a customer of the company.",
        ),
        "uq_customers_company_id_credit_code": (
            "customer_already_registered",
            "This business is already a customer of the company.",
        ),
        "uq_customers_card_code": ("customer_card_code_taken", "Card code clash; try again."),
        "uq_catering_hazards_open_item": (
            "hazard_already_open",
            "This item already has an open hazard for the catering user; try again.",
        ),
        "uq_catering_check_files_check_id_kind_position": (
            "check_file_position_taken",
            "Two files of a check have the same place.",
        ),
    }
)
