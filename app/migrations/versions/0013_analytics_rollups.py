"""analytics rollups: per program and closed local day, points per category, signups per
channel and location, card installs and removals, donations per cause, active members by
gap; each member's milestones; how far each program's rollups reach (the sweep backfills
them on its first run); members by program and tier

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _program(table):
    """The program column of a rollup table, part of its key."""
    return (sa.Column('program_id', sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(['program_id'], ['programs.id'],
                                    name=op.f(f'fk_{table}_program_id_programs'),
                                    ondelete='CASCADE'))


def _daily(table, keys, value, value_type=sa.Integer()):
    """A rollup table keyed by program, day and `keys` (name, type)."""
    column, fk = _program(table)
    op.create_table(
        table, column, sa.Column('day', sa.Integer(), nullable=False),
        *(sa.Column(name, kind, nullable=False) for name, kind in keys),
        sa.Column(value, value_type, nullable=False), fk,
        sa.PrimaryKeyConstraint('program_id', 'day', *(name for name, _ in keys),
                                name=op.f(f'pk_{table}')),
    )


def upgrade():
    column, fk = _program('analytics_state')
    op.create_table(
        'analytics_state', column,
        sa.Column('closed_through', sa.Integer(), nullable=False), fk,
        sa.PrimaryKeyConstraint('program_id', name=op.f('pk_analytics_state')),
    )
    _daily('analytics_daily_points', [('category', sa.String(length=10))], 'points',
           sa.BigInteger())
    _daily('analytics_daily_signups', [('source', sa.String(length=16)),
                                       ('location_id', sa.Integer())], 'members')
    _daily('analytics_daily_cards', [('wallet', sa.String(length=8)),
                                     ('event', sa.String(length=8))], 'cards')
    _daily('analytics_daily_donations', [('cause_id', sa.Integer())], 'points',
           sa.BigInteger())
    _daily('analytics_daily_active', [('gap', sa.Integer())], 'members')
    column, fk = _program('analytics_member_milestones')
    op.create_table(
        'analytics_member_milestones',
        sa.Column('member_id', sa.Integer(), nullable=False), column,
        *(sa.Column(name, sa.Integer(), nullable=True)
          for name in ('signup_day', 'installed_day', 'earned_day', 'redeemed_day',
                       'active_day')),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                                name=op.f('fk_analytics_member_milestones_member_id_members'),
                                ondelete='CASCADE'),
        fk,
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_analytics_member_milestones')),
    )
    op.create_index('ix_analytics_member_milestones_signup', 'analytics_member_milestones',
                    ['program_id', 'signup_day'])
    # the tier chart counts a program's members per tier: from the index alone
    op.create_index('ix_members_program_tier', 'members', ['program_id', 'tier_id'])


def downgrade():
    op.drop_index('ix_members_program_tier', table_name='members')
    op.drop_index('ix_analytics_member_milestones_signup',
                  table_name='analytics_member_milestones')
    for table in ('analytics_member_milestones', 'analytics_daily_active',
                  'analytics_daily_donations', 'analytics_daily_cards',
                  'analytics_daily_signups', 'analytics_daily_points', 'analytics_state'):
        op.drop_table(table)
