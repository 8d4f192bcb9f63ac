"""google objects remember the design key their last body was built with: a design change
that only touches what Google shows on the class marks them delivered at once, with no
call and no body rebuilt

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('google_objects') as batch:
        batch.add_column(sa.Column('design_key', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('google_objects') as batch:
        batch.drop_column('design_key')
