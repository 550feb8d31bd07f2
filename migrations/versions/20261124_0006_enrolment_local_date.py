"""the local date of enrolment (day 0), kept when the user changes time zone

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows keep NULL: their day 0 is computed from enrolled_at and the zone, as before.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrolled_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("enrolled_on")
