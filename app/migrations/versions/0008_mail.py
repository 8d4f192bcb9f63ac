"""mail: deliveries (one per member, kind and event), suppressions, shared rate limits,
per-program mail switches

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mail_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('event_key', sa.String(length=100), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                                name=op.f('fk_mail_deliveries_member_id_members'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_deliveries')),
        sa.UniqueConstraint('member_id', 'kind', 'event_key',
                            name=op.f('uq_mail_deliveries_member_id')),
    )
    op.create_index(op.f('ix_mail_deliveries_member_id'), 'mail_deliveries', ['member_id'])
    op.create_index('ix_mail_deliveries_due', 'mail_deliveries', ['status', 'next_attempt_at'])
    op.create_table(
        'mail_suppressions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                                name=op.f('fk_mail_suppressions_merchant_id_merchants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_suppressions')),
        sa.UniqueConstraint('merchant_id', 'email',
                            name=op.f('uq_mail_suppressions_merchant_id')),
    )
    op.create_index(op.f('ix_mail_suppressions_merchant_id'), 'mail_suppressions',
                    ['merchant_id'])
    op.create_table(
        'rate_limits',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('next_slot_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_rate_limits')),
    )
    with op.batch_alter_table('programs') as batch:
        batch.add_column(sa.Column('mail_switches', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('programs') as batch:
        batch.drop_column('mail_switches')
    op.drop_table('rate_limits')
    op.drop_index(op.f('ix_mail_suppressions_merchant_id'), table_name='mail_suppressions')
    op.drop_table('mail_suppressions')
    op.drop_index('ix_mail_deliveries_due', table_name='mail_deliveries')
    op.drop_index(op.f('ix_mail_deliveries_member_id'), table_name='mail_deliveries')
    op.drop_table('mail_deliveries')
