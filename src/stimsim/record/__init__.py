"""The session record: what happened in a programming session, as a tamper-evident chain.

Plain Python (no numpy, no Qt): the app appends to it, ``stimsim record verify`` checks
it, ``stimsim report`` turns it into a PDF.
"""
