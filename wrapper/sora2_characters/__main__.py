"""``python -m sora2_characters``: the command line (see ``sora2-characters --help``)."""

from sora2_characters._cli import main

if __name__ == "__main__":
    main()
