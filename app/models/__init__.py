"""Typed SQLAlchemy models, one file per aggregate."""

from app.models.account import Invitation, LoginFailure, Membership, User
from app.models.analytics import (
    DailyActive,
    DailyCards,
    DailyDonations,
    DailyPoints,
    DailySignups,
    MemberMilestones,
    RollupState,
)
from app.models.card_event import CardEvent
from app.models.device import AppleDevice, AppleRegistration
from app.models.google import GoogleCallback, GoogleClass, GoogleObject, GoogleQuota
from app.models.location import SignupAttempt, StoreLocation
from app.models.loyalty import Cause, IdempotencyRecord, LedgerEntry, LoyaltyRules, Reward, Tier
from app.models.mail import MailDelivery, MailSuppression, RateLimit
from app.models.member import ConsentRecord, Member
from app.models.member_import import ImportChunk, MemberImport
from app.models.merchant import ApiKey, Merchant
from app.models.outbox import OutboxEvent
from app.models.program import Program, ProgramImage
from app.models.webhook import Webhook, WebhookDelivery

__all__ = ["ApiKey", "AppleDevice", "AppleRegistration", "Member", "Merchant", "Program",
           "ProgramImage"]
__all__ += ["Cause", "IdempotencyRecord", "LedgerEntry", "LoyaltyRules", "OutboxEvent",
            "Reward", "Tier", "Webhook", "WebhookDelivery"]
__all__ += ["GoogleCallback", "GoogleClass", "GoogleObject", "GoogleQuota"]
__all__ += ["CardEvent", "ConsentRecord", "SignupAttempt", "StoreLocation"]
__all__ += ["MailDelivery", "MailSuppression", "RateLimit"]
__all__ += ["Invitation", "LoginFailure", "Membership", "User"]
__all__ += ["ImportChunk", "MemberImport"]
__all__ += ["DailyActive", "DailyCards", "DailyDonations", "DailyPoints", "DailySignups",
            "MemberMilestones", "RollupState"]
