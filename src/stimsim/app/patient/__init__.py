"""The Patient view: rehearse a programming session with the virtual patient (docs/app.md)."""
