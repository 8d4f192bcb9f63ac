"""analytics: card install/remove log (backfilled from today's registrations and Google
saves), the value of a point, indexes for the analytics queries

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'card_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('wallet', sa.String(length=8), nullable=False),
        sa.Column('event', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                                name=op.f('fk_card_events_member_id_members'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['program_id'], ['programs.id'],
                                name=op.f('fk_card_events_program_id_programs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_events')),
    )
    op.create_index('ix_card_events_program_created', 'card_events',
                    ['program_id', 'created_at'])
    op.create_index(op.f('ix_card_events_member_id'), 'card_events', ['member_id'])
    # what is known today: installs of the registrations still held, Google saves/removals
    op.execute(
        "INSERT INTO card_events (program_id, member_id, wallet, event, created_at) "
        "SELECT m.program_id, r.member_id, 'apple', 'install', r.created_at "
        "FROM apple_registrations r JOIN members m ON m.id = r.member_id")
    op.execute(
        "INSERT INTO card_events (program_id, member_id, wallet, event, created_at) "
        "SELECT m.program_id, g.member_id, 'google', 'install', g.saved_at "
        "FROM google_objects g JOIN members m ON m.id = g.member_id "
        "WHERE g.saved_at IS NOT NULL")
    op.execute(
        "INSERT INTO card_events (program_id, member_id, wallet, event, created_at) "
        "SELECT m.program_id, g.member_id, 'google', 'remove', g.removed_at "
        "FROM google_objects g JOIN members m ON m.id = g.member_id "
        "WHERE g.removed_at IS NOT NULL")
    # the analytics read ranges of time: entries by day (then their member), members by
    # program and signup time
    op.create_index('ix_ledger_entries_created_member', 'ledger_entries',
                    ['created_at', 'member_id'])
    op.create_index('ix_members_program_created', 'members', ['program_id', 'created_at'])
    with op.batch_alter_table('loyalty_rules') as batch:
        batch.add_column(sa.Column('point_value', sa.Numeric(precision=12, scale=4),
                                   nullable=True))


def downgrade():
    with op.batch_alter_table('loyalty_rules') as batch:
        batch.drop_column('point_value')
    op.drop_index('ix_members_program_created', table_name='members')
    op.drop_index('ix_ledger_entries_created_member', table_name='ledger_entries')
    op.drop_index(op.f('ix_card_events_member_id'), table_name='card_events')
    op.drop_index('ix_card_events_program_created', table_name='card_events')
    op.drop_table('card_events')
