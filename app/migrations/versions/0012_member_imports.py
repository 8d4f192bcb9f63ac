"""e-mail list imports (stored in chunks) and the members list index

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'member_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('consent_basis', sa.Text(), nullable=False),
        sa.Column('columns', sa.JSON(), nullable=False),
        sa.Column('encoding', sa.String(length=16), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('offset', sa.Integer(), nullable=False),
        sa.Column('lines', sa.Integer(), nullable=False),
        sa.Column('header', sa.JSON(), nullable=True),
        sa.Column('processed', sa.Integer(), nullable=False),
        sa.Column('created', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('blank_lines', sa.Integer(), nullable=False),
        sa.Column('error_count', sa.Integer(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('failure', sa.Text(), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['program_id'], ['programs.id'],
                                name=op.f('fk_member_imports_program_id_programs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_imports')),
    )
    op.create_index(op.f('ix_member_imports_program_id'), 'member_imports', ['program_id'])
    op.create_table(
        'import_chunks',
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['member_imports.id'],
                                name=op.f('fk_import_chunks_import_id_member_imports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('import_id', 'seq', name=op.f('pk_import_chunks')),
    )
    op.create_index('ix_members_program_id_id', 'members', ['program_id', 'id'])


def downgrade():
    op.drop_index('ix_members_program_id_id', table_name='members')
    op.drop_table('import_chunks')
    op.drop_index(op.f('ix_member_imports_program_id'), table_name='member_imports')
    op.drop_table('member_imports')
