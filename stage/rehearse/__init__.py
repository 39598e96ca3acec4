"""Load rehearsal: simulated phones that speak the real protocol, timed, so a crew knows the night
will hold before doors open (``stage rehearse``). Imports no Flask and no server code."""
