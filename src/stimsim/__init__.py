"""stimsim: a desktop simulator of a spinal cord stimulation programming system.

Three layers: ``engine`` (numpy only), ``device`` (protocol, generator, transports; no
Qt) and ``app`` (the only package importing PySide6 or pyqtgraph).
"""

__version__ = "0.1.0"
