"""pages for customers: signup fields per program, signup attempts (rate limit), and the
legacy JSON locations moved into store_locations rows

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('programs') as batch:
        batch.add_column(sa.Column('signup_fields', sa.JSON(), nullable=True))
    op.create_table(
        'signup_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['program_id'], ['programs.id'],
                                name=op.f('fk_signup_attempts_program_id_programs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signup_attempts')),
    )
    op.create_index('ix_signup_attempts_client', 'signup_attempts',
                    ['program_id', 'client', 'created_at'])
    op.create_index(op.f('ix_signup_attempts_created_at'), 'signup_attempts', ['created_at'])
    _move_json_locations()


def _move_json_locations():
    """Each program's legacy JSON locations become store_locations rows; the JSON empties."""
    conn = op.get_bind()
    programs = sa.table('programs', sa.column('id', sa.Integer()),
                        sa.column('locations', sa.JSON()))
    rows = sa.table('store_locations', sa.column('program_id', sa.Integer()),
                    sa.column('name', sa.String()), sa.column('address', sa.String()),
                    sa.column('latitude', sa.Float()), sa.column('longitude', sa.Float()),
                    sa.column('relevant_text', sa.String()),
                    sa.column('created_at', sa.DateTime(timezone=True)))
    now = sa.func.current_timestamp()
    for program_id, places in conn.execute(sa.select(programs.c.id, programs.c.locations)):
        if not places:
            continue
        for number, place in enumerate(places[:10], start=1):
            text = (place.get('relevant_text') or '')[:200]
            conn.execute(rows.insert().values(
                program_id=program_id, name=(text or f'Location {number}')[:200], address='',
                latitude=float(place['latitude']), longitude=float(place['longitude']),
                relevant_text=text, created_at=now))
        conn.execute(programs.update().where(programs.c.id == program_id).values(locations=[]))


def downgrade():
    op.drop_index(op.f('ix_signup_attempts_created_at'), table_name='signup_attempts')
    op.drop_index('ix_signup_attempts_client', table_name='signup_attempts')
    op.drop_table('signup_attempts')
    with op.batch_alter_table('programs') as batch:
        batch.drop_column('signup_fields')
