"""The ECAP view: the closed-loop clinician screen of an SCS-CL stimulator."""
