"""The clinician programmer: login, slots, the program editor, electrodes, safety, test and save."""
