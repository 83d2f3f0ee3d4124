"""Referral service: district referrals arrive, are deduplicated and triaged."""
