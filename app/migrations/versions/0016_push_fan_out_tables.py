"""pages of members and Apple registrations half full on PostgreSQL (fillfactor 50), and
no index on a registration's next attempt: a program-wide change's version bump and the
push sweep's claim of each registration then rewrite rows in place (HOT updates) instead
of adding an entry to every index of the table (the members' search trigram index
included); the sweep never looked registrations up by their next attempt

Only pages written from now on are kept half full: on a database with many rows already,
``VACUUM FULL members, apple_registrations`` (it locks the tables while it runs) rewrites
the others.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

TABLES = ('members', 'apple_registrations')


def upgrade():
    op.drop_index('ix_apple_registrations_next_attempt_at', table_name='apple_registrations')
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(sa.text(f'ALTER TABLE {table} SET (fillfactor = 50)'))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(sa.text(f'ALTER TABLE {table} RESET (fillfactor)'))
    op.create_index('ix_apple_registrations_next_attempt_at', 'apple_registrations',
                    ['next_attempt_at'])
