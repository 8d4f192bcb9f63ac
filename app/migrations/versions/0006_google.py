"""google wallet classes and objects (delivery state, saves)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'google_classes',
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('inserted', sa.Boolean(), nullable=False),
        sa.Column('delivered_design', sa.Integer(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=64), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['program_id'], ['programs.id'], ondelete='CASCADE',
                                name=op.f('fk_google_classes_program_id_programs')),
        sa.PrimaryKeyConstraint('program_id', name=op.f('pk_google_classes')),
    )
    op.create_table(
        'google_objects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('inserted', sa.Boolean(), nullable=False),
        sa.Column('delivered_version', sa.Integer(), nullable=False),
        sa.Column('body_hash', sa.String(length=64), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=64), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('milestones', sa.JSON(), nullable=True),
        sa.Column('notified_at', sa.JSON(), nullable=False),
        sa.Column('messages', sa.JSON(), nullable=False),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE',
                                name=op.f('fk_google_objects_member_id_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_google_objects')),
        sa.UniqueConstraint('member_id', name=op.f('uq_google_objects_member_id')),
    )
    op.create_index(op.f('ix_google_objects_next_attempt_at'), 'google_objects',
                    ['next_attempt_at'])
    op.create_table(
        'google_callbacks',
        sa.Column('nonce', sa.String(length=200), nullable=False),
        sa.Column('event_type', sa.String(length=8), nullable=False),
        sa.Column('object_id', sa.String(length=300), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('nonce', name=op.f('pk_google_callbacks')),
    )
    op.create_table(
        'google_quota',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('next_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_google_quota')),
    )


def downgrade():
    op.drop_table('google_quota')
    op.drop_table('google_callbacks')
    op.drop_index(op.f('ix_google_objects_next_attempt_at'), table_name='google_objects')
    op.drop_table('google_objects')
    op.drop_table('google_classes')
