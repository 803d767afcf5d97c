"""The reading child of an import (see `bot.services.imports.child`)."""

import sys

from bot.services.imports.child import serve

serve(sys.stdin.buffer, sys.stdout.buffer)
