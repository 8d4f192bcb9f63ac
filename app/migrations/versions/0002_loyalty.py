"""loyalty: rules, tiers, rewards, causes, points ledger, idempotency, webhooks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

MEMBER_FKS = (('tier_id', 'tiers', 'fk_members_tier_id_tiers'),
              ('referred_by_id', 'members', 'fk_members_referred_by_id_members'))


def upgrade():
    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_idempotency_records_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('merchant_id', 'key', name=op.f('uq_idempotency_records_merchant_id'))
    )
    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_webhooks_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhooks_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('causes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_causes_program_id_programs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_causes'))
    )
    with op.batch_alter_table('causes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_causes_program_id'), ['program_id'], unique=False)

    op.create_table('loyalty_rules',
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('points_per_unit', sa.Numeric(precision=10, scale=4), nullable=False),
    sa.Column('rounding', sa.String(length=8), nullable=False),
    sa.Column('points_per_purchase', sa.Integer(), nullable=False),
    sa.Column('welcome_bonus', sa.Integer(), nullable=False),
    sa.Column('referral_bonus', sa.Integer(), nullable=False),
    sa.Column('birthday_bonus', sa.Integer(), nullable=False),
    sa.Column('expiry_days', sa.Integer(), nullable=True),
    sa.Column('expiring_soon_days', sa.Integer(), nullable=False),
    sa.Column('tier_basis', sa.String(length=8), nullable=False),
    sa.Column('tier_window_months', sa.Integer(), nullable=True),
    sa.Column('stamps_required', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_loyalty_rules_program_id_programs')),
    sa.PrimaryKeyConstraint('program_id', name=op.f('pk_loyalty_rules'))
    )
    op.create_table('rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('points_cost', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_rewards_program_id_programs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewards'))
    )
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rewards_program_id'), ['program_id'], unique=False)

    op.create_table('tiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.Column('perks', sa.Text(), nullable=False),
    sa.Column('background_color', sa.String(length=7), nullable=True),
    sa.Column('foreground_color', sa.String(length=7), nullable=True),
    sa.Column('label_color', sa.String(length=7), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_tiers_program_id_programs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiers')),
    sa.UniqueConstraint('program_id', 'name', name=op.f('uq_tiers_program_id'))
    )
    with op.batch_alter_table('tiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tiers_program_id'), ['program_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_webhook_id'), ['webhook_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('qualifying_points', sa.Integer(), nullable=False),
    sa.Column('qualifying_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=True),
    sa.Column('cause_id', sa.Integer(), nullable=True),
    sa.Column('voids_entry_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cause_id'], ['causes.id'], name=op.f('fk_ledger_entries_cause_id_causes')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_ledger_entries_member_id_members')),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_ledger_entries_reward_id_rewards')),
    sa.ForeignKeyConstraint(['voids_entry_id'], ['ledger_entries.id'], name=op.f('fk_ledger_entries_voids_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('voids_entry_id', name=op.f('uq_ledger_entries_voids_entry_id'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_cause_id'), ['cause_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_ledger_entries_member_created', ['member_id', 'created_at'], unique=False)
        batch_op.create_index('ix_ledger_entries_open_lots', ['member_id', 'remaining'], unique=False)

    _add_member_columns()


def _add_member_columns():
    """New member columns; on SQLite the foreign keys go inline in ADD COLUMN, because a
    batch copy of the members table would drop it (cascading to its children)."""
    for name, type_ in (('tier_expires_at', sa.DateTime(timezone=True)),
                        ('referral_code', sa.String(length=16)),
                        ('referral_credited_at', sa.DateTime(timezone=True)),
                        ('birthday', sa.Date()),
                        ('birthday_bonus_year', sa.Integer())):
        op.add_column('members', sa.Column(name, type_, nullable=True))
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for column, table, fk in MEMBER_FKS:
        if sqlite:
            op.execute(f'ALTER TABLE members ADD COLUMN {column} INTEGER '
                       f'CONSTRAINT {fk} REFERENCES {table} (id)')
        else:
            op.add_column('members', sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(fk, 'members', table, [column], ['id'])
    op.create_index('ix_members_referral_code', 'members', ['referral_code'], unique=True)
    op.create_index('ix_members_tier_expires_at', 'members', ['tier_expires_at'], unique=False)


def downgrade():
    """Drop the member columns in place (SQLite >= 3.35 drops columns without copying the
    table, so its children keep their rows), then the loyalty tables."""
    op.drop_index('ix_members_tier_expires_at', table_name='members')
    op.drop_index('ix_members_referral_code', table_name='members')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for column, _table, fk in MEMBER_FKS:
        if not sqlite:
            op.drop_constraint(fk, 'members', type_='foreignkey')
        op.drop_column('members', column)
    for column in ('birthday_bonus_year', 'birthday', 'referral_credited_at',
                   'referral_code', 'tier_expires_at'):
        op.drop_column('members', column)
    for table in ('ledger_entries', 'webhook_deliveries', 'tiers', 'rewards', 'loyalty_rules',
                  'causes', 'webhooks', 'idempotency_records'):
        op.drop_table(table)
