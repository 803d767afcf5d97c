"""Queries: functions that take a session and read or write tables. Use cases that open sessions
and orchestrate live in bot/services/."""
