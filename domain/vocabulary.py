"""The service's one vocabulary: every fixed set of values, with the Chinese label people see.

Stored as strings (a CHECK constraint built from the enum guards each column), validated by the
schemas, named by the transition tables. A value is written as a bare string nowhere else.
"""

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A string enum whose members carry a Chinese label: `Member = "value", "标签"`."""

    label: str

    def __new__(cls, value: str, label: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        return member

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)


class Role(LabelledEnum):
    OPERATOR = "operator", "开办者"
    REVIEWER = "reviewer", "审核人员"
    INSPECTOR = "inspector", "执法检查人员"
    ADMIN = "admin", "管理人员"


STAFF_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})  # act on filings inside their jurisdiction


class EnterpriseStatus(LabelledEnum):
    PENDING = "pending", "待审核"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


class FilingStatus(LabelledEnum):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    RETURNED = "returned", "已退回"
    FILED = "filed", "已备案"
    CLOSED = "closed", "已停业"
    REVOKED = "revoked", "已撤销"
    LAPSED = "lapsed", "已失效"


class RevisionStatus(LabelledEnum):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    RETURNED = "returned", "已退回"
    FILED = "filed", "已备案"
    SUPERSEDED = "superseded", "已被取代"
    DISCARDED = "discarded", "已作废"


class FilingAction(LabelledEnum):
    """What happens to a filing: the transitions of `domain.lifecycle`, and the other events of
    its history."""

    CREATE = "create", "创建"
    EDIT = "edit", "修改"
    SUBMIT = "submit", "提交"
    ACCEPT = "accept", "予以备案"
    RETURN = "return", "退回补正"
    OPEN_CHANGE = "open_change", "办理变更"
    CLOSE = "close", "停业"
    REVOKE = "revoke", "撤销"
    LAPSE = "lapse", "失效"
    ADD_DOCUMENT = "document", "上传文件"
    REMOVE_DOCUMENT = "document_removed", "删除文件"
    REISSUE = "reissue", "换发回执"


class Decision(LabelledEnum):
    ACCEPT = "accept", "予以备案"
    RETURN = "return", "退回补正"


class ReceiptStatus(LabelledEnum):
    VALID = "valid", "有效"
    SUPERSEDED = "superseded", "已变更"
    CLOSED = "closed", "已停业"
    REVOKED = "revoked", "已撤销"
    LAPSED = "lapsed", "已失效"


class OutletType(LabelledEnum):
    SELF_OPERATED = "self_operated", "自营"
    COOPERATIVE = "cooperative", "合作"


class BusinessScope(LabelledEnum):
    COLLECT = "collect", "收寄"
    DELIVER = "deliver", "投递"


class DocumentKind(LabelledEnum):
    BUSINESS_LICENCE = "business_licence", "营业执照"
    ID_DOCUMENT = "id_document", "负责人身份证明"
    PREMISES_PHOTO = "premises_photo", "场所照片"
    AUTHORISATION_LETTER = "authorisation_letter", "上级企业授权书"
    COOPERATION_AGREEMENT = "cooperation_agreement", "合作协议"
    PREMISES_PROOF = "premises_proof", "场所使用证明"
    OTHER = "other", "其他材料"


class RiskLevel(LabelledEnum):
    LOW = "low", "低风险"
    MEDIUM = "medium", "中风险"
    HIGH = "high", "高风险"


class SamplingMode(LabelledEnum):
    RATE = "rate", "按风险等级比例抽取"
    COUNT = "count", "按数量抽取"


class PlanStatus(LabelledEnum):
    DRAFT = "draft", "草拟"
    ANNOUNCED = "announced", "已公示"
    DRAWN = "drawn", "已抽取"
    CANCELLED = "cancelled", "已取消"


class PlanAction(LabelledEnum):
    ANNOUNCE = "announce", "公示"
    DRAW = "draw", "抽取"
    EDIT = "edit", "修改"
    CANCEL = "cancel", "取消"


class Outcome(LabelledEnum):
    NO_PROBLEM = "no_problem", "未发现问题"
    RECTIFICATION = "rectification", "责令整改"
    CASE_FILED = "case_filed", "立案查处"
    NOT_FOUND = "not_found", "查无此网点"
    REFUSED = "refused", "拒绝检查"


class RegionLevel(LabelledEnum):
    """In hierarchy order: a parent's level comes before its children's."""

    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县区"
    SUBDISTRICT = "subdistrict", "街道"
    TOWNSHIP = "township", "乡镇"


class NoticeBatchKind(StrEnum):
    """The events whose notices are written after their commit, by the worker."""

    INSPECTIONS_DRAWN = "inspections_drawn"  # payload: {"plan_id": …}


class NotificationKind(LabelledEnum):
    """What a notice is about (SPEC §10); `password_reset` only ever goes out by e-mail/SMS."""

    FILING_RETURNED = "filing_returned", "备案退回补正"
    FILING_ACCEPTED = "filing_accepted", "备案通过"
    FILING_REVOKED = "filing_revoked", "备案被撤销"
    FILING_LAPSED = "filing_lapsed", "备案失效"
    ENTERPRISE_APPROVED = "enterprise_approved", "企业登记已批准"
    ENTERPRISE_REJECTED = "enterprise_rejected", "企业登记被驳回"
    REVIEW_DUE_SOON = "review_due_soon", "审核即将到期"
    INSPECTION_NOTICE = "inspection_notice", "抽查通知"
    INSPECTION_RESULT = "inspection_result", "抽查结果"
    RESULT_OVERDUE = "result_overdue", "检查结果逾期未公示"
    PASSWORD_RESET = "password_reset", "重置密码"


class DeliveryChannel(LabelledEnum):
    EMAIL = "email", "电子邮件"
    SMS = "sms", "短信"


class DeliveryStatus(LabelledEnum):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class LicenceStatus(LabelledEnum):
    """The operator's courier licence as a filing shows it (SPEC §4.1)."""

    VALID = "valid", "有效"
    EXPIRED = "expired", "不在有效期内"  # past its end date
    NOT_YET_VALID = "not_yet_valid", "尚未生效"  # before its start date
    UNKNOWN = "unknown", "有效期未知"
    CANCELLED = "cancelled", "已注销"


class ChangeDecision(LabelledEnum):
    """A reviewer's answer to an enterprise's requested change of registration data."""

    ACCEPT = "accept", "同意变更"
    REJECT = "reject", "不予变更"


class FollowUpOutcome(LabelledEnum):
    """The follow-up check (整改复查) of a `rectification` result: it closes the inspection."""

    RECTIFIED = "rectified", "已整改"
    NOT_RECTIFIED = "not_rectified", "未整改"


class CalendarSource(LabelledEnum):
    """Where a year's working-day arrangement came from (SPEC §1)."""

    PACKAGE = "package", "chinese-calendar 软件包"
    ADMIN = "admin", "管理人员导入"


class CalendarDayKind(LabelledEnum):
    """A day a year's arrangement departs from Monday to Friday on."""

    HOLIDAY = "holiday", "放假"
    WORKDAY = "workday", "调休上班"
