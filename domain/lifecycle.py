"""The filing state machine (SPEC §3) as one table of (status, action) -> status.

Editing, documents, submission and review act on the revision being worked on (the first filing,
or an open change of a filed outlet); closure, revocation and lapse act on the filing itself.
"""

from domain.errors import InvalidTransition

TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "edit"): "draft",
    ("returned", "edit"): "returned",
    ("draft", "submit"): "submitted",
    ("returned", "submit"): "submitted",
    ("submitted", "accept"): "filed",
    ("submitted", "return"): "returned",
    ("filed", "open_change"): "filed",
    ("filed", "close"): "closed",
    ("filed", "revoke"): "revoked",
    ("filed", "lapse"): "lapsed",
}

ACTION_NAMES = {
    "edit": "修改",
    "submit": "提交",
    "accept": "予以备案",
    "return": "退回补正",
    "open_change": "办理变更",
    "close": "停业",
    "revoke": "撤销",
    "lapse": "失效",
}

STATUS_NAMES = {
    "draft": "草稿",
    "submitted": "已提交",
    "returned": "已退回",
    "filed": "已备案",
    "closed": "已停业",
    "revoked": "已撤销",
    "lapsed": "已失效",
}


def next_status(status: str, action: str) -> str:
    """The status after `action`, or InvalidTransition (409) when the action is not allowed."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        status_name = STATUS_NAMES.get(status, status)
        raise InvalidTransition(
            f"当前状态（{status_name}）下不能{ACTION_NAMES.get(action, action)}",
            current_status=status,
            action=action,
        ) from None
