"""The pages' words in Chinese (the default) and English: one table, no catalogue build.

A page asks for a key with ``t("key", **params)``; the language is the request's (``?lang=en``
switches and is remembered in the session). Codes the services return (refusal reasons, scan
kinds, states) have their own tables so a page never shows a raw code when a word exists.
"""

from __future__ import annotations

from flask import g

from cylinder_trace.domain.messages import MESSAGES

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

TEXTS: dict[str, tuple[str, str]] = {
    "app_name": ("气瓶追溯", "Cylinder trace"),
    "switch_language": ("English", "中文"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "logout": ("退出", "Sign out"),
    "nav_station": ("充装扫码", "Station scan"),
    "nav_bureau": ("餐饮用户监管", "Catering review"),
    "nav_customers": ("客户", "Customers"),
    "nav_cylinders": ("气瓶", "Cylinders"),
    "nav_review": ("待审核扫码", "Scans to review"),
    # sign-in
    "login_title": ("登录", "Sign in"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "sign_in": ("登录", "Sign in"),
    "login_failed": ("用户名或密码错误", "Wrong username or password"),
    "login_throttled": (
        "登录失败次数过多，请 {minutes} 分钟后再试",
        "Too many failed sign-ins: try again in {minutes} minutes",
    ),
    "account_inactive": ("此账号已停用，请联系管理员", "This account is deactivated"),
    "signed_out": ("已退出登录", "You are signed out"),
    "login_needed": ("请先登录", "Please sign in"),
    # errors
    "error_title": ("出错了", "Something went wrong"),
    "error_400": ("请求无效", "Bad request"),
    "error_csrf": ("页面已过期，请刷新后重试", "The page has expired: reload it and try again"),
    "error_403": ("您的角色无权查看此页面", "Your role may not see this page"),
    "error_404": ("未找到", "Not found"),
    "error_500": ("服务器错误，请稍后再试", "Server error, please try again later"),
    "back_home": ("返回首页", "Back to the start page"),
    # public cylinder page
    "public_title": ("气瓶信息", "Cylinder information"),
    "code": ("气瓶编码", "Cylinder code"),
    "model": ("型号", "Model"),
    "owner": ("产权单位", "Owner"),
    "filling_station": ("充装单位", "Filling station"),
    "last_fill": ("最近充装", "Last fill"),
    "no_fill": ("暂无充装记录", "No fill recorded"),
    "net_mass": ("充装量", "Net mass"),
    "inspection_due": ("下次检验日期", "Next inspection due"),
    "inspection_valid": ("在检验有效期内", "Inspection valid"),
    "inspection_expired": ("已超过检验日期", "Inspection overdue"),
    "scrap_date": ("报废日期", "Scrap date"),
    "state": ("状态", "State"),
    "public_ok": ("标签真实，气瓶在检验有效期内", "Genuine label; inspection valid"),
    "forged_title": ("标签不是本系统签发", "Label not genuine"),
    "forged_body": (
        "此二维码不是本系统签发的气瓶标签。请勿使用、充装或购买此气瓶，并向当地燃气主管部门报告。",
        "This QR code is not a label issued by this system. Do not use, fill or buy this "
        "cylinder; report it to the local gas authority.",
    ),
    "warn_inspection_overdue": (
        "已超过定期检验日期，禁止使用和充装",
        "Periodic inspection overdue: do not use or fill",
    ),
    "warn_past_scrap_date": (
        "已超过报废日期，必须报废",
        "Past its scrap date: it must be scrapped",
    ),
    "warn_scrapped": ("此气瓶已报废，禁止使用", "This cylinder is scrapped: do not use it"),
    "warn_stopped": ("此气瓶已停用（召回），禁止使用", "This cylinder is stopped (recalled)"),
    "warn_lost": ("此气瓶已报失", "This cylinder was reported lost"),
    "warn_overfilled": ("此气瓶超装，不得出站", "Overfilled: it may not leave the station"),
    "public_note": (
        "本页面由气瓶追溯系统提供，仅显示气瓶信息，不含个人信息。",
        "Shown by the cylinder traceability system: cylinder facts only, no personal data.",
    ),
    # station page
    "station_title": ("充装前检查", "Pre-fill check"),
    "scan_prompt": (
        "扫描气瓶二维码或输入气瓶编码，按回车",
        "Scan the cylinder's QR code or type its code, then Enter",
    ),
    "scan_field": ("扫码", "Scan"),
    "check": ("检查", "Check"),
    "fill_allowed": ("可以充装", "May be filled"),
    "fill_refused": ("禁止充装", "Do not fill"),
    "waiting": ("等待扫码…", "Waiting for a scan…"),
    "today_checks": ("今日检查（本机最近 {n} 条）", "Today's checks (last {n} here)"),
    "today_counts": (
        "今日已检查 {total} 次：可以充装 {ok}，禁止充装 {refused}",
        "Checked {total} today: {ok} may be filled, {refused} refused",
    ),
    "today_fills": ("今日本站充装记录", "Fills recorded at this station today"),
    "time": ("时间", "Time"),
    "scanned": ("扫码内容", "Scanned"),
    "result": ("结果", "Result"),
    "reasons": ("原因", "Reasons"),
    "none_yet": ("暂无", "None yet"),
    "station_only": (
        "只有充装站的充装工可以使用此页面",
        "Only a filling station's operators use this page",
    ),
    # bureau dashboard
    "bureau_title": ("餐饮用户安全检查", "Catering users' safety checks"),
    "week": ("本周", "This week"),
    "as_of": ("统计时间", "As of"),
    "catering_users": ("餐饮用户", "Catering users"),
    "check_rate": ("本周检查率", "Check rate this week"),
    "users_with_hazards": ("有隐患用户", "Users with hazards"),
    "open_hazards": ("未整改隐患", "Open hazards"),
    "overdue_hazards": ("逾期未整改", "Past deadline"),
    "by_company": ("按供气企业", "By supplier company"),
    "by_district": ("按区县", "By district"),
    "company": ("供气企业", "Company"),
    "district": ("区县", "District"),
    "users_list": ("用户列表", "Users"),
    "name": ("名称", "Name"),
    "status": ("检查状态", "Check status"),
    "last_check": ("最近检查", "Last check"),
    "never": ("从未", "Never"),
    "hazards": ("隐患", "Hazards"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "All"),
    "search_name": ("名称包含", "Name contains"),
    "hazard_filter": ("隐患", "Hazards"),
    "hazard_none": ("无", "None"),
    "hazard_open": ("有未整改", "Open"),
    "hazard_past_deadline": ("有逾期", "Past deadline"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "export_xlsx": ("导出 Excel", "Export Excel"),
    "open_hazard_list": ("未整改隐患（最近）", "Open hazards (latest)"),
    "deadline": ("整改期限", "Deadline"),
    "item": ("检查项", "Item"),
    "note": ("备注", "Note"),
    "past_deadline": ("已逾期", "Past deadline"),
    "page_of": ("第 {page} / {pages} 页，共 {total} 条", "Page {page} of {pages}, {total} in all"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "user_detail": ("餐饮用户", "Catering user"),
    "address": ("地址", "Address"),
    "responsible_person": ("负责人", "Responsible person"),
    "phone": ("电话", "Phone"),
    "credit_code": ("统一社会信用代码", "Credit code"),
    "equipment": ("安全设施", "Safety equipment"),
    "leak_alarm": ("燃气泄漏报警器", "Gas leak alarm"),
    "metal_hose": ("金属软管", "Metal hose"),
    "self_closing_valve": ("自闭阀", "Self-closing valve"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "unknown": ("未记录", "not recorded"),
    "check_history": ("检查记录", "Check history"),
    "checked_by": ("检查人", "Checked by"),
    "outcome": ("结果", "Outcome"),
    "outcome_completed": ("已检查", "Checked"),
    "outcome_nobody_home": ("无人在场", "Nobody there"),
    "failed_items": ("不合格项", "Failed items"),
    "all_passed": ("全部合格", "All passed"),
    "hazard_history": ("隐患", "Hazards"),
    "opened": ("发现", "Found"),
    "closed": ("已整改", "Closed"),
    "open": ("未整改", "Open"),
    # company pages
    "customers_title": ("客户", "Customers"),
    "kind": ("类别", "Kind"),
    "kind_person": ("个人", "Person"),
    "kind_business": ("单位", "Business"),
    "id_number_masked": ("身份证号（脱敏）", "ID number (masked)"),
    "catering": ("餐饮", "Catering"),
    "active": ("有效", "Active"),
    "inactive": ("已停用", "Inactive"),
    "cylinders_title": ("气瓶", "Cylinders"),
    "search_code": ("编码包含", "Code contains"),
    "flags": ("标记", "Flags"),
    "overdue_only": ("只看超期", "Overdue only"),
    "timeline": ("扫码记录", "Scan timeline"),
    "scan_kind": ("环节", "Step"),
    "site": ("地点", "Place"),
    "review_code": ("复核标记", "Review flag"),
    "flag_cleared": ("标记已撤销", "Flag cleared"),
    "review_title": ("待审核扫码", "Scans waiting for review"),
    "manufactured_on": ("制造日期", "Manufactured"),
    "location": ("当前位置", "Where now"),
    "flag_stopped": ("停用", "stopped"),
    "flag_lost": ("报失", "lost"),
    "flag_overfilled": ("超装", "overfilled"),
    "flag_underfilled": ("欠装", "underfilled"),
    "customer": ("客户", "Customer"),
}

# Refusal and review codes: the domain's one table of them (pages speak Chinese).
REASONS: dict[str, tuple[str, str]] = dict(MESSAGES)

SCAN_KINDS: dict[str, tuple[str, str]] = {
    "register": ("登记", "Registered"),
    "fill": ("充装", "Fill"),
    "dispatch": ("出站", "Dispatch"),
    "store": ("入库", "Stored"),
    "deliver": ("配送交付", "Delivered"),
    "collect": ("回收", "Collected"),
    "receive_empty": ("空瓶回站", "Empty received"),
    "send_for_inspection": ("送检", "Sent for inspection"),
    "inspect": ("检验", "Inspection"),
    "scrap": ("报废", "Scrapped"),
    "report_lost": ("报失", "Reported lost"),
    "stop": ("停用", "Stopped"),
    "release": ("恢复使用", "Released"),
    "reweigh": ("复称", "Reweighed"),
}

STATES: dict[str, tuple[str, str]] = {
    "registered": ("已登记", "Registered"),
    "full_at_station": ("站内满瓶", "Full at station"),
    "in_transit": ("运输中", "In transit"),
    "at_supply_point": ("在供应站", "At supply point"),
    "with_customer": ("在用户处", "With customer"),
    "empty_at_station": ("站内空瓶", "Empty at station"),
    "in_inspection": ("检验中", "In inspection"),
    "scrapped": ("已报废", "Scrapped"),
}

SCAN_RESULTS: dict[str, tuple[str, str]] = {
    "accepted": ("通过", "Accepted"),
    "accepted_with_violation": ("已记录，违规待审", "Kept, flagged"),
    "rejected": ("已拒绝", "Refused"),
}

CHECK_STATES: dict[str, tuple[str, str]] = {
    "checked_this_period": ("本周已检查", "Checked this week"),
    "due": ("待检查", "Due"),
    "overdue": ("逾期未检查", "Overdue"),
    "never_checked": ("从未检查", "Never checked"),
}

TABLES = {
    "reason": REASONS,
    "scan_kind": SCAN_KINDS,
    "state": STATES,
    "scan_result": SCAN_RESULTS,
    "check_state": CHECK_STATES,
}


def current_language() -> str:
    """The language of this request (set by the blueprint from ``?lang=`` or the session)."""
    return g.get("lang", DEFAULT_LANGUAGE)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGUAGES.index(lang)] if lang in LANGUAGES else pair[0]


def t(key: str, **params: object) -> str:
    """The page text ``key`` in the request's language, with ``{name}`` parameters filled."""
    pair = TEXTS.get(key)
    if pair is None:
        return key  # a missing word shows as its key, visible in review rather than a crash
    text = _pick(pair, current_language())
    return text.format(**params) if params else text


def term(table: str, code: object, fallback: str | None = None) -> str:
    """A service code (reason, scan kind, state...) in words; the fallback or code if unknown."""
    if code is None:
        return ""
    value = getattr(code, "value", code)
    pair = TABLES[table].get(str(value))
    if pair is None:
        return fallback or str(value)
    return _pick(pair, current_language())
