"""kwshost: the host side of the EFR32xG24 wake-word system.

Heavy libraries (TensorFlow, matplotlib) are imported lazily inside the commands that need
them, so `kwshost info` and `kwshost flash` start instantly.
"""

__version__ = "0.1.0"
