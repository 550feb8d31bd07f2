"""clinical spec v2: intake facts, the day's session answers, function checks

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_users = sa.table(
    "users",
    sa.column("injury", sa.String()),
    sa.column("mechanism", sa.String()),
    sa.column("walking", sa.String()),
    sa.column("previous_injury", sa.Boolean()),
    sa.column("goal", sa.String()),
)
_red_flag_answers = sa.table(
    "red_flag_answers", sa.column("screening", sa.String()), sa.column("answer", sa.Boolean())
)


def upgrade() -> None:
    # Adding nullable columns is a plain ALTER TABLE on SQLite too (no copy of the table).
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mechanism", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("walking", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("previous_injury", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("goal", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("activity", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("function_baseline", sa.Integer(), nullable=True))

    # Users enrolled under version 1 were never asked: they get the defaults of spec section 1.2
    # (no activity, so no function baseline). Users still enrolling will be asked.
    op.execute(
        _users.update()
        .where(_users.c.injury.is_not(None))
        .values(mechanism="other", walking="normal", previous_injury=False, goal="everyday")
    )

    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exercise_pain", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("function_score", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("seen", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    op.create_table(
        "check_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("check_id", sa.String(length=32), nullable=False),
        sa.Column("answer", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_check_answers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_answers")),
        sa.UniqueConstraint(
            "user_id", "day", "check_id", name="uq_check_answers_user_id_day_check_id"
        ),
    )  # fmt: skip
    with op.batch_alter_table("check_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_answers_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    # A yes in the weekly screen, a re-screen or /symptom was a "daily" report under version 1;
    # the no answers stay as they are (version 1 reads no other screening, so it ignores them).
    op.execute(
        _red_flag_answers.update()
        .where(
            _red_flag_answers.c.screening.in_(("weekly", "rescreen", "symptom")),
            _red_flag_answers.c.answer.is_(True),
        )
        .values(screening="daily")
    )
    with op.batch_alter_table("check_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_answers_user_id"))
    op.drop_table("check_answers")
    # recreate="never": SQLite (3.35+) drops a plain column in place. Copying `users` instead
    # would drop the old table, and with foreign keys on that deletes every row about the users
    # (ON DELETE CASCADE).
    with op.batch_alter_table("check_ins", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("seen")
        batch_op.drop_column("function_score")
        batch_op.drop_column("exercise_pain")
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("function_baseline")
        batch_op.drop_column("activity")
        batch_op.drop_column("goal")
        batch_op.drop_column("previous_injury")
        batch_op.drop_column("walking")
        batch_op.drop_column("mechanism")
