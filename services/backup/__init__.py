"""Backups that restore: the databases copied consistently while the radar writes, the key files
apart from them, and a restored radar that refuses to serve without the keys its data needs."""
