"""Frame machinery that knows nothing of optimizers or data.

``lab`` (the :class:`~.lab.Lab` base every playing lab subclasses), ``player`` (one
asyncio task), ``clock`` (the browser acknowledges frames), ``keys`` (the keyboard),
``timeline`` (the step slider), ``timing`` (debounce / throttle on the event loop),
``decimate`` (at most 2,000 points per line).
"""
