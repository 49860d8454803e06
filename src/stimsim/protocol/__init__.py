"""What the host and the generator share: line codec, limits, login proof, program
arguments on the wire, and opening transports by URL."""
