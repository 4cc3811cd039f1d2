"""What each rule's code says to a person: the one table of codes and their source text.

Every refusal and review code a scan can get (``history.PRIORITY``) has its sentence here;
a test holds the two together. The sentences are English gettext msgids, marked with ``N_``
so that ``pybabel extract`` finds them: the catalogs (cylinder_trace/translations) carry them
in Chinese and English, and the answer is translated where it is built (the API in the
language of ``Accept-Language``, English when none is asked for; the pages in theirs).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# The languages every message (and page) is translated into: each has a catalog.
LANGUAGES = ("zh", "en")


def N_(text: str) -> str:
    """Mark ``text`` for extraction into the catalogs; it is translated where it is shown."""
    return text


MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "cylinder_unknown": N_("This code was never registered."),
        "label_invalid": N_("This label was not issued by cylinder-trace: do not fill or use it."),
        "not_own_cylinder": N_("The cylinder belongs to another gas company."),
        "site_invalid": N_("The site is not one of your company's sites."),
        "station_required": N_("A fill must happen at a filling station."),
        "outcome_invalid": N_("This kind of scan does not take that outcome."),
        "cylinder_scrapped": N_("The cylinder is scrapped; its code is revoked."),
        "cylinder_stopped": N_("The cylinder is stopped (recalled); it may not be used."),
        "cylinder_not_stopped": N_("Only a stopped cylinder can be released."),
        "already_registered": N_("The cylinder code is already registered."),
        "inspection_overdue": N_("The periodic inspection is overdue: send it for inspection."),
        "past_scrap_date": N_("The cylinder is past its scrap date: it must be scrapped."),
        "cylinder_lost": N_("The cylinder is reported lost: receive it at its station first."),
        "transition_not_allowed": N_("This step is not allowed from the cylinder's current state."),
        "overfilled_cannot_dispatch": N_("An overfilled cylinder may not leave the station."),
        "pre_fill_check_missing": N_("Record the pre-fill check before filling."),
        "pre_fill_check_failed": N_("The pre-fill check found a defect: do not fill."),
        "post_fill_check_failed": N_("The post-fill check found a defect."),
        "buyer_missing": N_("A delivery must name the registered buyer."),
        "buyer_not_registered": N_(
            "The buyer was not a registered customer of this company when it was delivered."
        ),
        "buyer_inactive": N_("The buyer's registration is deactivated."),
        "ysp118_indoor_forbidden": N_(
            "A YSP118 (50 kg) cylinder may not be delivered into a building (GB 5842-2023) "
            "unless the premises have an outdoor cylinder area."
        ),
        "scanned_before_registration": N_("The scan is dated before the cylinder was registered."),
        "location_mismatch": N_(
            "The scan was made at a site other than where the cylinder was known to be."
        ),
        "tare_mismatch": N_("The tare on the scale differs from the cylinder's registered tare."),
        "overfilled": N_("Overfilled: the net mass is above the tolerance."),
        "underfilled": N_("Underfilled: the net mass is below the tolerance."),
        "event_id_conflict": N_(
            "This event_id was already used for a different scan; nothing was overwritten."
        ),
    }
)
