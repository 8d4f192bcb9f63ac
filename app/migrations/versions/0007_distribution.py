"""store locations, consent records, and how a member came (phone, source, location)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'store_locations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('address', sa.String(length=500), nullable=False),
        sa.Column('latitude', sa.Float(), nullable=False),
        sa.Column('longitude', sa.Float(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=True),
        sa.Column('relevant_text', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['program_id'], ['programs.id'],
                                name=op.f('fk_store_locations_program_id_programs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_store_locations')),
    )
    op.create_index(op.f('ix_store_locations_program_id'), 'store_locations', ['program_id'])
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('source', sa.String(length=16), nullable=False,
                                   server_default='api'))
        batch.add_column(sa.Column('location_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('marketing_consent', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_foreign_key(op.f('fk_members_location_id_store_locations'),
                                 'store_locations', ['location_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index(op.f('ix_members_location_id'), ['location_id'])
    op.create_table(
        'consent_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('granted', sa.Boolean(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                                name=op.f('fk_consent_records_member_id_members'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['location_id'], ['store_locations.id'],
                                name=op.f('fk_consent_records_location_id_store_locations'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records')),
    )
    op.create_index(op.f('ix_consent_records_member_id'), 'consent_records', ['member_id'])


def downgrade():
    op.drop_index(op.f('ix_consent_records_member_id'), table_name='consent_records')
    op.drop_table('consent_records')
    with op.batch_alter_table('members') as batch:
        batch.drop_index(op.f('ix_members_location_id'))
        batch.drop_constraint(op.f('fk_members_location_id_store_locations'),
                              type_='foreignkey')
        batch.drop_column('marketing_consent')
        batch.drop_column('location_id')
        batch.drop_column('source')
        batch.drop_column('phone')
    op.drop_index(op.f('ix_store_locations_program_id'), table_name='store_locations')
    op.drop_table('store_locations')
