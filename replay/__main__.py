"""``python -m replay``: run the replay server (see replay/server.py)."""

from replay.server import main

if __name__ == "__main__":
    main()
