"""prompts taken for sending in due order from an index

The dispatcher takes the earliest pending prompts (ORDER BY due_at LIMIT n). With an index on
prompt_state alone the database collected every pending prompt and sorted them for each batch:
about 30 ms a batch with 100 000 prompts due at once, growing with the number due. On
(prompt_state, due_at) it reads the first n in order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 22:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_check_ins_prompt_state_due_at", "check_ins", ["prompt_state", "due_at"])
    op.drop_index("ix_check_ins_prompt_state", table_name="check_ins")


def downgrade() -> None:
    op.create_index("ix_check_ins_prompt_state", "check_ins", ["prompt_state"])
    op.drop_index("ix_check_ins_prompt_state_due_at", table_name="check_ins")
