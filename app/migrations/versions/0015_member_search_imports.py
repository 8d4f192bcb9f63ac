"""members found by any part of their name, e-mail or phone (a trigram index: pg_trgm on
PostgreSQL, an FTS5 trigram table on SQLite, where the database has them), and the import
that enrolled each member (its welcome mails are counted by it)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

from app.members import search


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('import_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_members_import_id_member_imports'),
                                 'member_imports', ['import_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index(op.f('ix_members_import_id'), ['import_id'])
    search.install(op.get_bind())  # after the batch above: it would drop SQLite's triggers


def downgrade():
    search.uninstall(op.get_bind())
    with op.batch_alter_table('members') as batch:
        batch.drop_index(op.f('ix_members_import_id'))
        batch.drop_constraint(op.f('fk_members_import_id_member_imports'), type_='foreignkey')
        batch.drop_column('import_id')
