"""kwshost info: who is on the other end of a serial port."""

from __future__ import annotations

import argparse
import json

from kwshost.cli._args import baud_rate, seconds
from kwshost.errors import KwsError
from kwshost.link import DEFAULT_BAUD, Link

NAME = "info"
HELP = "print the firmware banner and protocol version of a device on a serial port"
DESCRIPTION = """\
Opens a serial link, asks the firmware who it is, and prints its banner.

PORT is a pyserial URL: a device path (/dev/ttyACM0 for the BRD2601B's VCOM), a pty, or
socket://127.0.0.1:PORT for the emulated board that `kwshost flash --target qemu` starts.

examples:
  kwshost info --port /dev/ttyACM0
  kwshost info --port socket://127.0.0.1:4321 --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", "-p", metavar="URL", help="serial port or pyserial URL")
    parser.add_argument("--baud", type=baud_rate, default=DEFAULT_BAUD,
                        help="baud rate (default %(default)s)")
    parser.add_argument("--timeout", type=seconds, default=3.0, metavar="S",
                        help="seconds to wait for the port and for an answer "
                             "(default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    if not args.port:
        raise KwsError("no port given", hint="kwshost info --port /dev/ttyACM0 (or the socket:// "
                                             "URL printed by `kwshost flash --target qemu`)")
    # An emulated board started a moment ago may not listen yet: retry within the timeout.
    with Link(args.port, baud=args.baud, connect_timeout=args.timeout) as link:
        info = link.hello(timeout=args.timeout)
    if args.json:
        print(json.dumps({"port": args.port, "protocol_version": info.protocol_version,
                          "banner": info.banner}))
    else:
        print(f"port:     {args.port}")
        print(f"firmware: {info.banner}")
        print(f"protocol: version {info.protocol_version}")
    info.check_protocol(args.port)  # shown above; anything else would misread its frames
    return 0
