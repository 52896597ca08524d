"""inspection item legal basis and method

Each inspection item states what it checks against (legal basis) and how (method); both are
public (GET /public/inspection-items). The preloaded postal items get theirs here (an item an
administrator added, or one no longer present, is left as it is).

Revision ID: 9c3e5f7a1b2d
Revises: 7a1c2e3f4b5d
Create Date: 2026-11-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c3e5f7a1b2d"
down_revision: str | None = "7a1c2e3f4b5d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# code → (legal basis, method), in plain Chinese.
PRELOADED: dict[str, tuple[str, str]] = {
    "filing_compliance": (
        "《快递暂行条例》第十八条；《快递末端网点备案暂行规定》",
        "查阅备案信息和备案回执，现场核对网点名称、地址、负责人、服务范围是否与备案一致；"
        "有变更的，核查是否在变更后10日内办理变更备案。",
    ),
    "real_name": (
        "《中华人民共和国反恐怖主义法》第二十条；《快递暂行条例》第二十二条",
        "现场查看收寄流程，抽查近期收寄记录，核对是否查验寄件人身份并登记身份信息。",
    ),
    "acceptance_inspection": (
        "《中华人民共和国反恐怖主义法》第二十条；《快递暂行条例》第五章（快递安全）",
        "现场观察收寄过程，核查是否当面验视内件、对禁寄物品拒收，验视后是否作出验视标识。",
    ),
    "security_equipment": (
        "《快递暂行条例》第五章（快递安全）；《快递市场管理办法》",
        "现场查看安全检查设备和视频监控设备的配备及运行情况，抽查监控录像的保存情况。",
    ),
    "service_quality": (
        "《快递暂行条例》第四章（快递服务）；《快递市场管理办法》",
        "查看服务公示、营业时间和投递情况，抽查用户投诉及处理记录，核对是否按时妥善处理。",
    ),
    "information_security": (
        "《快递暂行条例》第五章（快递安全）；《中华人民共和国个人信息保护法》",
        "检查快递运单及电子数据的保管和销毁措施，核查是否存在出售、泄露用户信息的情况。",
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("inspection_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_basis", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("method", sa.String(length=500), nullable=True))
    item = sa.table(
        "inspection_item",
        sa.column("code", sa.String),
        sa.column("legal_basis", sa.String),
        sa.column("method", sa.String),
    )
    for code, (legal_basis, method) in PRELOADED.items():
        op.execute(
            item.update().where(item.c.code == code).values(legal_basis=legal_basis, method=method)
        )


def downgrade() -> None:
    with op.batch_alter_table("inspection_item", schema=None) as batch_op:
        batch_op.drop_column("method")
        batch_op.drop_column("legal_basis")
