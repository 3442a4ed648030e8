"""The common window of one measure: every worker gets the same start and
end on CLOCK_MONOTONIC (the clock of time.monotonic_ns() and of
bench/monotonic.hpp), so all contend from their first operation to their
last and none runs alone at either end."""
import time

START_DELAY_S = 0.3  # time for the workers to start up before the common start


def common_window(seconds):
    """[START_NS, END_NS] as strings, for a worker's command line."""
    start = time.monotonic_ns() + int(START_DELAY_S * 1e9)
    return [str(start), str(start + int(seconds * 1e9))]


def sleep_until(at_ns):
    while time.monotonic_ns() < at_ns:
        time.sleep((at_ns - time.monotonic_ns()) / 1e9)
