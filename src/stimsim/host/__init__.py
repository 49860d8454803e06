"""The host side: the client a desktop app talks to a generator through, its results and errors."""
