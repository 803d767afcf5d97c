"""Checks Web API exchanges against the community OpenAPI description of Spotify's Web API.

The description's server is `https://api.spotify.com/v1`; a recorded path keeps its `/v1`
prefix, so it maps onto that server as it is. Requests are checked when the answer was a
success (a refused request is refused precisely because it is invalid); answers are always
checked, and an error status the description does not list for an operation must still carry
the Web API's error shape. Loading the 7,500-line description takes a moment: `load()` caches it.

Four defects of the description are mended when it is loaded (see `_map_discriminators`,
`_wrap_bare_error_objects`, `_add_no_content_answers` and `_null_contexts`); everything else
is taken as written.

Needs the dev dependencies (openapi-core, PyYAML): for tests and benchmarks, not the bot.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_ENV = "ENCORE_SPOTIFY_OPENAPI"
SPEC_HOST = "https://api.spotify.com"
API_PREFIX = "/v1"
_MAX_DETAILS = 5


def default_spec_path() -> Path:
    """`$ENCORE_SPOTIFY_OPENAPI`, else `shared/spotify-openapi.yml` beside the repository."""
    configured = os.environ.get(SPEC_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "spotify-openapi.yml"


class Exchange(Protocol):
    """What is needed of a recorded request (`sandbox.spotify.RecordedRequest` fits)."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query(self) -> Mapping[str, str]: ...
    @property
    def status(self) -> int: ...
    @property
    def request_json(self) -> Any: ...
    @property
    def response_json(self) -> Any: ...


class _Request:
    def __init__(self, exchange: Exchange) -> None:
        self.host_url = SPEC_HOST
        self.path = exchange.path
        self.method = exchange.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(exchange.query.items())),
            header=Headers(),
            cookie=ImmutableMultiDict(),
        )
        has_body = exchange.request_json is not None
        self.body = json.dumps(exchange.request_json).encode() if has_body else None
        self.content_type = "application/json" if has_body else ""


class _Response:
    def __init__(self, exchange: Exchange) -> None:
        self.status_code = exchange.status
        self.headers = Headers()
        has_body = exchange.response_json is not None
        self.data = json.dumps(exchange.response_json).encode() if has_body else b""
        self.content_type = "application/json" if has_body else ""


def describe(exchange: Exchange) -> str:
    query = f"?{urlencode(dict(exchange.query))}" if exchange.query else ""
    return f"{exchange.method} {exchange.path}{query} -> {exchange.status}"


def _explain(error: BaseException) -> str:
    """A short account of a validation error (openapi-core's own text embeds whole bodies)."""
    text = str(error)
    head = text if len(text) <= 100 else type(error).__name__
    schema_errors = list(getattr(error.__cause__, "schema_errors", None) or ())
    if not schema_errors:
        return head
    details = []
    for schema_error in schema_errors[:_MAX_DETAILS]:
        leaves = list(schema_error.context or ()) or [schema_error]
        for leaf in leaves[:_MAX_DETAILS]:
            where = "/".join(str(part) for part in leaf.absolute_path) or "(value)"
            shown = repr(leaf.instance)
            message = leaf.message.replace(shown, "the value") if len(shown) > 60 else leaf.message
            details.append(f"{where}: {message[:200]}")
    return f"{head}: " + "; ".join(details[:_MAX_DETAILS])


def _map_discriminators(node: Any) -> None:
    """Give each `discriminator: {propertyName: type}` an explicit mapping.

    The description's track-or-episode unions name no mapping, so validators look for schemas
    called "track" and "episode"; the intended ones are TrackObject and EpisodeObject.
    """
    if isinstance(node, dict):
        discriminator = node.get("discriminator")
        if isinstance(discriminator, dict) and "mapping" not in discriminator:
            refs = [choice["$ref"] for choice in node.get("oneOf", ()) if "$ref" in choice]
            discriminator["mapping"] = {
                ref.rsplit("/", 1)[-1].removesuffix("Object").lower(): ref for ref in refs
            }
        for value in node.values():
            _map_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            _map_discriminators(value)


