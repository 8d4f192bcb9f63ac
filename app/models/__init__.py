"""Typed SQLAlchemy models, one file per aggregate."""

from app.models.member import Member
from app.models.merchant import ApiKey, Merchant
from app.models.program import Program, ProgramImage

__all__ = ["ApiKey", "Member", "Merchant", "Program", "ProgramImage"]
