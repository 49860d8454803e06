"""The simulation engine: parameters, programs, waveforms, metrics, battery. numpy only."""
