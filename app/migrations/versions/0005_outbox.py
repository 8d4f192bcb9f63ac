"""outbox events: every outbound event, relayed to webhooks (and e-mail)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('relayed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                                name=op.f('fk_outbox_events_merchant_id_merchants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    )
    op.create_index(op.f('ix_outbox_events_merchant_id'), 'outbox_events', ['merchant_id'])
    op.create_index('ix_outbox_events_pending', 'outbox_events', ['relayed_at', 'id'])


def downgrade():
    op.drop_index('ix_outbox_events_pending', table_name='outbox_events')
    op.drop_index(op.f('ix_outbox_events_merchant_id'), table_name='outbox_events')
    op.drop_table('outbox_events')
