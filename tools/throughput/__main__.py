"""`python -m tools.throughput loader [options]`: see tools/throughput/run.py."""
import sys

from tools.throughput.run import main

if __name__ == '__main__':
    argv = sys.argv[1:]
    if not argv or argv[0] != 'loader':
        print('usage: python -m tools.throughput loader [--help]', file=sys.stderr)
        sys.exit(2)
    sys.exit(main(argv[1:]))
