"""What each rule's code says to a person, in Chinese and English: the one table.

Every refusal and review code a scan can get (``history.PRIORITY``) has its sentence here;
a test holds the two together. The API answers in the language of ``Accept-Language``
(English when none is asked for); the pages speak Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

LANGUAGES = ("zh", "en")

MESSAGES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "cylinder_unknown": ("气瓶编码未登记", "This code was never registered."),
        "label_invalid": (
            "标签不是本系统签发",
            "This label was not issued by cylinder-trace: do not fill or use it.",
        ),
        "not_own_cylinder": (
            "不是本企业的气瓶",
            "The cylinder belongs to another gas company.",
        ),
        "site_invalid": (
            "该地点不是本企业的站点。",
            "The site is not one of your company's sites.",
        ),
        "station_required": ("只能在本企业充装站充装", "A fill must happen at a filling station."),
        "outcome_invalid": (
            "结果无效",
            "This kind of scan does not take that outcome.",
        ),
        "cylinder_scrapped": (
            "气瓶已报废",
            "The cylinder is scrapped; its code is revoked.",
        ),
        "cylinder_stopped": (
            "气瓶已停用（召回）",
            "The cylinder is stopped (recalled); it may not be used.",
        ),
        "cylinder_not_stopped": (
            "气瓶未停用",
            "Only a stopped cylinder can be released.",
        ),
        "already_registered": ("该气瓶编码已登记。", "The cylinder code is already registered."),
        "inspection_overdue": (
            "超过定期检验日期，请送检",
            "The periodic inspection is overdue: send it for inspection.",
        ),
        "past_scrap_date": (
            "超过报废日期，必须报废",
            "The cylinder is past its scrap date: it must be scrapped.",
        ),
        "cylinder_lost": (
            "气瓶已报失，请先回站接收",
            "The cylinder is reported lost: receive it at its station first.",
        ),
        "transition_not_allowed": (
            "与气瓶当前状态不符",
            "This step is not allowed from the cylinder's current state.",
        ),
        "overfilled_cannot_dispatch": (
            "超装气瓶不得出站",
            "An overfilled cylinder may not leave the station.",
        ),
        "pre_fill_check_missing": (
            "未做充装前检查",
            "Record the pre-fill check before filling.",
        ),
        "pre_fill_check_failed": (
            "充装前检查不合格",
            "The pre-fill check found a defect: do not fill.",
        ),
        "post_fill_check_failed": ("充装后检查不合格", "The post-fill check found a defect."),
        "buyer_missing": (
            "未填写购买人",
            "A delivery must name the registered buyer.",
        ),
        "buyer_not_registered": (
            "购买人未实名登记",
            "The buyer was not a registered customer of this company when it was delivered.",
        ),
        "buyer_inactive": ("购买人登记已停用", "The buyer's registration is deactivated."),
        "ysp118_indoor_forbidden": (
            "50公斤气瓶不得在建筑物内使用",
            "A YSP118 (50 kg) cylinder may not be delivered into a building (GB 5842-2023) "
            "unless the premises have an outdoor cylinder area.",
        ),
        "scanned_before_registration": (
            "扫描时间早于气瓶登记时间。",
            "The scan is dated before the cylinder was registered.",
        ),
        "location_mismatch": (
            "扫描地点与气瓶已知所在地点不符。",
            "The scan was made at a site other than where the cylinder was known to be.",
        ),
        "tare_mismatch": (
            "充装时的皮重与登记皮重不符。",
            "The tare on the scale differs from the cylinder's registered tare.",
        ),
        "overfilled": (
            "超装：净重超过允许范围。",
            "Overfilled: the net mass is above the tolerance.",
        ),
        "underfilled": (
            "欠装：净重低于允许范围。",
            "Underfilled: the net mass is below the tolerance.",
        ),
        "event_id_conflict": (
            "该 event_id 已用于另一次扫描；未覆盖任何记录。",
            "This event_id was already used for a different scan; nothing was overwritten.",
        ),
    }
)


def message(code: str, language: str = "en") -> str:
    """The sentence for ``code`` in ``language`` ("zh" or "en"); the code itself if unknown."""
    pair = MESSAGES.get(code)
    if pair is None:
        return code.replace("_", " ")
    return pair[0] if language == "zh" else pair[1]
