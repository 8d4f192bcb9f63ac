"""apple devices and registrations (PassKit web service, APNs delivery state)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'apple_devices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('library_id', sa.String(length=128), nullable=False),
        sa.Column('push_token', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_apple_devices')),
        sa.UniqueConstraint('library_id', name=op.f('uq_apple_devices_library_id')),
    )
    op.create_index(op.f('ix_apple_devices_push_token'), 'apple_devices', ['push_token'])
    op.create_table(
        'apple_registrations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('pushed_version', sa.Integer(), nullable=False),
        sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('push_status', sa.Integer(), nullable=True),
        sa.Column('push_reason', sa.String(length=64), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('listed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('fetched_version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['device_id'], ['apple_devices.id'], ondelete='CASCADE',
                                name=op.f('fk_apple_registrations_device_id_apple_devices')),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE',
                                name=op.f('fk_apple_registrations_member_id_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_apple_registrations')),
        sa.UniqueConstraint('device_id', 'member_id',
                            name=op.f('uq_apple_registrations_device_id')),
    )
    op.create_index(op.f('ix_apple_registrations_device_id'), 'apple_registrations',
                    ['device_id'])
    op.create_index(op.f('ix_apple_registrations_next_attempt_at'), 'apple_registrations',
                    ['next_attempt_at'])
    op.create_index('ix_apple_registrations_pending', 'apple_registrations',
                    ['member_id', 'pushed_version'])


def downgrade():
    op.drop_index('ix_apple_registrations_pending', table_name='apple_registrations')
    op.drop_index(op.f('ix_apple_registrations_next_attempt_at'),
                  table_name='apple_registrations')
    op.drop_index(op.f('ix_apple_registrations_device_id'), table_name='apple_registrations')
    op.drop_table('apple_registrations')
    op.drop_index(op.f('ix_apple_devices_push_token'), table_name='apple_devices')
    op.drop_table('apple_devices')
