"""program time zone

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('programs') as batch:
        batch.add_column(sa.Column('timezone', sa.String(length=64), server_default='UTC',
                                   nullable=False))


def downgrade():
    with op.batch_alter_table('programs') as batch:
        batch.drop_column('timezone')
