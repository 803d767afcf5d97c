"""Errors the services raise for conditions a member can act on."""


class ServiceError(Exception):
    """Base of every error the services raise on purpose."""


class NotLinked(ServiceError):
    """The invoking member has not linked a Spotify account."""


class LinkBroken(ServiceError):
    """The member's stored link can no longer be used (tokens refused or unreadable)."""


class MemberHidden(ServiceError):
    """The member asked about keeps their Spotify activity private in this server."""


class MemberNotLinked(ServiceError):
    """The member asked about has not linked a Spotify account."""


class InvalidInput(ServiceError):
    """An option value the member gave cannot be used; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