def _wrap_bare_error_objects(spec: dict[str, Any]) -> None:
    """Give `/me/library`'s 400 answers the `{"error": ErrorObject}` envelope.

    Those answers point at ErrorObject directly, unlike every other error answer in the
    description and unlike the service, which always wraps its errors.
    """
    bare = {"$ref": "#/components/schemas/ErrorObject"}
    for operations in spec["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for answer in operation.get("responses", {}).values():
                media = answer.get("content", {}).get("application/json", {})
                if media.get("schema") == bare:
                    media["schema"] = {
                        "type": "object",
                        "required": ["error"],
                        "properties": {"error": bare},
                    }


NO_CONTENT_OPERATIONS = (("/me/player/currently-playing", "get"), ("/me/player", "get"))


def _add_no_content_answers(spec: dict[str, Any]) -> None:
    """List the 204 that the player reads answer when nothing plays.

    Spotify documents "204 No Content" for them in prose; the description lists only 200.
    """
    for path, method in NO_CONTENT_OPERATIONS:
        answers = spec["paths"][path][method]["responses"]
        answers.setdefault("204", {"description": "Nothing is playing."})


def _null_contexts(spec: dict[str, Any]) -> None:
    """Let the `context` of a play be null, as Spotify sends it for a track played outside an
    album, artist, playlist or show (the description says "Can be `null`" for
    CurrentlyPlayingObject, yet its schema, like PlayHistoryObject's, refuses null)."""
    schemas = spec["components"]["schemas"]
    for name in ("CurrentlyPlayingObject", "PlayHistoryObject"):
        properties = schemas[name]["properties"]
        properties["context"] = {
            "anyOf": [properties["context"], {"nullable": True, "enum": [None]}]
        }


class SpotifyOpenApi:
    def __init__(self, spec: dict[str, Any]) -> None:
        _map_discriminators(spec)
        _wrap_bare_error_objects(spec)
        _add_no_content_answers(spec)
        _null_contexts(spec)
        self._api = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
        error_object = spec["components"]["schemas"]["ErrorObject"]
        self._error_shape = OAS30Validator(
            {"type": "object", "required": ["error"], "properties": {"error": error_object}}
        )
        self._passed: set[str] = set()

    @classmethod
    def load(cls, path: Path | None = None) -> SpotifyOpenApi:
        return _load(str((path or default_spec_path()).resolve()))

    def problems(self, exchange: Exchange) -> list[str]:
        """What is wrong with one exchange; empty when it conforms (or is not a Web API call)."""
        if not exchange.path.startswith(API_PREFIX + "/") or not exchange.status:
            return []  # another service, or a request that never got an answer
        key = json.dumps(
            [
                exchange.method,
                exchange.path,
                sorted(exchange.query.items()),
                exchange.status,
                exchange.request_json,
                exchange.response_json,
            ],
            sort_keys=True,
        )
        if key in self._passed:
            return []
        request, response = _Request(exchange), _Response(exchange)
        found = []
        with warnings.catch_warnings():
            # openapi-core does not check OAuth 2 security schemes and says so every time.
            warnings.simplefilter("ignore", UserWarning)
            if 200 <= exchange.status < 300:
                try:
                    self._api.validate_request(request)
                except OpenAPIError as error:
                    found.append(f"request: {_explain(error)}")
            try:
                self._api.validate_response(request, response)
            except (ResponseNotFound, PathError) as error:
                if exchange.status < 400:
                    found.append(f"response: {_explain(error)}")
                else:
                    found.extend(self._error_shape_problems(exchange.response_json))
            except OpenAPIError as error:
                found.append(f"response: {_explain(error)}")
        if not found:
            self._passed.add(key)
        return found

    def _error_shape_problems(self, body: Any) -> list[str]:
        return [
            f"error body: {'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in self._error_shape.iter_errors(body)
        ]

    def check(self, exchanges: Iterable[Exchange]) -> list[str]:
        """One line per problem, naming the exchange: `GET /v1/me -> 200: response: ...`."""
        return [
            f"{describe(exchange)}: {problem}"
            for exchange in exchanges
            for problem in self.problems(exchange)
        ]


@lru_cache(maxsize=2)
def _load(path: str) -> SpotifyOpenApi:
    try:
        with open(path, encoding="utf-8") as source:
            spec = yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Spotify's OpenAPI description is not at {path}; set {SPEC_ENV} to its location"
        ) from None
    return SpotifyOpenApi(spec)
