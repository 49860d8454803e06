"""The app's files and records: program files, the session record and its viewer, the PDF
report, autosave and recovery. Device I/O goes through the Controller, never from here."""
