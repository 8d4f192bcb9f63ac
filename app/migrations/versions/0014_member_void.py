"""dashboard part 2: voided cards, the staff scanner's limits, members found by name

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_members_program_name', 'members', ['program_id', 'name'])
    with op.batch_alter_table('loyalty_rules') as batch:
        batch.add_column(sa.Column('earn_cooldown_minutes', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('earns_per_day', sa.Integer(), nullable=False,
                                   server_default='0'))


def downgrade():
    with op.batch_alter_table('loyalty_rules') as batch:
        batch.drop_column('earns_per_day')
        batch.drop_column('earn_cooldown_minutes')
    op.drop_index('ix_members_program_name', table_name='members')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('voided_at')
