"""Notifications: email through Django's backends, chat through an incoming webhook."""
