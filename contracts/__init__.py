"""Versioned event contracts shared by publishers and the radar.

A contract is the only thing publishing organisations and the radar share. It never carries a
plain identifier: households and persons appear only as keyed pseudonyms.
"""
