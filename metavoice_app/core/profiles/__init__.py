"""Voice profiles: the ``.mvoice`` file format and the on-disk voice library."""
