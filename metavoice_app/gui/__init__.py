"""Qt front end: windows, widgets and the workers that run engine calls off the GUI thread.

Nothing here does model math; widgets call into ``metavoice_app.core`` only
through workers, so the event loop never waits on the engine.
"""
